// Tests for the paired bootstrap comparison against values computed by hand: with two examples
// the four possible resamples ({0,0}, {0,1}, {1,0}, {1,1}) can be enumerated and every metric,
// difference, percentile and p-value written down.
#include "lamp/metrics/bootstrap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <cmath>
#include <string>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/data/json_io.h"

namespace lamp {
namespace {

using ::testing::HasSubstr;

const std::vector<std::vector<std::size_t>> kAllResamplesOfTwo = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};

std::vector<ScoredPair> pairs(const std::vector<std::string_view>& predictions,
                              const std::vector<std::string_view>& golds) {
  std::vector<ScoredPair> out;
  for (std::size_t i = 0; i < golds.size(); ++i) {
    out.push_back({.id = "", .prediction = predictions[i], .gold = golds[i]});
  }
  return out;
}

// Compares A and B on two examples over all four resamples.
Comparison compare_two(const char* task, const std::vector<std::string_view>& a,
                       const std::vector<std::string_view>& b,
                       const std::vector<std::string_view>& golds) {
  return compare_paired(find_task(task), pairs(a, golds), pairs(b, golds), kAllResamplesOfTwo);
}

TEST(BootstrapTest, RatingsByHand) {
  // Errors: A 0 and 2, B 1 and 0. MAE 1 vs 0.5, RMSE sqrt(2) vs sqrt(1/2).
  Comparison c = compare_two("LaMP-3", {"3", "3"}, {"4", "5"}, {"3", "5"});
  ASSERT_EQ(c.metrics.size(), 2u);
  EXPECT_EQ(c.examples, 2u);
  EXPECT_EQ(c.resamples, 4);
  const MetricDifference& mae = c.metrics[0];
  EXPECT_EQ(mae.name, "MAE");
  EXPECT_TRUE(mae.lower_is_better);
  EXPECT_DOUBLE_EQ(mae.a, 1);
  EXPECT_DOUBLE_EQ(mae.b, 0.5);
  EXPECT_DOUBLE_EQ(mae.difference, -0.5);
  // Resampled differences: {0,0} 1 - 0 = 1; {0,1} and {1,0} -0.5; {1,1} 0 - 2 = -2. Sorted
  // -2, -0.5, -0.5, 1: the 2.5th percentile sits at 0.075 of the way from -2 to -0.5.
  EXPECT_DOUBLE_EQ(mae.interval.low, -2 + 1.5 * 0.075);
  EXPECT_DOUBLE_EQ(mae.interval.mid, -0.5);
  EXPECT_DOUBLE_EQ(mae.interval.high, -0.5 + 1.5 * 0.925);
  // |d* - d| >= |d| = 0.5 for {0,0} (1.5) and {1,1} (1.5): p = (2 + 1) / (4 + 1).
  EXPECT_DOUBLE_EQ(mae.p_value, 0.6);
  const MetricDifference& rmse = c.metrics[1];
  EXPECT_EQ(rmse.name, "RMSE");
  EXPECT_DOUBLE_EQ(rmse.difference, std::sqrt(0.5) - std::sqrt(2.0));
  // RMSE is recomputed per resample, not averaged: {1,1} gives 0 - 2, {0,0} 1 - 0.
  EXPECT_DOUBLE_EQ(rmse.interval.mid, std::sqrt(0.5) - std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(rmse.interval.low, -2 + (2 - (std::sqrt(2.0) - std::sqrt(0.5))) * 0.075);
  EXPECT_DOUBLE_EQ(rmse.p_value, 0.6);
}

TEST(BootstrapTest, ClassificationByHand) {
  // A answers [1] twice: accuracy 1/2, macro F1 (2/3 + 0) / 2. B is right: 1 and 1.
  Comparison c = compare_two("LaMP-1", {"[1]", "[1]"}, {"[1]", "[2]"}, {"[1]", "[2]"});
  const MetricDifference& accuracy = c.metrics[0];
  EXPECT_EQ(accuracy.name, "accuracy");
  EXPECT_FALSE(accuracy.lower_is_better);
  EXPECT_DOUBLE_EQ(accuracy.difference, 0.5);
  // {0,0}: both right, 0; {0,1}, {1,0}: 0.5; {1,1}: 1 - 0 = 1. |d* - 0.5| >= 0.5 twice.
  EXPECT_DOUBLE_EQ(accuracy.p_value, 0.6);
  EXPECT_DOUBLE_EQ(accuracy.interval.low, 0.5 * 0.075);
  const MetricDifference& f1 = c.metrics[1];
  EXPECT_EQ(f1.name, "f1");
  EXPECT_DOUBLE_EQ(f1.a, 1.0 / 3);
  EXPECT_DOUBLE_EQ(f1.b, 1);
  // {0,0}: label [2] is absent from both sides and scores 0 for both: 0.5 - 0.5 = 0;
  // {1,1}: A scores 0 for both labels, B 0 and 1: 0.5. Only {0,0} reaches |d* - 2/3| >= 2/3.
  EXPECT_DOUBLE_EQ(f1.p_value, 0.4);
  EXPECT_DOUBLE_EQ(f1.interval.mid, (0.5 + 2.0 / 3) / 2);
}

TEST(BootstrapTest, RougeByHand) {
  // ROUGE-1 F: A 1 and 0, B 0.5 and 1.
  Comparison c = compare_two("LaMP-4", {"a b", "x y"}, {"a x", "c d"}, {"a b", "c d"});
  const MetricDifference& rouge1 = c.metrics[0];
  EXPECT_EQ(rouge1.name, "rouge-1");
  EXPECT_DOUBLE_EQ(rouge1.a, 0.5);
  EXPECT_DOUBLE_EQ(rouge1.b, 0.75);
  // d* = -0.5, 0.25, 0.25, 1: {0,0} and {1,1} are 0.75 away from 0.25.
  EXPECT_DOUBLE_EQ(rouge1.p_value, 0.6);
  EXPECT_DOUBLE_EQ(rouge1.interval.high, 0.25 + 0.75 * 0.925);
  EXPECT_EQ(c.metrics[1].name, "rouge-L");
}

TEST(BootstrapTest, IdenticalSystemsDoNotDiffer) {
  std::vector<std::string_view> golds = {"3", "5", "1"};
  auto same = pairs({"4", "2", "1"}, golds);
  Comparison c = compare_paired(find_task("LaMP-3"), same, same, draw_resamples(3, 50, 1));
  for (const MetricDifference& m : c.metrics) {
    EXPECT_EQ(m.difference, 0);
    EXPECT_EQ(m.p_value, 1);
    EXPECT_EQ(m.interval.low, 0);
    EXPECT_EQ(m.interval.high, 0);
  }
}

TEST(BootstrapTest, AClearWinnerGetsTheSmallestPValue) {
  std::vector<std::string_view> golds(40, "[1]"), wrong(40, "[2]");
  Comparison c = compare_paired(find_task("LaMP-1"), pairs(wrong, golds), pairs(golds, golds),
                                draw_resamples(40, 199, 7));
  EXPECT_DOUBLE_EQ(c.metrics[0].difference, 1);
  EXPECT_DOUBLE_EQ(c.metrics[0].p_value, 1.0 / 200);
}

TEST(BootstrapTest, ResamplesAreSeededAndInRange) {
  auto first = draw_resamples(5, 20, 42);
  EXPECT_EQ(first, draw_resamples(5, 20, 42));
  EXPECT_NE(first, draw_resamples(5, 20, 43));
  ASSERT_EQ(first.size(), 20u);
  bool varied = false;
  for (const auto& indices : first) {
    ASSERT_EQ(indices.size(), 5u);
    for (std::size_t i : indices) EXPECT_LT(i, 5u);
    varied |= indices != first[0];
  }
  EXPECT_TRUE(varied);
}

TEST(BootstrapTest, ComparesTheGoldIdsBothSystemsPredict) {
  Outputs golds = parse_outputs(
      R"({"task": "LaMP_3", "golds": [{"id": "x", "output": "3"}, {"id": "y", "output": "5"},)"
      R"( {"id": "z", "output": "1"}]})",
      "golds.json");
  // A lacks z; its second y wins. B lacks x and predicts an id outside the golds.
  Outputs a = parse_outputs(R"([{"id": "y", "output": "1"}, {"id": "x", "output": "3"},)"
                            R"( {"id": "y", "output": "3"}])",
                            "a.json");
  Outputs b = parse_outputs(R"([{"id": "z", "output": "1"}, {"id": "y", "output": "5"},)"
                            R"( {"id": "w", "output": "5"}])",
                            "b.json");
  Comparison c = compare_predictions(find_task("LaMP-3"), golds, a, b, {.resamples = 10});
  EXPECT_EQ(c.examples, 1u);  // only y
  EXPECT_EQ(c.missing_a, 1u);
  EXPECT_EQ(c.missing_b, 1u);
  EXPECT_DOUBLE_EQ(c.metrics[0].a, 2);  // |3 - 5|
  EXPECT_DOUBLE_EQ(c.metrics[0].b, 0);

  Outputs disjoint = parse_outputs(R"([{"id": "z", "output": "1"}])", "c.json");
  try {
    compare_predictions(find_task("LaMP-3"), golds, a, disjoint, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("a.json and c.json predict none of the same ids"));
  }
}

}  // namespace
}  // namespace lamp
