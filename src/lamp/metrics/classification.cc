#include "lamp/metrics/classification.h"

#include <cassert>
#include <vector>

#include "lamp/text/python_str.h"

namespace lamp {
namespace {

int label_index(std::string_view text, std::span<const std::string_view> labels) {
  std::string_view stripped = text::py_strip(text);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == stripped) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

ClassificationScores score_classification(std::span<const ScoredPair> pairs,
                                          std::span<const std::string_view> labels) {
  assert(!pairs.empty());
  const std::size_t n_labels = labels.size();
  std::vector<double> tp(n_labels, 0), fp(n_labels, 0), fn(n_labels, 0);
  ClassificationScores scores;
  std::size_t correct = 0;
  for (const ScoredPair& pair : pairs) {
    int pred = label_index(pair.prediction, labels);
    int gold = label_index(pair.gold, labels);
    if (pred < 0) ++scores.predictions_outside_labels;
    if (gold < 0) ++scores.golds_outside_labels;
    if (pred == gold) {
      ++correct;
      if (pred >= 0) ++tp[pred];
      continue;
    }
    if (pred >= 0) ++fp[pred];
    if (gold >= 0) ++fn[gold];
  }
  scores.accuracy = static_cast<double>(correct) / static_cast<double>(pairs.size());
  // scikit-learn: precision and recall are 0 where undefined, F1 = 2PR / (P + R) or 0.
  double f1_sum = 0;
  for (std::size_t i = 0; i < n_labels; ++i) {
    double precision = tp[i] + fp[i] > 0 ? tp[i] / (tp[i] + fp[i]) : 0.0;
    double recall = tp[i] + fn[i] > 0 ? tp[i] / (tp[i] + fn[i]) : 0.0;
    f1_sum += precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
  }
  scores.f1 = f1_sum / static_cast<double>(n_labels);
  return scores;
}

}  // namespace lamp
