// lamp merge: utils/merge_with_rank.py. Each profile reordered by a ranking file, each sample
// with its gold output, written as one questions-format file.
#include <cstdio>
#include <memory>

#include "lamp/cli/commands.h"
#include "lamp/core/error.h"
#include "lamp/data/json_io.h"
#include "lamp/data/merge.h"

namespace lamp::cli {
namespace {

struct MergeArgs {
  std::string task, questions, outputs, ranking, out;
};

}  // namespace

void add_merge_command(CLI::App& app) {
  auto args = std::make_shared<MergeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "merge", "Reorder profiles by a ranking and attach the outputs (merge_with_rank.py)");
  cmd->add_option("--task", args->task, "LaMP-N or LaMP_N (default: recognised from the inputs)");
  cmd->add_option("--questions", args->questions, "Questions file")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--outputs", args->outputs, "Outputs (golds) file")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--ranking", args->ranking,
                  "Ranking file from lamp rank (default: keep the order)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Merged file to write")->required();
  cmd->callback([args] {
    const TaskSpec* task = args->task.empty() ? nullptr : &find_task(args->task);
    Questions questions = read_questions(args->questions, task);
    Outputs outputs = read_outputs(args->outputs);
    std::vector<std::string_view> merged_outputs = outputs_by_sample(questions, outputs);
    if (!args->ranking.empty()) {
      locate_errors_in(args->ranking,
                       [&] { apply_ranking(questions, read_ranking(args->ranking)); });
    }
    write_questions(args->out, questions, merged_outputs);
    std::fprintf(stderr, "lamp: merged %zu samples into %s\n", questions.size(), args->out.c_str());
  });
}

}  // namespace lamp::cli
