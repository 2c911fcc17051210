// lamp run: the paper's experiment grid for one task in one command (pipeline/run.h does the
// work, pipeline/report.h writes the reports). Settings come from the flags and, for flags not
// given, from --config run.toml (cli/run_config.h). The results table goes to stdout; progress,
// what came from the cache, and notes go to stderr.
//
// Test hook: with LAMP_TEST_KILL_AFTER_CELLS=N in the environment the process SIGKILLs itself
// once N cells are written, so tests can resume a run that died without any clean-up.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "lamp/cli/commands.h"
#include "lamp/cli/dense_ranker.h"
#include "lamp/cli/run_config.h"
#include "lamp/cli/run_models.h"
#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/progress.h"
#include "lamp/nn/hub.h"
#include "lamp/pipeline/report.h"
#include "lamp/pipeline/run.h"

namespace lamp::cli {
namespace {

struct RunArgs {
  std::string config, task, data, split = "dev", out, cache, tokenizer;
  std::vector<std::string> retrievers = {"none", "random", "recency", "bm25"};
  std::vector<int> ks = {1, 2, 4};
  RankOptions rank;
  DenseRankerFlags dense;
  RunModelFlags model;
  bool quiet = false;
  std::vector<std::string> argv;
};

void run(CLI::App& cmd, RunArgs& args) {
  if (!args.config.empty()) {
    apply_run_config(cmd, parse_run_config(read_file(args.config), args.config), args.config);
  }
  for (const char* name : {"--data", "--out", "--model"}) {
    if (cmd.get_option(name)->count() == 0)
      throw Error(fmt::format("lamp run needs {} (on the command line or in --config)", name));
  }
  std::filesystem::path data(args.data);
  RunConfig config;
  config.task = args.task.empty() ? nullptr : &find_task(args.task);
  config.questions = data / (args.split + "_questions.json");
  if (!std::filesystem::exists(config.questions)) {
    throw Error(Location{.file = config.questions.string()},
                fmt::format("no questions file for split \"{}\" in {}", args.split, args.data));
  }
  std::filesystem::path golds = data / (args.split + "_outputs.json");
  if (std::filesystem::exists(golds)) {
    config.golds = golds;
  } else if (!args.quiet) {
    std::fprintf(stderr, "lamp: note: no %s: predictions only, no metrics\n", golds.c_str());
  }
  config.split = args.split;
  config.retrievers = args.retrievers;
  config.ks = args.ks;
  config.rank = args.rank;
  config.out_dir = args.out;
  config.cache_dir =
      args.cache.empty() ? config.out_dir / "cache" : std::filesystem::path(args.cache);
  config.model_name = args.model.model;
  config.max_length = args.model.seq2seq.max_input_length;
  config.log = args.quiet ? nullptr : stderr;
  config.progress = progress_wanted(args.quiet);

  args.model.threads = args.rank.threads;
  args.model.cache_dir = config.cache_dir / "openai";
  RunModel model = make_run_model(args.model);
  config.tokenizer = !args.tokenizer.empty()    ? std::filesystem::path(args.tokenizer)
                     : !model.tokenizer.empty() ? model.tokenizer
                                                : std::filesystem::path(LAMP_BUNDLED_TOKENIZER);
  if (config.tokenizer == LAMP_BUNDLED_TOKENIZER && !std::filesystem::exists(config.tokenizer)) {
    throw Error(fmt::format(
        "the Flan-T5 tokenizer lamp was built with is no longer at {} (the source tree moved): "
        "give the prompts' tokenizer with --tokenizer DIR",
        config.tokenizer.string()));
  }

  std::optional<DenseRanker> dense;
  for (const std::string& r : config.retrievers) {
    if (r != "contriever") continue;
    config.dense_identity = fmt::format("{}|max_length=512{}",
                                        model_files_identity(nn::resolve_model(args.dense.model)),
                                        nn::compute_type_key(args.dense.compute_type, '|'));
    config.attach_dense = [&](RankOptions& options) { dense.emplace(args.dense, options); };
  }
  if (const char* kill = std::getenv("LAMP_TEST_KILL_AFTER_CELLS")) {
    std::size_t after = std::strtoul(kill, nullptr, 10);
    config.after_cell = [after](std::size_t done) {
      if (done == after) std::raise(SIGKILL);
    };
  }
  std::filesystem::create_directories(config.out_dir);
  RunResult result = run_grid(config, *model.predictor);
  if (dense && !args.quiet) dense->report();
  write_reports(config, result,
                {.lamp_version = LAMP_VERSION,
                 .model_identity = model.predictor->identity(),
                 .command = args.argv});
  for (const std::string& note : result.notes)
    std::fprintf(stderr, "lamp: note: %s\n", note.c_str());
  std::size_t cached = 0;
  for (const CellResult& cell : result.cells)
    cached += cell.ranking_cached + cell.prompts_cached + cell.outputs_cached ==
              (cell.retriever == "none" ? 2 : 3);
  if (!args.quiet) {
    std::fprintf(stderr,
                 "lamp: %s: %zu cells, %zu entirely from the cache (%s), %.2f s; wrote "
                 "%s/results.md, results.json, results.svg, manifest.json\n",
                 std::string(result.task->name).c_str(), result.cells.size(), cached,
                 config.cache_dir.c_str(), result.seconds, config.out_dir.c_str());
  }
  std::fputs(results_markdown(config, result).c_str(), stdout);
}

}  // namespace

void add_run_command(CLI::App& app, int argc, char** argv) {
  auto args = std::make_shared<RunArgs>();
  args->argv.assign(argv, argv + argc);
  CLI::App* cmd = app.add_subcommand(
      "run",
      "The paper's grid for one task: rank, prompt, predict and evaluate every retriever "
      "and k, with caching, tables and a plot");
  cmd->add_option("--config", args->config, "TOML file with any of these settings (flags win)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--task", args->task, "LaMP-N (default: recognised from the inputs)");
  cmd->add_option("--data", args->data,
                  "Folder with SPLIT_questions.json (and SPLIT_outputs.json)");
  cmd->add_option("--split", args->split, "File name prefix: dev, train, test")
      ->capture_default_str();
  cmd->add_option("--retrievers", args->retrievers,
                  "Comma-separated: none, random, recency, bm25, contriever")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--k", args->ks, "Comma-separated numbers of retrieved items")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Run folder for predictions, results and the plot");
  cmd->add_option("--cache", args->cache, "Cache folder (default: OUT/cache)");
  cmd->add_option("--tokenizer", args->tokenizer,
                  "Prompt tokenizer (default: the model's; the bundled Flan-T5 one for baselines "
                  "and openai:)");
  cmd->add_option("--seed", args->rank.seed, "Seed of the random retriever")->capture_default_str();
  cmd->add_flag("--use-date", args->rank.use_date,
                "BM25 and Contriever documents end with \" date: D\"");
  cmd->add_flag("--official-random", args->rank.official_random,
                "Random retriever draws with replacement");
  cmd->add_option("--threads", args->rank.threads, "Threads (0: all cores)")->capture_default_str();
  cmd->add_flag("--quiet", args->quiet, "No progress bars or log lines, only the table");
  add_run_model_flags(*cmd, args->model);
  add_dense_ranker_flags(*cmd, args->dense);
  cmd->callback([cmd, args] { run(*cmd, *args); });
}

}  // namespace lamp::cli
