// LaMP-1 and LaMP-2 scores exactly as eval/evaluation.py computes them through `evaluate`
// (scikit-learn): both sides are str.strip()ped, then looked up case-sensitively in the label
// list (index, or -1 when absent). Accuracy compares those integers, so two different strings
// outside the labels count as a match. Macro F1 runs over labels 0..L-1 only: a label absent
// from both sides contributes F1 0; a -1 prediction is a miss for its gold label and a false
// positive for none.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "lamp/metrics/metric.h"

namespace lamp {

struct ClassificationScores {
  double accuracy = 0;
  double f1 = 0;  // macro over all labels
  std::size_t predictions_outside_labels = 0;
  std::size_t golds_outside_labels = 0;
};

// `pairs` must be non-empty.
ClassificationScores score_classification(std::span<const ScoredPair> pairs,
                                          std::span<const std::string_view> labels);

}  // namespace lamp
