// `lamp eval` end to end: the binary, its output, its exit status and its one-line errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "lamp/core/test_util.h"
#include "lamp/data/zip.h"

namespace lamp {
namespace {

using testing_util::run_lamp;
using testing_util::TempDir;

const std::filesystem::path kEval = std::filesystem::path(LAMP_FIXTURES) / "eval";

std::string fixture_args(const std::string& name) {
  return "--golds " + (kEval / name / "golds.json").string() + " --preds " +
         (kEval / name / "preds.json").string();
}

std::size_t lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

TEST(EvalCli, PrintsOfficialKeysAndWritesOut) {
  TempDir dir;
  auto r = run_lamp("eval --task LaMP_1 " + fixture_args("lamp1_strip_and_outside_labels") +
                    " --out " + (dir / "r.json").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "{\"accuracy\": 0.575, \"f1\": 0.6866071428571429}\n");
  EXPECT_EQ(testing_util::slurp(dir / "r.json"), r.out);
  EXPECT_NE(r.err.find("13 of 40 predictions are not one of the LaMP-1 labels"), std::string::npos);
}

TEST(EvalCli, TaskComesFromTheFilesWhenNotGiven) {
  auto r = run_lamp("eval " + fixture_args("lamp3_parsing_fallback_float32"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "{\"MAE\": 2.1470588235294117, \"RMSE\": 2.726162280811949}\n");
}

TEST(EvalCli, RougeHasMeanAndSeededInterval) {
  auto a = run_lamp("eval " + fixture_args("lamp_4_rouge") + " --seed 3");
  auto b = run_lamp("eval " + fixture_args("lamp_4_rouge") + " --seed 3");
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.out.rfind("{\"rouge-1\": 0.631535895283047", 0), 0u) << a.out;
  EXPECT_NE(a.out.find("\"rouge-L_bootstrap\": {\"low\": "), std::string::npos);
  auto none = run_lamp("eval " + fixture_args("lamp_4_rouge") + " --bootstrap 0");
  EXPECT_EQ(none.out.find("bootstrap"), std::string::npos) << none.out;
}

TEST(EvalCli, OfficialCrashesAreOneLineErrors) {
  for (const char* name : {"lamp3_nan_prediction_crashes", "lamp4_id_mismatch"}) {
    TempDir dir;
    auto r = run_lamp("eval " + fixture_args(name) + " --out " + (dir / "r.json").string());
    EXPECT_EQ(r.status, 1) << name;
    EXPECT_EQ(r.out, "") << name;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("lamp: error: ", 0), 0u) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "r.json"));
  }
  auto r = run_lamp("eval " + fixture_args("lamp3_nan_prediction_crashes"));
  EXPECT_NE(r.err.find("id \"x\""), std::string::npos) << r.err;
}

TEST(EvalCli, WrongTaskAndBadFlagsFail) {
  auto r = run_lamp("eval --task LaMP-2 " + fixture_args("lamp1_strip_and_outside_labels"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("the file is for LaMP_1, not LaMP-2"), std::string::npos) << r.err;
  EXPECT_NE(run_lamp("eval --task LaMP-1").status, 0);
  EXPECT_NE(run_lamp("eval --golds /nonexistent --preds /nonexistent").status, 0);
  TempDir dir;
  auto bad = run_lamp("eval --golds " + dir.write("g.json", "[{\"id\": 1, ").string() +
                      " --preds " + dir.write("p.json", "[]").string() + " --task LaMP-4");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("g.json: byte "), std::string::npos) << bad.err;
}

std::vector<ZipEntry> seven_tasks(const std::string& folder, int upto = 7) {
  std::vector<ZipEntry> files;
  const char* outputs[] = {"[2]", "comedy", "3", "a headline", "a title", "a subject", "a tweet"};
  for (int n = 1; n <= upto; ++n) {
    files.push_back({folder + "LaMP_" + std::to_string(n) + ".json",
                     "{\"task\": \"LaMP_" + std::to_string(n) + "\", \"golds\": [{\"id\": \"" +
                         std::to_string(n) + "\", \"output\": \"" + outputs[n - 1] + "\"}]}"});
  }
  return files;
}

TEST(EvalCli, ZipsOfAllSevenTasksLikeEvalAll) {
  TempDir dir;
  auto preds = seven_tasks("nested/dir/");
  preds.push_back({"__MACOSX/nested/._LaMP_1.json", "\x00\x05\x16\x07 not json"});
  write_zip(dir / "golds.zip", seven_tasks(""));
  write_zip(dir / "preds.zip", preds);
  auto r = run_lamp("eval --golds-zip " + (dir / "golds.zip").string() + " --preds-zip " +
                    (dir / "preds.zip").string() + " --bootstrap 0");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "{\"LaMP_1\": {\"accuracy\": 1.0, \"f1\": 0.5}, \"LaMP_2\": {\"accuracy\": 1.0, \"f1\": "
      "0.06666666666666667}, \"LaMP_3\": {\"MAE\": 0.0, \"RMSE\": 0.0}, \"LaMP_4\": "
      "{\"rouge-1\": 1.0, \"rouge-L\": 1.0}, \"LaMP_5\": {\"rouge-1\": 1.0, \"rouge-L\": 1.0}, "
      "\"LaMP_6\": {\"rouge-1\": 1.0, \"rouge-L\": 1.0}, \"LaMP_7\": {\"rouge-1\": 1.0, "
      "\"rouge-L\": 1.0}}\n");

  write_zip(dir / "six.zip", seven_tasks("", 6));
  auto missing = run_lamp("eval --golds-zip " + (dir / "golds.zip").string() + " --preds-zip " +
                          (dir / "six.zip").string());
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("missing: LaMP_7"), std::string::npos) << missing.err;
  auto not_zip = run_lamp("eval --golds-zip " + dir.write("x.zip", "plain").string() +
                          " --preds-zip " + (dir / "six.zip").string());
  EXPECT_EQ(not_zip.status, 1);
  EXPECT_NE(not_zip.err.find("cannot open zip archive"), std::string::npos) << not_zip.err;
}

}  // namespace
}  // namespace lamp
