// lamp prompt end to end, against the official prompts.py output (fast tokenizer goldens).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "lamp/core/test_util.h"

namespace lamp {
namespace {

using testing_util::run_lamp;
using testing_util::TempDir;

const std::filesystem::path kFixtures(LAMP_FIXTURES);

TEST(PromptCli, Bm25PromptsEqualTheOfficialOnes) {
  TempDir dir;
  auto r = run_lamp("prompt --task LaMP-5 --ranker bm25 --k 2 --max-length 256 --tokenizer " +
                    (kFixtures / "tokenizers" / "t5").string() + " --questions " +
                    (kFixtures / "prompts" / "inputs" / "LaMP-5.questions.json").string() +
                    " --out " + (dir / "p.jsonl").string());
  ASSERT_EQ(r.status, 0) << r.err;
  // Expected: the outputs_fast records for k = 2, max_length = 256, BM25 retrieval.
  simdjson::dom::parser parser;
  simdjson::dom::array records = parser.load(
      (kFixtures / "prompts" / "outputs_fast" / "LaMP-5.prompts.json").string())["records"];
  std::map<std::string, std::string> expected;
  for (simdjson::dom::object rec : records) {
    if (!bool(rec["is_ranked"]) && int64_t(rec["num_retrieve"]) == 2 &&
        int64_t(rec["max_length"]) == 256) {
      expected[std::string(std::string_view(rec["id"]))] =
          std::string(std::string_view(rec["prompt"]));
    }
  }
  ASSERT_FALSE(expected.empty());
  std::istringstream lines(testing_util::slurp(dir / "p.jsonl"));
  std::size_t matched = 0;
  for (std::string line; std::getline(lines, line);) {
    simdjson::dom::parser line_parser;
    simdjson::dom::object obj = line_parser.parse(line);
    std::string id{std::string_view(obj["id"])};
    if (!expected.contains(id)) continue;
    EXPECT_EQ(std::string_view(obj["prompt"]), expected[id]) << id;
    ++matched;
  }
  EXPECT_EQ(matched, expected.size());
}

TEST(PromptCli, NoProfileAndErrors) {
  TempDir dir;
  std::string q = (kFixtures / "prompts" / "inputs" / "LaMP-3.questions.json").string();
  auto bare =
      run_lamp("prompt --no-profile --questions " + q + " --out " + (dir / "b.jsonl").string());
  ASSERT_EQ(bare.status, 0) << bare.err;
  EXPECT_NE(testing_util::slurp(dir / "b.jsonl").find("\"prompt\": \"What is the score"),
            std::string::npos);
  auto none = run_lamp("prompt --questions " + q + " --out " + (dir / "x.jsonl").string());
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.err.find("--ranker"), std::string::npos) << none.err;
  auto no_tok =
      run_lamp("prompt --ranker bm25 --questions " + q + " --out " + (dir / "x.jsonl").string());
  EXPECT_EQ(no_tok.status, 1);
  EXPECT_NE(no_tok.err.find("--tokenizer"), std::string::npos) << no_tok.err;
  auto bad_tok = run_lamp("prompt --ranker bm25 --tokenizer " + (dir / "missing").string() +
                          " --questions " + q + " --out " + (dir / "x.jsonl").string());
  EXPECT_EQ(bad_tok.status, 1);
  EXPECT_FALSE(std::filesystem::exists(dir / "x.jsonl"));
}

TEST(PromptCli, CountsPromptsThatLostTheirProfile) {
  TempDir dir;
  // A 20-token budget cannot hold four profile items at any factor: the bare input comes back.
  auto r = run_lamp("prompt --task LaMP-4 --ranker bm25 --k 4 --max-length 20 --tokenizer " +
                    (kFixtures / "tokenizers" / "t5").string() + " --questions " +
                    (kFixtures / "prompts" / "inputs" / "LaMP-4.questions.json").string() +
                    " --out " + (dir / "p.jsonl").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("prompts are the bare input"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lamp
