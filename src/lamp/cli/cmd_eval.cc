// lamp eval: score predictions against golds with the official metrics (eval_task.py and
// eval_all.py). Prints one JSON object on stdout and, with --out, writes it to a file.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "lamp/cli/commands.h"
#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/data/json_io.h"
#include "lamp/data/zip.h"
#include "lamp/metrics/evaluate.h"

namespace lamp::cli {
namespace {

struct EvalArgs {
  std::string task, golds, preds, golds_zip, preds_zip, out;
  EvalOptions options;
};

void print_notes(const EvalReport& report) {
  for (const std::string& note : report.notes) {
    std::fprintf(stderr, "lamp: note: %s: %s\n", std::string(report.task->name).c_str(),
                 note.c_str());
  }
}

std::vector<Outputs> read_zip_outputs(const std::string& path) {
  std::vector<Outputs> files;
  for (const ZipEntry& entry : read_zip_json_entries(path)) {
    files.push_back(parse_outputs(entry.bytes, path + ":" + entry.name));
  }
  return files;
}

const TaskSpec& choose_task(const EvalArgs& args, const Outputs& golds, const Outputs& preds) {
  if (!args.task.empty()) {
    const TaskSpec& task = find_task(args.task);
    // The official evaluate_task() asserts that the predictions are for the named task.
    for (const Outputs* file : {&golds, &preds}) {
      if (!file->task.empty() && file->task != task.eval_name) {
        throw Error(Location{.file = file->source},
                    fmt::format("the file is for {}, not {}", file->task, task.name));
      }
    }
    return task;
  }
  for (const Outputs* file : {&golds, &preds}) {
    if (!file->task.empty()) return task_of_outputs(file->task, golds);
  }
  throw Error("neither file names its task: pass --task LaMP_N");
}

void run_eval(const EvalArgs& args) {
  JsonWriter w;
  if (!args.golds_zip.empty()) {
    std::vector<EvalReport> reports = evaluate_all(read_zip_outputs(args.golds_zip),
                                                   read_zip_outputs(args.preds_zip), args.options);
    w.begin_object();
    for (const EvalReport& report : reports) {
      print_notes(report);
      w.key(report.task->eval_name);
      write_report(w, report, args.options);
    }
    w.end_object();
  } else {
    Outputs golds = read_outputs(args.golds);
    Outputs preds = read_outputs(args.preds);
    EvalReport report = evaluate(choose_task(args, golds, preds), golds, preds, args.options);
    print_notes(report);
    write_report(w, report, args.options);
  }
  std::printf("%s\n", w.str().c_str());
  if (!args.out.empty()) write_file_atomic(args.out, w.str() + "\n");
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd =
      app.add_subcommand("eval", "Score predictions against golds with the official LaMP metrics");
  cmd->add_option("--task", args->task, "LaMP-N or LaMP_N (default: the files' \"task\")");
  auto* golds =
      cmd->add_option("--golds", args->golds, "Gold outputs file")->check(CLI::ExistingFile);
  auto* preds =
      cmd->add_option("--preds", args->preds, "Predictions file")->check(CLI::ExistingFile);
  auto* golds_zip = cmd->add_option("--golds-zip", args->golds_zip, "Zip of gold files, all tasks")
                        ->check(CLI::ExistingFile);
  auto* preds_zip = cmd->add_option("--preds-zip", args->preds_zip, "Zip of prediction files")
                        ->check(CLI::ExistingFile);
  golds->needs(preds);
  preds->needs(golds);
  golds_zip->needs(preds_zip);
  preds_zip->needs(golds_zip);
  golds->excludes(golds_zip);
  preds->excludes(preds_zip);
  cmd->add_option("--out", args->out, "Also write the JSON result here");
  cmd->add_option("--bootstrap", args->options.bootstrap.resamples,
                  "ROUGE bootstrap resamples for the 95% interval (0: none)")
      ->capture_default_str();
  cmd->add_option("--seed", args->options.bootstrap.seed, "Bootstrap seed")->capture_default_str();
  cmd->callback([args, golds, golds_zip] {
    if (golds->count() == 0 && golds_zip->count() == 0) {
      throw Error("give --golds G --preds P, or --golds-zip G.zip --preds-zip P.zip");
    }
    run_eval(*args);
  });
}

}  // namespace lamp::cli
