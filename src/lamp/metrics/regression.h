// LaMP-3 scores exactly as eval/evaluation.py computes them: both sides str.strip()ped and read
// with Python's float(); a prediction float() rejects becomes the extreme farther from its gold
// (1.0 if |1 - y| > |5 - y| else 5.0); every value is then cast to float32 (the `evaluate`
// features are Value("float")), and MAE and RMSE are taken in float64.
//
// Where the official code crashes, score_ratings throws lamp::Error naming the ids: a NaN or
// infinite value, a value that overflows float32, or a gold that is not a number.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "lamp/metrics/metric.h"

namespace lamp {

struct RatingScores {
  double mae = 0;
  double rmse = 0;
  // Predictions float() rejects, scored as the farther extreme (the official code prints them).
  std::vector<std::string> unparsable_predictions;
};

// `pairs` must be non-empty.
RatingScores score_ratings(std::span<const ScoredPair> pairs);

}  // namespace lamp
