#include "lamp/metrics/bootstrap.h"

#include <fmt/format.h>

#include <cassert>
#include <cmath>

#include "lamp/core/error.h"
#include "lamp/core/random.h"
#include "lamp/metrics/classification.h"
#include "lamp/metrics/evaluate.h"
#include "lamp/metrics/regression.h"
#include "lamp/metrics/rouge.h"

namespace lamp {
namespace {

// One system's corpus-level metrics on any subset (with repeats) of its examples.
class SystemScorer {
 public:
  SystemScorer(const TaskSpec& task, std::span<const ScoredPair> pairs)
      : task_(task), pairs_(pairs) {
    if (task.metric == MetricKind::kGeneration) {
      per_example_ = score_rouge(pairs, BootstrapOptions{.resamples = 0}).per_example;
    }
  }

  // The metrics in the official order, over the examples `indices`.
  std::vector<double> score(std::span<const std::size_t> indices) {
    if (task_.metric == MetricKind::kGeneration) {
      double sum1 = 0, sumL = 0;
      for (std::size_t i : indices) sum1 += per_example_[i].rouge1, sumL += per_example_[i].rougeL;
      double n = static_cast<double>(indices.size());
      return {sum1 / n, sumL / n};
    }
    resampled_.clear();
    for (std::size_t i : indices) resampled_.push_back(pairs_[i]);
    if (task_.metric == MetricKind::kClassification) {
      ClassificationScores s = score_classification(resampled_, task_.labels);
      return {s.accuracy, s.f1};
    }
    RatingScores s = score_ratings(resampled_);
    return {s.mae, s.rmse};
  }

 private:
  const TaskSpec& task_;
  std::span<const ScoredPair> pairs_;
  std::vector<RougeF> per_example_;
  std::vector<ScoredPair> resampled_;
};

struct MetricName {
  const char* name;
  bool lower_is_better;
};

std::vector<MetricName> metric_names(MetricKind kind) {
  switch (kind) {
    case MetricKind::kClassification:
      return {{"accuracy", false}, {"f1", false}};
    case MetricKind::kRating:
      return {{"MAE", true}, {"RMSE", true}};
    case MetricKind::kGeneration:
      return {{"rouge-1", false}, {"rouge-L", false}};
  }
  return {};
}

}  // namespace

Comparison compare_paired(const TaskSpec& task, std::span<const ScoredPair> a,
                          std::span<const ScoredPair> b,
                          std::span<const std::vector<std::size_t>> resamples) {
  assert(a.size() == b.size() && !a.empty());
  SystemScorer score_a(task, a), score_b(task, b);
  std::vector<std::size_t> all(a.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<double> full_a = score_a.score(all), full_b = score_b.score(all);

  std::vector<MetricName> names = metric_names(task.metric);
  std::vector<std::vector<double>> differences(names.size());
  for (const std::vector<std::size_t>& indices : resamples) {
    std::vector<double> ra = score_a.score(indices), rb = score_b.score(indices);
    for (std::size_t m = 0; m < names.size(); ++m) differences[m].push_back(rb[m] - ra[m]);
  }

  Comparison comparison{
      .task = &task, .examples = a.size(), .resamples = static_cast<int>(resamples.size())};
  for (std::size_t m = 0; m < names.size(); ++m) {
    double observed = full_b[m] - full_a[m];
    std::size_t as_extreme = 0;
    for (double d : differences[m]) {
      if (std::abs(d - observed) >= std::abs(observed)) ++as_extreme;
    }
    comparison.metrics.push_back({.name = names[m].name,
                                  .lower_is_better = names[m].lower_is_better,
                                  .a = full_a[m],
                                  .b = full_b[m],
                                  .difference = observed,
                                  .interval = percentile_interval(differences[m]),
                                  .p_value = static_cast<double>(as_extreme + 1) /
                                             static_cast<double>(resamples.size() + 1)});
  }
  return comparison;
}

std::vector<std::vector<std::size_t>> draw_resamples(std::size_t n, int count, std::uint64_t seed) {
  std::vector<std::vector<std::size_t>> resamples(static_cast<std::size_t>(std::max(count, 0)));
  std::uint64_t state = seed;
  for (std::vector<std::size_t>& indices : resamples) {
    indices.resize(n);
    for (std::size_t& index : indices) index = random_below(state, n);
  }
  return resamples;
}

Comparison compare_predictions(const TaskSpec& task, const Outputs& golds, const Outputs& a,
                               const Outputs& b, const CompareOptions& options) {
  IdIndex gold(golds), pred_a(a), pred_b(b);
  std::vector<ScoredPair> pairs_a, pairs_b;
  std::size_t missing_a = 0, missing_b = 0;
  for (std::string_view id : gold.order) {
    auto in_a = pred_a.output.find(id), in_b = pred_b.output.find(id);
    missing_a += in_a == pred_a.output.end();
    missing_b += in_b == pred_b.output.end();
    if (in_a == pred_a.output.end() || in_b == pred_b.output.end()) continue;
    std::string_view answer = gold.output.at(id);
    pairs_a.push_back({.id = id, .prediction = in_a->second, .gold = answer});
    pairs_b.push_back({.id = id, .prediction = in_b->second, .gold = answer});
  }
  if (pairs_a.empty()) {
    throw Error(fmt::format("{} and {} predict none of the same ids of {}", a.source, b.source,
                            golds.source));
  }
  Comparison comparison = compare_paired(
      task, pairs_a, pairs_b, draw_resamples(pairs_a.size(), options.resamples, options.seed));
  comparison.missing_a = missing_a;
  comparison.missing_b = missing_b;
  return comparison;
}

}  // namespace lamp
