// lamp rank and lamp prompt with the Contriever ranker end to end, on the tiny random BERT in
// tests/fixtures/models/bert (its rankings mean nothing; the plumbing, the cache and the
// agreement between commands are what is tested). Offline: HF_HUB_OFFLINE=1 throughout.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "lamp/core/test_util.h"
#include "lamp/data/json_io.h"

namespace lamp {
namespace {

namespace fs = std::filesystem;
using testing_util::run_lamp;
using testing_util::slurp;
using testing_util::TempDir;

const fs::path kFixtures(LAMP_FIXTURES);
const fs::path kModel = kFixtures / "models" / "bert";
const fs::path kExamples = kFixtures / ".." / ".." / "examples";

std::string offline(const TempDir& dir) {
  return "HF_HUB_OFFLINE=1 HF_HUB_CACHE=" + (dir / "hub").string();
}

std::string contriever(const fs::path& questions, const fs::path& out) {
  return "--ranker contriever --retriever-model " + kModel.string() + " --questions " +
         questions.string() + " --out " + out.string();
}

TEST(DenseRankerCli, RankEncodesOnceThenReadsTheCache) {
  TempDir dir;
  const fs::path questions = kExamples / "LaMP-7" / "dev_questions.json";
  const std::string cache = " --embedding-cache " + (dir / "cache").string();
  auto first =
      run_lamp("rank --threads 1 " + contriever(questions, dir / "a.json") + cache, offline(dir));
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_NE(first.err.find("lamp: embeddings: 0 texts from the cache, "), std::string::npos)
      << first.err;

  // Every profile comes back whole, in some order.
  Questions q = read_questions(questions, nullptr);
  Ranking ranking = read_ranking(dir / "a.json");
  ASSERT_EQ(ranking.entries.size(), q.size());
  for (std::size_t i = 0; i < q.size(); ++i) {
    std::vector<std::string_view> want;
    for (const ProfileItem& item : q.profile(q.samples()[i])) want.push_back(item.id);
    std::vector<std::string_view> got = ranking.entries[i].profile_ids;
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want) << i;
  }

  // A second run (another thread count, a k sweep, ...) encodes nothing and agrees.
  auto second =
      run_lamp("rank --threads 2 " + contriever(questions, dir / "b.json") + cache, offline(dir));
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_NE(second.err.find(" 0 encoded"), std::string::npos) << second.err;
  EXPECT_EQ(second.err.find(" 0 texts from the cache"), std::string::npos) << second.err;
  EXPECT_EQ(slurp(dir / "b.json"), slurp(dir / "a.json"));

  // Without the cache everything is encoded again, to the same ranking.
  auto none =
      run_lamp("rank --threads 1 --no-embedding-cache " + contriever(questions, dir / "c.json"),
               offline(dir));
  ASSERT_EQ(none.status, 0) << none.err;
  EXPECT_NE(none.err.find("texts encoded (no embedding cache)"), std::string::npos) << none.err;
  EXPECT_EQ(slurp(dir / "c.json"), slurp(dir / "a.json"));
}

TEST(DenseRankerCli, Int8VectorsHaveTheirOwnCache) {
  TempDir dir;
  const fs::path questions = kExamples / "LaMP-7" / "dev_questions.json";
  const std::string cache = " --embedding-cache " + (dir / "cache").string();
  auto fp32 = run_lamp("rank --threads 1 " + contriever(questions, dir / "fp32.json") + cache,
                       offline(dir));
  ASSERT_EQ(fp32.status, 0) << fp32.err;
  auto int8 = run_lamp("rank --threads 1 --retriever-compute-type int8 " +
                           contriever(questions, dir / "int8.json") + cache,
                       offline(dir));
  ASSERT_EQ(int8.status, 0) << int8.err;
  // Nothing came from the fp32 vectors' cache.
  EXPECT_NE(int8.err.find("lamp: embeddings: 0 texts from the cache, "), std::string::npos)
      << int8.err;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "cache"), fs::directory_iterator{}), 2);
  EXPECT_EQ(read_ranking(dir / "int8.json").entries.size(),
            read_ranking(dir / "fp32.json").entries.size());
}

TEST(DenseRankerCli, PromptRanksLikeRankThenMerge) {
  TempDir dir;
  const fs::path task = kExamples / "LaMP-4";
  const std::string cache = " --embedding-cache " + (dir / "cache").string();
  const std::string t5 = " --tokenizer " + (kFixtures / "tokenizers" / "t5").string();
  ASSERT_EQ(run_lamp("rank --threads 1 --use-date " +
                         contriever(task / "dev_questions.json", dir / "r.json") + cache,
                     offline(dir))
                .status,
            0);
  ASSERT_EQ(run_lamp("merge --questions " + (task / "dev_questions.json").string() + " --outputs " +
                     (task / "dev_outputs.json").string() + " --ranking " +
                     (dir / "r.json").string() + " --out " + (dir / "m.json").string())
                .status,
            0);
  auto ranked = run_lamp("prompt --ranked --k 3 --max-length 256" + t5 + " --questions " +
                         (dir / "m.json").string() + " --out " + (dir / "ranked.jsonl").string());
  ASSERT_EQ(ranked.status, 0) << ranked.err;
  auto dense = run_lamp("prompt --threads 1 --use-date --k 3 --max-length 256" + t5 + cache + " " +
                            contriever(task / "dev_questions.json", dir / "dense.jsonl"),
                        offline(dir));
  ASSERT_EQ(dense.status, 0) << dense.err;
  EXPECT_NE(dense.err.find(" 0 encoded"), std::string::npos) << dense.err;
  EXPECT_EQ(slurp(dir / "dense.jsonl"), slurp(dir / "ranked.jsonl"));
}

TEST(DenseRankerCli, EqualItemsKeepTheirFileOrder) {
  TempDir dir;
  const fs::path questions = dir.write("q.json", R"([
    {"id": "1", "input": "Paraphrase the following tweet without any explanation before or after it: the red fox",
     "profile": [{"id": "a", "text": "a blue bird"}, {"id": "b", "text": "the red fox"},
                 {"id": "c", "text": "a blue bird"}, {"id": "d", "text": "the red fox"},
                 {"id": "e", "text": "a blue bird"}]}])");
  auto r =
      run_lamp("rank --no-embedding-cache " + contriever(questions, dir / "r.json"), offline(dir));
  ASSERT_EQ(r.status, 0) << r.err;
  // Whatever the random model's scores, equal texts score equally and keep file order; the
  // query is one of the documents, so two texts are encoded.
  const std::string ranking = slurp(dir / "r.json");
  EXPECT_TRUE(ranking == R"({"1": ["b", "d", "a", "c", "e"]})" ||
              ranking == R"({"1": ["a", "c", "e", "b", "d"]})")
      << ranking;
  EXPECT_NE(r.err.find("lamp: embeddings: 2 texts encoded (no embedding cache)"), std::string::npos)
      << r.err;

  // The default cache folder follows $LAMP_CACHE_DIR.
  auto env = run_lamp("rank " + contriever(questions, dir / "d.json"),
                      offline(dir) + " LAMP_CACHE_DIR=" + (dir / "home").string());
  ASSERT_EQ(env.status, 0) << env.err;
  ASSERT_TRUE(fs::is_directory(dir / "home" / "embeddings"));
  EXPECT_EQ(
      std::distance(fs::directory_iterator(dir / "home" / "embeddings"), fs::directory_iterator()),
      1);
  EXPECT_EQ(slurp(dir / "d.json"), ranking);
}

TEST(DenseRankerCli, MissingModelAndBadFlagsAreErrors) {
  TempDir dir;
  const fs::path questions = kExamples / "LaMP-7" / "dev_questions.json";
  auto missing =
      run_lamp("rank --ranker contriever --retriever-model no-such-org/no-such-model --questions " +
                   questions.string() + " --out " + (dir / "r.json").string(),
               offline(dir));
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err.rfind("lamp: error: ", 0), 0u) << missing.err;
  EXPECT_NE(missing.err.find("no-such-org/no-such-model"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(dir / "r.json"));

  auto both = run_lamp("rank --no-embedding-cache --embedding-cache " + dir.path().string() + " " +
                           contriever(questions, dir / "r.json"),
                       offline(dir));
  EXPECT_NE(both.status, 0);
  auto zero = run_lamp("rank --retriever-batch-size 0 " + contriever(questions, dir / "r.json"),
                       offline(dir));
  EXPECT_NE(zero.status, 0);
}

}  // namespace
}  // namespace lamp
