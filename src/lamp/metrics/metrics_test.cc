// Unit tests for every quirk of the official metrics (shared spec, "Metrics"), with values
// computed by hand or with scikit-learn / rouge_score where noted.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>

#include "lamp/core/error.h"
#include "lamp/data/json_io.h"
#include "lamp/metrics/classification.h"
#include "lamp/metrics/evaluate.h"
#include "lamp/metrics/regression.h"
#include "lamp/metrics/rouge.h"

namespace lamp {
namespace {

std::vector<ScoredPair> pairs_of(std::initializer_list<std::pair<const char*, const char*>> pg) {
  std::vector<ScoredPair> out;
  int i = 0;
  for (auto [p, g] : pg)
    out.push_back({.id = i++ % 2 ? "odd" : "even", .prediction = p, .gold = g});
  return out;
}

const std::vector<std::string_view> kTwoLabels = {"[1]", "[2]"};

TEST(Classification, StripsThenMatchesCaseSensitively) {
  auto s = score_classification(
      pairs_of({{" [1]\n", "[1]"}, {"[2]\xc2\xa0", "[2]"}, {"[1].", "[1]"}}), kTwoLabels);
  EXPECT_DOUBLE_EQ(s.accuracy, 2.0 / 3.0);
  EXPECT_EQ(s.predictions_outside_labels, 1u);
}

TEST(Classification, TwoOutOfLabelStringsCountAsEqual) {
  // Both map to -1, so accuracy counts a hit; F1 sees no true positive for any label.
  auto s = score_classification(pairs_of({{"yes", "maybe"}, {"[1]", "[1]"}}), kTwoLabels);
  EXPECT_DOUBLE_EQ(s.accuracy, 1.0);
  EXPECT_EQ(s.golds_outside_labels, 1u);
  // Label [1]: P = R = 1 -> F1 1; label [2] absent from both sides -> F1 0; macro = 0.5.
  EXPECT_DOUBLE_EQ(s.f1, 0.5);
}

TEST(Classification, MacroF1OverAllLabelsWithMissesAndFalsePositives) {
  // sklearn f1_score(y_true=[0,0,1,1], y_pred=[0,-1,0,1], labels=[0,1], average="macro"):
  // label 0: tp 1, fp 1, fn 1 -> 0.5; label 1: tp 1, fp 0, fn 1 -> P 1, R .5, F1 2/3.
  auto s = score_classification(
      pairs_of({{"[1]", "[1]"}, {"x", "[1]"}, {"[1]", "[2]"}, {"[2]", "[2]"}}), kTwoLabels);
  EXPECT_DOUBLE_EQ(s.accuracy, 0.5);
  EXPECT_NEAR(s.f1, (0.5 + 2.0 / 3.0) / 2, 1e-15);
}

TEST(Classification, LabelsAbsentFromBothSidesPullMacroF1Down) {
  const TaskSpec& movies = find_task("LaMP-2");
  auto s =
      score_classification(pairs_of({{"comedy", "comedy"}, {"action", "action"}}), movies.labels);
  EXPECT_DOUBLE_EQ(s.accuracy, 1.0);
  EXPECT_NEAR(s.f1, 2.0 / 15.0, 1e-15);
}

TEST(Ratings, Float32CastAndFallbackToFartherExtreme) {
  // "3.3" counts as float32(3.3) = 3.2999999523162842; "five" with gold 2 -> 5 (|1-2| < |5-2|);
  // "" with gold 4 -> 1; gold 3 is equidistant -> 5.0 (the official `else` branch).
  auto s = score_ratings(pairs_of({{"3.3", "3"}, {"five", "2"}, {"", "4"}, {"?", "3"}}));
  double e0 = 3.0 - static_cast<double>(3.3f);
  double mae = (std::fabs(static_cast<double>(3.3f) - 3.0) + 3 + 3 + 2) / 4;
  EXPECT_DOUBLE_EQ(s.mae, mae);
  EXPECT_DOUBLE_EQ(s.rmse, std::sqrt((e0 * e0 + 9 + 9 + 4) / 4));
  EXPECT_EQ(s.unparsable_predictions, (std::vector<std::string>{"five", "", "?"}));
}

TEST(Ratings, PythonFloatSyntaxIsAccepted) {
  auto s = score_ratings(pairs_of({{"+2", "2"}, {"\xef\xbc\x93", "3"}, {"1_0", "5"}, {"4.", "4"}}));
  EXPECT_DOUBLE_EQ(s.mae, 5.0 / 4);  // only "1_0" = 10 misses, by 5
  EXPECT_TRUE(s.unparsable_predictions.empty());
}

TEST(Ratings, CrashCasesOfTheOfficialCodeAreErrorsNamingIds) {
  for (const char* bad : {"nan", "inf", "-infinity", "1e39", "-3.5e38"}) {
    try {
      score_ratings(pairs_of({{"3", "3"}, {bad, "4"}}));
      ADD_FAILURE() << bad << " should be an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("id \"odd\""), std::string::npos) << e.what();
    }
  }
  // 3.4e38 still fits float32: no error.
  EXPECT_NO_THROW(score_ratings(pairs_of({{"3.4e38", "4"}})));
  EXPECT_THROW(score_ratings(pairs_of({{"3", "three"}})), Error);  // gold must be a number
  EXPECT_THROW(score_ratings(pairs_of({{"3", "nan"}})), Error);
}

TEST(Rouge, PerExampleMatchesRougeScore) {
  // rouge_score: "the cat sat on the mat" vs "the cat on the mat": R1 P 5/6 R 1, RL lcs 5.
  RougeF f = rouge("the cat sat on the mat", "the cat on the mat");
  EXPECT_NEAR(f.rouge1, 2 * (5.0 / 6) / (5.0 / 6 + 1), 1e-15);
  EXPECT_NEAR(f.rougeL, f.rouge1, 1e-15);
  // Unigram counts are clipped: "a a a a" vs "a": overlap 1, P 1/4, R 1.
  EXPECT_NEAR(rouge("a a a a", "a").rouge1, 2 * 0.25 / 1.25, 1e-15);
  // Order matters to ROUGE-L only: LCS of "c b a" and "a b c" is 1.
  RougeF r = rouge("c b a", "a b c");
  EXPECT_DOUBLE_EQ(r.rouge1, 1.0);
  EXPECT_NEAR(r.rougeL, 1.0 / 3, 1e-15);
}

TEST(Rouge, EmptySideScoresZero) {
  EXPECT_EQ(rouge("", "some words").rouge1, 0.0);
  EXPECT_EQ(rouge("!!! ???", "some words").rougeL, 0.0);
  EXPECT_EQ(rouge("words", "").rouge1, 0.0);
  EXPECT_EQ(rouge("", "").rougeL, 0.0);
}

TEST(Rouge, MeanIsExactAndBootstrapIsSeededAndBracketsIt) {
  auto pairs = pairs_of({{"a b c", "a b c"}, {"a b", "c d"}, {"a", "a b"}, {"x y z", "x z"}});
  RougeScores s = score_rouge(pairs, {.resamples = 1000, .seed = 7});
  double r1 = (1.0 + 0.0 + 2.0 / 3 + 0.8) / 4;
  EXPECT_NEAR(s.mean.rouge1, r1, 1e-15);
  EXPECT_LE(s.rouge1_interval.low, s.rouge1_interval.mid);
  EXPECT_LE(s.rouge1_interval.mid, s.rouge1_interval.high);
  EXPECT_LT(s.rouge1_interval.low, r1);
  EXPECT_GT(s.rouge1_interval.high, r1);
  RougeScores again = score_rouge(pairs, {.resamples = 1000, .seed = 7});
  EXPECT_EQ(again.rouge1_interval.low, s.rouge1_interval.low);
  RougeScores other = score_rouge(pairs, {.resamples = 1000, .seed = 8});
  EXPECT_NE(other.rouge1_interval.mid + other.rouge1_interval.low,
            s.rouge1_interval.mid + s.rouge1_interval.low);
}

TEST(Bootstrap, ConstantValuesGiveADegenerateInterval) {
  std::vector<double> v(50, 0.25);
  const std::span<const double> columns[] = {v};
  Interval i = bootstrap_means(columns, {.resamples = 200, .seed = 1})[0];
  EXPECT_DOUBLE_EQ(i.low, 0.25);
  EXPECT_DOUBLE_EQ(i.high, 0.25);
  EXPECT_EQ(bootstrap_means(columns, {.resamples = 0})[0].mid, 0.0);
}

TEST(Bootstrap, ResamplesArePairedAcrossColumns) {
  // Identical columns must give identical intervals: every resample draws the same examples.
  std::vector<double> a = {0, 1, 0.5, 0.2, 0.9, 0.4}, b = a;
  const std::span<const double> columns[] = {a, b};
  std::vector<Interval> i = bootstrap_means(columns, {.resamples = 100, .seed = 2});
  EXPECT_EQ(i[0].low, i[1].low);
  EXPECT_EQ(i[0].mid, i[1].mid);
  EXPECT_EQ(i[0].high, i[1].high);
  EXPECT_LT(i[0].low, i[0].high);
}

Outputs outputs(const std::string& json) { return parse_outputs(json, "test.json"); }

TEST(Evaluate, DuplicateIdsLastOneWinsAndIsNoted) {
  Outputs golds =
      outputs(R"({"task":"LaMP_1","golds":[{"id":"a","output":"[1]"},{"id":"b","output":"[2]"}]})");
  Outputs preds =
      outputs(R"([{"id":"a","output":"[2]"},{"id":"b","output":"[2]"},{"id":"a","output":"[1]"}])");
  EvalReport r = evaluate(find_task("LaMP_1"), golds, preds, {});
  EXPECT_EQ(r.metrics[0].first, "accuracy");
  EXPECT_DOUBLE_EQ(r.metrics[0].second, 1.0);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("duplicate"), std::string::npos);
}

TEST(Evaluate, MismatchedIdsNameTheIds) {
  Outputs golds = outputs(R"([{"id":"a","output":"x"},{"id":"b","output":"y"}])");
  Outputs preds = outputs(R"([{"id":"a","output":"x"},{"id":"zz","output":"y"}])");
  try {
    evaluate(find_task("LaMP-4"), golds, preds, {});
    FAIL();
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("\"b\""), std::string::npos) << what;
    EXPECT_NE(what.find("\"zz\""), std::string::npos) << what;
  }
}

TEST(Evaluate, OfficialKeysPerMetricKind) {
  Outputs g = outputs(R"([{"id":"a","output":"3"}])");
  EXPECT_EQ(evaluate(find_task("LaMP_3"), g, g, {}).metrics[1].first, "RMSE");
  EvalReport rouge_report = evaluate(find_task("LaMP_5"), g, g, {});
  EXPECT_EQ(rouge_report.metrics[0].first, "rouge-1");
  EXPECT_EQ(rouge_report.metrics[1].first, "rouge-L");
  EXPECT_EQ(rouge_report.intervals.size(), 2u);
  JsonWriter w;
  write_report(w, rouge_report, {});
  EXPECT_EQ(w.str().rfind("{\"rouge-1\": 1.0, \"rouge-L\": 1.0, \"rouge-1_bootstrap\"", 0), 0u)
      << w.str();
}

TEST(Evaluate, NewsGoldsMakeLaMP2TheNewsTask) {
  Outputs news = outputs(R"({"task":"LaMP_2","golds":[{"id":"a","output":"sports"}]})");
  Outputs movies = outputs(R"({"task":"LaMP_2","golds":[{"id":"a","output":"comedy"}]})");
  EXPECT_EQ(task_of_outputs("LaMP_2", news).name, "LaMP-2N");
  EXPECT_EQ(task_of_outputs("LaMP_2", movies).name, "LaMP-2");
}

std::vector<Outputs> all_seven(bool with_lamp7) {
  std::vector<Outputs> files;
  const char* outputs_by_task[] = {"[1]", "comedy", "4", "a b", "c d", "e f", "g h"};
  for (int n = 1; n <= (with_lamp7 ? 7 : 6); ++n) {
    files.push_back(
        outputs(fmt::format(R"({{"task":"LaMP_{}","golds":[{{"id":"{}","output":"{}"}}]}})", n, n,
                            outputs_by_task[n - 1])));
  }
  return files;
}

TEST(EvaluateAll, ScoresEveryTaskInOrder) {
  std::vector<EvalReport> reports = evaluate_all(all_seven(true), all_seven(true), {});
  ASSERT_EQ(reports.size(), 7u);
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(reports[i].task->eval_name, fmt::format("LaMP_{}", i + 1));
  }
  EXPECT_DOUBLE_EQ(reports[2].metrics[0].second, 0.0);  // MAE of a perfect LaMP-3
  EXPECT_DOUBLE_EQ(reports[6].metrics[0].second, 1.0);  // ROUGE-1 of a perfect LaMP-7
}

TEST(EvaluateAll, PredictionsMustCoverAllSevenTasks) {
  try {
    evaluate_all(all_seven(true), all_seven(false), {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("LaMP_7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(evaluate_all(all_seven(false), all_seven(true), {}), Error);
}

}  // namespace
}  // namespace lamp
