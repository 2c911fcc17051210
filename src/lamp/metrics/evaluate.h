// `lamp eval`: eval/eval_task.py and eval/eval_all.py in one place. Predictions and golds are
// matched by id (for duplicate ids the last record wins, as in the official dicts); the two id
// sets must be equal. The task's registry row picks the metric; the report carries the official
// keys ("accuracy", "f1" | "MAE", "RMSE" | "rouge-1", "rouge-L") plus lamp's extras.
//
// Where the official code crashes (mismatched ids, NaN ratings, ...) evaluate() throws
// lamp::Error naming the offending ids instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lamp/core/json_writer.h"
#include "lamp/data/dataset.h"
#include "lamp/data/task.h"
#include "lamp/metrics/metric.h"
#include "lamp/metrics/rouge.h"

namespace lamp {

struct EvalOptions {
  BootstrapOptions bootstrap;
};

struct EvalReport {
  const TaskSpec* task = nullptr;
  std::size_t examples = 0;
  // Official keys first, in the official order.
  std::vector<std::pair<std::string, double>> metrics;
  std::vector<std::pair<std::string, Interval>> intervals;  // ROUGE bootstrap intervals
  // Things a researcher should know (duplicates, unparsable predictions, labels outside the
  // label set); the CLI prints them on stderr.
  std::vector<std::string> notes;
};

// An outputs file's id -> output with the last record winning (the official dicts' rule), plus
// the ids in first-seen order. Views into `outputs`, which must outlive it.
struct IdIndex {
  explicit IdIndex(const Outputs& outputs);
  std::unordered_map<std::string_view, std::string_view> output;
  std::vector<std::string_view> order;
  std::size_t duplicates = 0;
};

EvalReport evaluate(const TaskSpec& task, const Outputs& golds, const Outputs& predictions,
                    const EvalOptions& options);

// The task an outputs file's "task" value names. "LaMP_2" is movie tagging unless every gold
// is a news category and some is not a movie tag: then it is the older LaMP-2N.
const TaskSpec& task_of_outputs(const std::string& eval_name, const Outputs& golds);

// eval_all.py: golds and predictions for all seven tasks (one outputs file per task, each with
// its "task"); every task must have predictions. Reports come in task order.
std::vector<EvalReport> evaluate_all(const std::vector<Outputs>& golds,
                                     const std::vector<Outputs>& predictions,
                                     const EvalOptions& options);

// {"accuracy": ..., "f1": ...} or the ROUGE keys with "<key>_bootstrap": {low, mid, high}.
void write_report(JsonWriter& w, const EvalReport& report, const EvalOptions& options);

}  // namespace lamp
