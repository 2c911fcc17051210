// ROUGE-1 and ROUGE-L F-measure as rouge_score 0.1.2 computes them for the official LaMP-4..7
// evaluation (default tokenizer, no stemming; see text/rouge_tokenizer.h): per example,
// P = overlap / |prediction|, R = overlap / |reference|, F = 2PR / (P + R) or 0; an empty side
// scores 0. Unigram overlap counts each token min(count in prediction, count in reference) times;
// ROUGE-L's overlap is the longest common subsequence.
//
// The official number is evaluate's bootstrap median of the mean (unseeded, so it moves by about
// 1e-3 between runs). lamp reports the exact mean, and a seeded bootstrap interval beside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "lamp/metrics/metric.h"

namespace lamp {

struct RougeF {
  double rouge1 = 0;
  double rougeL = 0;
};

// Scores one prediction against one reference.
RougeF rouge(std::string_view prediction, std::string_view reference);

struct BootstrapOptions {
  int resamples = 1000;  // 0: no interval
  std::uint64_t seed = 0;
};

struct RougeScores {
  RougeF mean;
  Interval rouge1_interval, rougeL_interval;  // zero when resamples == 0
  std::vector<RougeF> per_example;            // in the order of the pairs
};

// Predictions and golds are str.strip()ped first, as the official code does.
RougeScores score_rouge(std::span<const ScoredPair> pairs, const BootstrapOptions& bootstrap);

// numpy.percentile's linear-interpolation 2.5, 50 and 97.5 percentiles of `values` (zero when
// empty).
Interval percentile_interval(std::vector<double> values);

// Percentile bootstrap of the means of equally long columns of values, paired (every resample
// draws the same examples for every column): `resamples` draws of n with replacement from a
// seeded generator; numpy's linear-interpolation percentiles at 2.5, 50 and 97.5. One interval
// per column.
std::vector<Interval> bootstrap_means(std::span<const std::span<const double>> columns,
                                      const BootstrapOptions& options);

}  // namespace lamp
