// `lamp compare` end to end: two prediction files with --golds, two run folders matched by cell
// name (golds from --golds or the run's manifest), and its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <string>

#include "lamp/core/test_util.h"

namespace lamp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_util::run_lamp;
using testing_util::TempDir;

const char* kGolds =
    R"({"task": "LaMP_3", "golds": [{"id": "1", "output": "3"}, {"id": "2", "output": "5"}]})";
const char* kPredsA = R"([{"id": "1", "output": "3"}, {"id": "2", "output": "3"}])";
const char* kPredsB = R"([{"id": "1", "output": "4"}, {"id": "2", "output": "5"}])";

// Writes RUN/cells/CELL/predictions.json.
void write_cell(const TempDir& dir, const std::string& run, const std::string& cell,
                const char* predictions) {
  std::filesystem::create_directories(dir / run / "cells" / cell);
  dir.write(run + "/cells/" + cell + "/predictions.json", predictions);
}

TEST(CompareCli, TwoPredictionFilesWithGolds) {
  TempDir dir;
  std::string args = "compare --golds " + dir.write("g.json", kGolds).string() + " " +
                     dir.write("a.json", kPredsA).string() + " " +
                     dir.write("b.json", kPredsB).string() + " --resamples 200 --seed 3";
  auto r = run_lamp(args + " --out " + (dir / "c.json").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("LaMP-3: 2 examples, 200 paired bootstrap resamples (seed 3)"));
  EXPECT_THAT(r.out, HasSubstr("MAE"));
  EXPECT_THAT(r.out, HasSubstr("RMSE"));
  simdjson::dom::parser parser;
  simdjson::dom::element c = parser.load((dir / "c.json").string())["comparisons"].at(0);
  EXPECT_EQ(int64_t(c["examples"]), 2);
  EXPECT_EQ(double(c["metrics"]["MAE"]["a"]), 1.0);
  EXPECT_EQ(double(c["metrics"]["MAE"]["b"]), 0.5);
  EXPECT_EQ(double(c["metrics"]["MAE"]["difference"]), -0.5);
  double p = c["metrics"]["MAE"]["p_value"];
  EXPECT_GT(p, 0);
  EXPECT_LE(p, 1);
  // Seeded: the same command prints the same numbers.
  EXPECT_EQ(run_lamp(args).out, r.out);
}

TEST(CompareCli, RunFoldersByCellName) {
  TempDir dir;
  write_cell(dir, "a", "bm25-k1", kPredsA);
  write_cell(dir, "a", "none", kPredsA);
  write_cell(dir, "a", "random-k1", kPredsA);  // not in b: left out
  write_cell(dir, "b", "bm25-k1", kPredsB);
  write_cell(dir, "b", "none", kPredsA);
  std::string golds = dir.write("dev_outputs.json", kGolds).string();
  dir.write("a/manifest.json", R"({"inputs": [{"path": "q.json"}, {"path": ")" + golds + R"("}]})");
  auto r =
      run_lamp("compare " + (dir / "a").string() + " " + (dir / "b").string() + " --resamples 50");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("LaMP-3 bm25-k1: 2 examples"));
  EXPECT_THAT(r.out, HasSubstr("LaMP-3 none: 2 examples"));
  EXPECT_THAT(r.out, Not(HasSubstr("random-k1")));
}

TEST(CompareCli, Errors) {
  TempDir dir;
  std::string a = dir.write("a.json", kPredsA).string();
  auto no_golds = run_lamp("compare " + a + " " + a);
  EXPECT_EQ(no_golds.status, 1);
  EXPECT_THAT(no_golds.err, HasSubstr("needs --golds"));
  write_cell(dir, "run", "none", kPredsA);
  auto mixed = run_lamp("compare " + (dir / "run").string() + " " + a);
  EXPECT_EQ(mixed.status, 1);
  EXPECT_THAT(mixed.err, HasSubstr("two prediction files or two run folders"));
  auto no_manifest = run_lamp("compare " + (dir / "run").string() + " " + (dir / "run").string());
  EXPECT_EQ(no_manifest.status, 1);
  EXPECT_THAT(no_manifest.err, HasSubstr("pass --golds"));
  auto disjoint = run_lamp("compare --golds " + dir.write("g.json", kGolds).string() + " " + a +
                           " " + dir.write("c.json", R"([{"id": "9", "output": "1"}])").string());
  EXPECT_EQ(disjoint.status, 1);
  EXPECT_THAT(disjoint.err, HasSubstr("predict none of the same ids"));
}

}  // namespace
}  // namespace lamp
