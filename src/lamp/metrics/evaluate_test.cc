// Conformance: every case in tests/fixtures/eval is the official evaluator's output on the same
// files. lamp must match official values to 1e-9 (ROUGE: the plain mean, extras.mean_fmeasure)
// and fail with a lamp::Error where the official code crashes.
#include "lamp/metrics/evaluate.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>

#include "lamp/core/error.h"
#include "lamp/data/json_io.h"

namespace lamp {
namespace {

const std::filesystem::path kEvalFixtures = std::filesystem::path(LAMP_FIXTURES) / "eval";

class Conformance : public testing::TestWithParam<std::string> {};

TEST_P(Conformance, MatchesOfficialEvaluator) {
  std::filesystem::path dir = kEvalFixtures / GetParam();
  simdjson::dom::parser parser;
  simdjson::dom::element oracle = parser.load((dir / "oracle.json").string());
  Outputs golds = read_outputs(dir / "golds.json");
  Outputs preds = read_outputs(dir / "preds.json");
  const TaskSpec& task = task_of_outputs(std::string(std::string_view(oracle["task"])), golds);
  EvalOptions options;
  if (oracle["official_error"].error() == simdjson::SUCCESS) {
    EXPECT_THROW(evaluate(task, golds, preds, options), Error);
    return;
  }
  EvalReport report = evaluate(task, golds, preds, options);
  simdjson::dom::object official = oracle["official"];
  ASSERT_EQ(report.metrics.size(), official.size());
  for (const auto& [key, value] : report.metrics) {
    double expected = official[key];
    if (task.metric == MetricKind::kGeneration) {
      // The official number is a bootstrap median; lamp reports the exact mean.
      std::string_view plain = key == "rouge-1" ? "rouge1" : "rougeL";
      expected = oracle["extras"]["mean_fmeasure"][plain];
      EXPECT_NEAR(value, double(official[key]), 5e-3) << key << " vs the official median";
    }
    EXPECT_NEAR(value, expected, 1e-9) << key;
  }
}

std::vector<std::string> fixture_cases() {
  std::vector<std::string> cases;
  for (const auto& entry : std::filesystem::directory_iterator(kEvalFixtures)) {
    if (entry.is_directory()) cases.push_back(entry.path().filename().string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

INSTANTIATE_TEST_SUITE_P(EvalFixtures, Conformance, testing::ValuesIn(fixture_cases()),
                         [](const auto& test_case) { return test_case.param; });

TEST(Conformance, AllFixtureCasesFound) { EXPECT_EQ(fixture_cases().size(), 7u); }

}  // namespace
}  // namespace lamp
