// Paired bootstrap comparison of two systems on the same examples (`lamp compare`): for every
// metric of the task, the difference B - A on all examples, a percentile confidence interval of
// that difference and a two-sided p-value, from resamples of the examples drawn with replacement
// and shared by both systems (so per-example correlation between them is kept).
//
// Each resample recomputes the task's corpus-level metric as `lamp eval` does (accuracy and
// macro F1; MAE and RMSE; mean ROUGE-1 and ROUGE-L F): macro F1 and RMSE are not means of
// per-example values, so they are computed again from the resampled examples.
//
// The p-value tests "no difference" by the shifted-null bootstrap (Efron and Tibshirani 1993,
// ch. 16; the paired form used in NLP by Berg-Kirkpatrick et al. 2012, two-sided here): with d
// the observed difference and d*_1..d*_R the resampled ones,
//   p = (1 + #{r : |d*_r - d| >= |d|}) / (R + 1),
// i.e. how often a bootstrap distribution moved to mean zero reaches a difference as large as
// the one observed. The +1s (Davison and Hinkley 1997, ch. 4) keep p above zero: R resamples
// cannot show a p-value below 1 / (R + 1). The interval is numpy's linear-interpolation
// percentiles 2.5, 50 and 97.5 of d*_1..d*_R.
//
// Resamples come from lamp's seeded splitmix64 generator (core/random.h), so a seed gives the
// same numbers on every machine.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lamp/data/dataset.h"
#include "lamp/data/task.h"
#include "lamp/metrics/metric.h"

namespace lamp {

struct CompareOptions {
  int resamples = 1000;
  std::uint64_t seed = 0;
};

struct MetricDifference {
  std::string name;  // the official key: "accuracy", "f1", "MAE", "RMSE", "rouge-1", ...
  bool lower_is_better = false;  // MAE and RMSE
  double a = 0, b = 0;           // on all compared examples
  double difference = 0;         // b - a
  Interval interval;             // of the resampled differences
  double p_value = 1;
};

struct Comparison {
  const TaskSpec* task = nullptr;
  std::size_t examples = 0;  // compared: gold ids that both systems predicted
  // Gold ids that only one system predicted, or neither (left out of the comparison).
  std::size_t missing_a = 0, missing_b = 0;
  int resamples = 0;
  std::vector<MetricDifference> metrics;  // in the official order
};

// The core: a[i] and b[i] are the two systems' predictions for one example (same gold);
// `resamples` lists each resample's example indices. Needs at least one example.
Comparison compare_paired(const TaskSpec& task, std::span<const ScoredPair> a,
                          std::span<const ScoredPair> b,
                          std::span<const std::vector<std::size_t>> resamples);

// `count` resamples of n indices drawn uniformly with replacement from a generator seeded with
// `seed`.
std::vector<std::vector<std::size_t>> draw_resamples(std::size_t n, int count, std::uint64_t seed);

// Matches both prediction files to the golds by id (last duplicate wins, as in evaluation) and
// compares them over the gold ids both predict, in the golds' order. lamp::Error when no gold id
// has both predictions.
Comparison compare_predictions(const TaskSpec& task, const Outputs& golds, const Outputs& a,
                               const Outputs& b, const CompareOptions& options);

}  // namespace lamp
