// lamp prompt: prompts.py's personalized prompts for every sample, as JSON lines
// {"id", "prompt"}. The profile is ranked by --ranker (or taken in file order with --ranked) and
// its first k items are packed under the token budget of --max-length.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "lamp/cli/commands.h"
#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/core/threads.h"
#include "lamp/data/json_io.h"
#include "lamp/prompt/prompt.h"
#include "lamp/retrieval/retriever.h"

namespace lamp::cli {
namespace {

struct PromptArgs {
  std::string task, ranker, questions, tokenizer, out;
  bool ranked = false, no_profile = false;
  int k = 1, max_length = 512;
  RankOptions rank;
};

// The first k items of each sample's profile in prompt order.
std::vector<std::vector<ProfileItem>> select_items(const Questions& questions,
                                                   const PromptArgs& args) {
  std::vector<SampleRanking> rankings;
  if (!args.ranked) rankings = rank_profiles(questions, args.rank);
  std::vector<std::vector<ProfileItem>> selected(questions.size());
  for (std::size_t i = 0; i < questions.size(); ++i) {
    auto profile = questions.profile(questions.samples()[i]);
    std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(args.k), profile.size());
    for (std::size_t j = 0; j < k; ++j) {
      selected[i].push_back(profile[args.ranked ? j : rankings[i].order[j]]);
    }
  }
  return selected;
}

void run_prompt(const PromptArgs& args) {
  const TaskSpec* task = args.task.empty() ? nullptr : &find_task(args.task);
  Questions questions = read_questions(args.questions, task);
  std::vector<Prompt> prompts(questions.size());
  if (args.no_profile) {
    for (std::size_t i = 0; i < questions.size(); ++i)
      prompts[i].text = questions.samples()[i].input;
  } else {
    text::T5Tokenizer tokenizer = text::T5Tokenizer::load(args.tokenizer);
    std::vector<std::vector<ProfileItem>> selected =
        locate_errors_in(args.questions, [&] { return select_items(questions, args); });
    PromptBuilder builder(questions.task(), tokenizer, args.max_length);
    parallel_for(questions.size(), args.rank.threads, [&](std::size_t i, int) {
      prompts[i] = builder.build(questions.samples()[i].input, selected[i]);
    });
  }
  AtomicFile file(args.out);
  std::size_t bare = 0;
  for (std::size_t i = 0; i < questions.size(); ++i) {
    JsonWriter line;
    line.begin_object()
        .key("id")
        .value(questions.samples()[i].id)
        .key("prompt")
        .value(prompts[i].text)
        .end_object();
    file.write(line.str());
    file.write("\n");
    bare += prompts[i].bare_input;
  }
  file.commit();
  if (bare > 0) {
    std::fprintf(stderr,
                 "lamp: note: %zu of %zu prompts are the bare input: the profile did not fit the "
                 "%d-token budget at any factor (the official code drops it silently)\n",
                 bare, questions.size(), args.max_length);
  }
  std::fprintf(stderr, "lamp: wrote %zu prompts to %s\n", questions.size(), args.out.c_str());
}

}  // namespace

void add_prompt_command(CLI::App& app) {
  auto args = std::make_shared<PromptArgs>();
  CLI::App* cmd =
      app.add_subcommand("prompt", "Build personalized prompts (prompts.py) as JSON lines");
  cmd->add_option("--task", args->task, "LaMP-N or LaMP_N (default: recognised from the inputs)");
  cmd->add_option("--questions", args->questions, "Questions file")
      ->required()
      ->check(CLI::ExistingFile);
  auto* ranker = cmd->add_option("--ranker", args->ranker, "bm25, recency or random");
  auto* ranked =
      cmd->add_flag("--ranked", args->ranked, "The profiles are already ranked (is_ranked)");
  auto* none = cmd->add_flag("--no-profile", args->no_profile, "Write the bare inputs");
  ranker->excludes(ranked)->excludes(none);
  ranked->excludes(none);
  cmd->add_option("--k", args->k, "Profile items per prompt")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-length", args->max_length, "Model input length in tokens")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--tokenizer", args->tokenizer, "Model folder or tokenizer.json (T5 / Flan-T5)");
  cmd->add_option("--out", args->out, "JSON lines to write")->required();
  cmd->add_flag("--use-date", args->rank.use_date, "BM25 documents end with \" date: D\"");
  cmd->add_option("--seed", args->rank.seed, "Seed of the random ranker")->capture_default_str();
  cmd->add_flag("--official-random", args->rank.official_random,
                "Random ranker draws with replacement");
  cmd->add_option("--threads", args->rank.threads, "Threads (0: all cores)")->capture_default_str();
  cmd->callback([args, ranker, ranked, none] {
    if (ranker->count() + ranked->count() + none->count() == 0) {
      throw Error(
          "choose the profile items: --ranker bm25|recency|random, --ranked or --no-profile");
    }
    if (!args->no_profile && args->tokenizer.empty()) throw Error("--tokenizer DIR is required");
    if (ranker->count() > 0) args->rank.ranker = parse_ranker(args->ranker);
    run_prompt(*args);
  });
}

}  // namespace lamp::cli
