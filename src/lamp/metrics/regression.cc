#include "lamp/metrics/regression.h"

#include <fmt/format.h>

#include <cassert>
#include <cmath>

#include "lamp/core/error.h"
#include "lamp/text/python_str.h"

namespace lamp {
namespace {

// Sum with Neumaier compensation: as exact as math.fsum for these sizes, independent of order.
class CompensatedSum {
 public:
  void add(double x) {
    double t = sum_ + x;
    compensation_ += std::fabs(sum_) >= std::fabs(x) ? (sum_ - t) + x : (x - t) + sum_;
    sum_ = t;
  }
  double value() const { return sum_ + compensation_; }

 private:
  double sum_ = 0, compensation_ = 0;
};

// `bad` holds preformatted `id "x": ...` entries.
void throw_if_any(const std::vector<std::string>& bad, std::string_view what) {
  if (bad.empty()) return;
  std::string list = bad[0];
  for (std::size_t i = 1; i < bad.size() && i < 10; ++i) list += ", " + bad[i];
  if (bad.size() > 10) list += fmt::format(", ... ({} in all)", bad.size());
  throw Error(fmt::format("{} (the official evaluation crashes on them): {}", what, list));
}

}  // namespace

RatingScores score_ratings(std::span<const ScoredPair> pairs) {
  assert(!pairs.empty());
  RatingScores scores;
  std::vector<std::string> bad_golds, bad_predictions;
  CompensatedSum abs_sum, sq_sum;
  for (const ScoredPair& pair : pairs) {
    std::string_view gold_text = text::py_strip(pair.gold);
    std::string_view pred_text = text::py_strip(pair.prediction);
    std::optional<double> gold = text::py_float(gold_text);
    if (!gold) {
      bad_golds.push_back(
          fmt::format("id \"{}\": gold \"{}\" is not a number", pair.id, gold_text));
      continue;
    }
    std::optional<double> pred = text::py_float(pred_text);
    if (!pred) {
      scores.unparsable_predictions.emplace_back(pred_text);
      pred = std::fabs(1 - *gold) > std::fabs(5 - *gold) ? 1.0 : 5.0;
    }
    float gold32 = static_cast<float>(*gold);
    float pred32 = static_cast<float>(*pred);
    if (!std::isfinite(gold32)) {
      bad_golds.push_back(
          fmt::format("id \"{}\": gold \"{}\" is not a finite float32", pair.id, gold_text));
    }
    if (!std::isfinite(pred32)) {
      bad_predictions.push_back(fmt::format("id \"{}\": \"{}\"", pair.id, pred_text));
    }
    double diff = static_cast<double>(pred32) - static_cast<double>(gold32);
    abs_sum.add(std::fabs(diff));
    sq_sum.add(diff * diff);
  }
  throw_if_any(bad_golds, "golds that are not finite numbers");
  throw_if_any(bad_predictions, "predictions that are NaN, infinite or beyond float32");
  double n = static_cast<double>(pairs.size());
  scores.mae = abs_sum.value() / n;
  scores.rmse = std::sqrt(sq_sum.value() / n);
  return scores;
}

}  // namespace lamp
