#include "lamp/metrics/evaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "lamp/core/error.h"
#include "lamp/metrics/classification.h"
#include "lamp/metrics/regression.h"
#include "lamp/text/python_str.h"

namespace lamp {
namespace {

std::vector<ScoredPair> match_by_id(const Outputs& golds, const Outputs& predictions,
                                    EvalReport& report) {
  IdIndex gold(golds), pred(predictions);
  std::vector<std::string_view> missing, extra;
  for (std::string_view id : gold.order) {
    if (!pred.output.contains(id)) missing.push_back(id);
  }
  for (std::string_view id : pred.order) {
    if (!gold.output.contains(id)) extra.push_back(id);
  }
  if (!missing.empty() || !extra.empty()) {
    std::string message = "prediction ids and gold ids do not match";
    if (!missing.empty()) {
      message += fmt::format("; {} gold id(s) have no prediction: {}", missing.size(),
                             quoted_list(missing));
    }
    if (!extra.empty()) {
      message += fmt::format("; {} prediction id(s) are not in the golds ({}): {}", extra.size(),
                             golds.source, quoted_list(extra));
    }
    throw Error(Location{.file = predictions.source}, message);
  }
  if (gold.order.empty()) throw Error(Location{.file = golds.source}, "no records to evaluate");
  for (auto [index, name] : {std::pair{&gold, &golds}, std::pair{&pred, &predictions}}) {
    if (index->duplicates > 0) {
      report.notes.push_back(fmt::format("{}: {} duplicate id(s); the last record of each counts",
                                         name->source, index->duplicates));
    }
  }
  std::vector<ScoredPair> pairs;
  pairs.reserve(gold.order.size());
  for (std::string_view id : gold.order) {
    pairs.push_back({.id = id, .prediction = pred.output.at(id), .gold = gold.output.at(id)});
  }
  return pairs;
}

bool all_golds_in(const Outputs& golds, const std::vector<std::string_view>& labels) {
  return std::all_of(golds.records.begin(), golds.records.end(), [&](const Output& r) {
    return std::find(labels.begin(), labels.end(), text::py_strip(r.output)) != labels.end();
  });
}

}  // namespace

const TaskSpec& task_of_outputs(const std::string& eval_name, const Outputs& golds) {
  const TaskSpec& task = find_task(eval_name);
  const TaskSpec& news = find_task("LaMP-2N");
  if (task.eval_name == news.eval_name && !golds.records.empty() &&
      all_golds_in(golds, news.labels) && !all_golds_in(golds, task.labels)) {
    return news;
  }
  return task;
}

IdIndex::IdIndex(const Outputs& outputs) {
  output.reserve(outputs.records.size());
  for (const Output& record : outputs.records) {
    auto [it, inserted] = output.insert_or_assign(record.id, record.output);
    if (inserted) {
      order.push_back(record.id);
    } else {
      ++duplicates;
    }
  }
}

EvalReport evaluate(const TaskSpec& task, const Outputs& golds, const Outputs& predictions,
                    const EvalOptions& options) {
  EvalReport report;
  report.task = &task;
  std::vector<ScoredPair> pairs = match_by_id(golds, predictions, report);
  report.examples = pairs.size();
  switch (task.metric) {
    case MetricKind::kClassification: {
      ClassificationScores s = score_classification(pairs, task.labels);
      report.metrics = {{"accuracy", s.accuracy}, {"f1", s.f1}};
      if (s.predictions_outside_labels > 0) {
        report.notes.push_back(
            fmt::format("{} of {} predictions are not one of the {} labels (scored as wrong)",
                        s.predictions_outside_labels, pairs.size(), task.name));
      }
      if (s.golds_outside_labels > 0) {
        report.notes.push_back(fmt::format("{} of {} golds are not one of the {} labels",
                                           s.golds_outside_labels, pairs.size(), task.name));
      }
      break;
    }
    case MetricKind::kRating: {
      RatingScores s = score_ratings(pairs);
      report.metrics = {{"MAE", s.mae}, {"RMSE", s.rmse}};
      if (!s.unparsable_predictions.empty()) {
        report.notes.push_back(fmt::format(
            "{} predictions are not numbers; each scored as the rating farther from its gold "
            "(official rule)",
            s.unparsable_predictions.size()));
      }
      break;
    }
    case MetricKind::kGeneration: {
      RougeScores s = score_rouge(pairs, options.bootstrap);
      report.metrics = {{"rouge-1", s.mean.rouge1}, {"rouge-L", s.mean.rougeL}};
      if (options.bootstrap.resamples > 0) {
        report.intervals = {{"rouge-1", s.rouge1_interval}, {"rouge-L", s.rougeL_interval}};
      }
      break;
    }
  }
  return report;
}

std::vector<EvalReport> evaluate_all(const std::vector<Outputs>& golds,
                                     const std::vector<Outputs>& predictions,
                                     const EvalOptions& options) {
  auto by_task = [](const std::vector<Outputs>& files, std::string_view what) {
    std::unordered_map<std::string, const Outputs*> map;
    for (const Outputs& file : files) {
      if (file.task.empty()) {
        throw Error(Location{.file = file.source},
                    fmt::format("{} file has no \"task\" field", what));
      }
      find_task(file.task);    // an unknown task name is an error
      map[file.task] = &file;  // a later file of the same task wins, as in eval_all.py
    }
    return map;
  };
  auto gold_files = by_task(golds, "gold");
  auto pred_files = by_task(predictions, "prediction");
  std::vector<std::string_view> missing;
  std::vector<EvalReport> reports;
  for (const TaskSpec& task : all_tasks()) {
    std::string name(task.eval_name);
    if (task.name != find_task(name).name) continue;  // LaMP-2N shares LaMP_2's files
    if (!pred_files.contains(name)) {
      missing.push_back(task.eval_name);
      continue;
    }
    if (!gold_files.contains(name)) {
      throw Error(fmt::format("the golds have no {} file, but the predictions do", name));
    }
    const Outputs& gold = *gold_files.at(name);
    reports.push_back(evaluate(task_of_outputs(name, gold), gold, *pred_files.at(name), options));
  }
  if (!missing.empty()) {
    throw Error(fmt::format("the predictions do not cover all seven tasks; missing: {}",
                            fmt::join(missing, ", ")));
  }
  return reports;
}

void write_report(JsonWriter& w, const EvalReport& report, const EvalOptions& options) {
  w.begin_object();
  for (const auto& [key, value] : report.metrics) w.key(key).value(value);
  for (const auto& [key, interval] : report.intervals) {
    w.key(key + "_bootstrap").begin_object();
    w.key("low")
        .value(interval.low)
        .key("mid")
        .value(interval.mid)
        .key("high")
        .value(interval.high);
    w.end_object();
  }
  if (!report.intervals.empty()) {
    w.key("bootstrap_resamples").value(static_cast<std::int64_t>(options.bootstrap.resamples));
    w.key("bootstrap_seed").value(static_cast<std::int64_t>(options.bootstrap.seed));
  }
  w.end_object();
}

}  // namespace lamp
