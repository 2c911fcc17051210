// lamp rank and lamp merge end to end.
#include <gtest/gtest.h>

#include <filesystem>

#include "lamp/core/test_util.h"
#include "lamp/data/json_io.h"

namespace lamp {
namespace {

using testing_util::run_lamp;
using testing_util::slurp;
using testing_util::TempDir;

const std::filesystem::path kBm25 = std::filesystem::path(LAMP_FIXTURES) / "bm25";

TEST(RankCli, Bm25FileIsByteForByteTheOfficialOne) {
  for (int n = 1; n <= 7; ++n) {
    TempDir dir;
    std::filesystem::path fixture = kBm25 / ("LaMP-" + std::to_string(n));
    auto r = run_lamp(
        "rank --task LaMP_" + std::to_string(n) + " --ranker bm25 --threads 2 --questions " +
        (fixture / "questions.json").string() + " --out " + (dir / "r.json").string());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(slurp(dir / "r.json"), slurp(fixture / "ranking.json")) << n;
  }
}

TEST(RankCli, RecencyRandomAndErrors) {
  TempDir dir;
  std::string q =
      dir.write(
             "q.json",
             R"([{"id": "1", "input": "Paraphrase the following tweet without any explanation before or after it: x",
    "profile": [{"id": "a", "text": "t", "date": "2019-05-01"}, {"id": "b", "text": "t", "date": "2020-01"},
                {"id": "c", "text": "t", "date": "2019-05-01"}, {"id": "d", "text": "t", "date": "2019-12-31"}]}])")
          .string();
  auto r =
      run_lamp("rank --ranker recency --questions " + q + " --out " + (dir / "r.json").string());
  ASSERT_EQ(r.status, 0) << r.err;
  // Most recent first; equal dates in reverse file order, like sorted(...)[::-1].
  EXPECT_EQ(slurp(dir / "r.json"), R"({"1": ["b", "d", "c", "a"]})");

  auto a = run_lamp("rank --ranker random --seed 5 --questions " + q + " --out " +
                    (dir / "a.json").string());
  auto b = run_lamp("rank --ranker random --seed 5 --questions " + q + " --out " +
                    (dir / "b.json").string());
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(slurp(dir / "a.json"), slurp(dir / "b.json"));
  Ranking ranking = read_ranking(dir / "a.json");
  std::vector<std::string_view> ids = ranking.entries[0].profile_ids;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string_view>{"a", "b", "c", "d"}));  // a permutation

  std::string bad =
      dir.write(
             "bad.json",
             R"([{"id": "7", "input": "Paraphrase: x", "profile": [{"id": "a", "text": "t", "date": "May 2019"}]}])")
          .string();
  auto e = run_lamp("rank --task LaMP-7 --ranker recency --questions " + bad + " --out " +
                    (dir / "e.json").string());
  EXPECT_EQ(e.status, 1);
  EXPECT_NE(e.err.find("id \"7\": field \"profile[0].date\": malformed date \"May 2019\""),
            std::string::npos)
      << e.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "e.json"));

  std::string nomarker =
      dir.write(
             "nm.json",
             R"([{"id": "9", "input": "What is the score of the following review on a scale of 1 to 5? no marker", "profile": [{"id": "a", "text": "t", "score": "1"}]}])")
          .string();
  auto m = run_lamp("rank --task LaMP-3 --questions " + nomarker + " --out " +
                    (dir / "m.json").string());
  EXPECT_EQ(m.status, 1);
  EXPECT_NE(m.err.find("nm.json: id \"9\": field \"input\""), std::string::npos) << m.err;
  EXPECT_NE(m.err.find("\"review:\""), std::string::npos) << m.err;
}

TEST(MergeCli, ReordersProfilesAndAttachesOutputs) {
  TempDir dir;
  std::string q =
      dir.write(
             "q.json",
             R"([{"id": "1", "input": "Paraphrase: x", "profile": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]},
                                          {"id": "2", "input": "Paraphrase: y", "profile": [{"id": "c", "text": "C"}]}])")
          .string();
  std::string o =
      dir.write(
             "o.json",
             R"({"task": "LaMP_7", "golds": [{"id": "2", "output": "two"}, {"id": "1", "output": "one"}]})")
          .string();
  std::string r = dir.write("r.json", R"({"1": ["b", "a"], "2": ["c"]})").string();
  auto ok = run_lamp("merge --task LaMP-7 --questions " + q + " --outputs " + o + " --ranking " +
                     r + " --out " + (dir / "m.json").string());
  ASSERT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(
      slurp(dir / "m.json"),
      R"([{"id": "1", "input": "Paraphrase: x", "profile": [{"text": "B", "id": "b"}, {"text": "A", "id": "a"}], "output": "one"}, )"
      R"({"id": "2", "input": "Paraphrase: y", "profile": [{"text": "C", "id": "c"}], "output": "two"}])");

  struct Case {
    const char* ranking;
    const char* outputs;
    const char* message;
  };
  for (Case c : std::initializer_list<Case>{
           {R"({"1": ["b"], "2": ["c"]})", nullptr, "leaves out profile ids: \"a\""},
           {R"({"1": ["b", "a", "z"], "2": ["c"]})", nullptr,
            "does not have (or lists them twice): \"z\""},
           {R"({"1": ["b", "a"]})", nullptr, "1 sample(s) have no ranking: \"2\""},
           {R"({"1": ["b", "a"], "2": ["c"], "3": []})", nullptr, "not in the questions: \"3\""},
           {R"({"1": ["b", "a"], "2": ["c"]})", R"([{"id": "1", "output": "one"}])",
            "1 sample(s) have no output: \"2\""},
       }) {
    std::string rf = dir.write("rc.json", c.ranking).string();
    std::string of = c.outputs ? dir.write("oc.json", c.outputs).string() : o;
    auto e = run_lamp("merge --task LaMP-7 --questions " + q + " --outputs " + of + " --ranking " +
                      rf + " --out " + (dir / "bad.json").string());
    EXPECT_EQ(e.status, 1) << c.message;
    EXPECT_NE(e.err.find(c.message), std::string::npos) << e.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "bad.json"));
  }
}

}  // namespace
}  // namespace lamp
