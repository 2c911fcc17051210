// Dense ranking with a deterministic fake embedder, against a brute-force reference that embeds
// each text alone and sorts (score, index) pairs: the torch.topk order with lower-index ties, the
// batching and deduplication of embedder calls, and the embedding cache across runs and models.
#include "lamp/retrieval/dense.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/progress.h"
#include "lamp/core/random.h"
#include "lamp/core/test_util.h"
#include "lamp/data/json_io.h"
#include "lamp/retrieval/query.h"
#include "lamp/retrieval/retriever.h"

namespace lamp {
namespace {

namespace fs = std::filesystem;
using testing_util::TempDir;

const fs::path kExamples = fs::path(LAMP_FIXTURES) / ".." / ".." / "examples";

// A hashed bag of words: each space-separated word adds a vector of small integers drawn from
// its hash (salted by the model name), so sums and dot products are exact and equal bags of words
// tie exactly. `fixed` overrides the vector of whole texts. Records every call.
class FakeEmbedder : public TextEmbedder {
 public:
  FakeEmbedder(std::string key, int dim) : key_(std::move(key)), dim_(dim) {}

  std::string cache_key() const override { return key_; }
  int dim() const override { return dim_; }
  void embed(std::span<const std::string_view> texts, std::span<float> out) override {
    EXPECT_EQ(out.size(), texts.size() * static_cast<std::size_t>(dim_));
    calls.push_back(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
      encoded.emplace_back(texts[i]);
      std::vector<float> v = vector_of(texts[i]);
      std::copy(v.begin(), v.end(), out.begin() + static_cast<std::ptrdiff_t>(i * dim_));
    }
  }

  std::vector<float> vector_of(std::string_view text) const {
    if (auto it = fixed.find(std::string(text)); it != fixed.end()) return it->second;
    std::vector<float> v(static_cast<std::size_t>(dim_), 0.0f);
    const std::uint64_t salt = hash_text(key_).lo;
    std::size_t begin = 0;
    while (begin < text.size()) {
      std::size_t end = std::min(text.find(' ', begin), text.size());
      if (end > begin) {
        std::uint64_t state = hash_text(text.substr(begin, end - begin)).lo ^ salt;
        for (float& x : v) x += static_cast<float>(random_below(state, 5)) - 2.0f;
      }
      begin = end + 1;
    }
    return v;
  }

  std::map<std::string, std::vector<float>> fixed;
  std::vector<std::size_t> calls;    // texts per embed() call
  std::vector<std::string> encoded;  // every text embedded, in order

 private:
  std::string key_;
  int dim_;
};

// What rank_dense must produce, computed the plain way.
std::vector<SampleRanking> brute_force(const Questions& questions, const FakeEmbedder& embedder,
                                       bool use_date) {
  std::vector<SampleRanking> out(questions.size());
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const Sample& sample = questions.samples()[i];
    const std::vector<float> query = embedder.vector_of(extract_query(questions.task(), sample));
    std::vector<std::pair<float, std::uint32_t>> keyed;  // (-score, index): sorts best first
    for (const ProfileItem& item : questions.profile(sample)) {
      const std::vector<float> doc =
          embedder.vector_of(document_text(questions.task(), item, use_date));
      double dot = 0;
      for (std::size_t d = 0; d < query.size(); ++d) dot += double{query[d]} * double{doc[d]};
      out[i].scores.push_back(static_cast<float>(dot));
      keyed.emplace_back(-static_cast<float>(dot), static_cast<std::uint32_t>(keyed.size()));
    }
    std::sort(keyed.begin(), keyed.end());
    for (const auto& [negated, index] : keyed) out[i].order.push_back(index);
  }
  return out;
}

std::size_t distinct_texts(const Questions& questions, bool use_date) {
  std::set<std::string> texts;
  for (const Sample& sample : questions.samples()) {
    texts.insert(extract_query(questions.task(), sample));
    for (const ProfileItem& item : questions.profile(sample)) {
      texts.insert(document_text(questions.task(), item, use_date));
    }
  }
  return texts.size();
}

void expect_equal(const std::vector<SampleRanking>& ours, const std::vector<SampleRanking>& want,
                  const std::string& what) {
  ASSERT_EQ(ours.size(), want.size()) << what;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].order, want[i].order) << what << ", sample " << i;
    EXPECT_EQ(ours[i].scores, want[i].scores) << what << ", sample " << i;
  }
}

Questions example(int task) {
  return read_questions(kExamples / ("LaMP-" + std::to_string(task)) / "dev_questions.json",
                        &find_task("LaMP-" + std::to_string(task)));
}

TEST(DenseRanking, EqualsBruteForceOnEveryTask) {
  std::size_t samples_with_ties = 0;
  for (int task = 1; task <= 7; ++task) {
    Questions questions = example(task);
    for (bool use_date : {false, true}) {
      // Three dimensions of small integers: exact ties are common.
      FakeEmbedder embedder("bow", 3);
      const std::vector<SampleRanking> want = brute_force(questions, embedder, use_date);
      for (const SampleRanking& r : want) {
        std::set<double> distinct(r.scores.begin(), r.scores.end());
        samples_with_ties += distinct.size() < r.scores.size();
      }
      struct Setup {
        int threads;
        std::size_t block_texts, batch_texts;
      };
      for (Setup s : {Setup{1, 1, 1}, Setup{2, 7, 5}, Setup{3, 1 << 16, 1024}}) {
        const std::string what = "LaMP-" + std::to_string(task) + (use_date ? " with dates" : "") +
                                 ", threads " + std::to_string(s.threads) + ", blocks of " +
                                 std::to_string(s.block_texts) + ", batches of " +
                                 std::to_string(s.batch_texts);
        embedder.calls.clear();
        DenseStats stats;
        std::vector<SampleRanking> ours = rank_dense(questions, embedder, nullptr,
                                                     {.use_date = use_date,
                                                      .threads = s.threads,
                                                      .batch_texts = s.batch_texts,
                                                      .block_texts = s.block_texts},
                                                     &stats);
        expect_equal(ours, want, what);
        for (std::size_t n : embedder.calls) EXPECT_LE(n, s.batch_texts) << what;
        EXPECT_EQ(stats.from_cache, 0u);
        EXPECT_EQ(stats.encoded, stats.texts);
      }
    }
  }
  EXPECT_GT(samples_with_ties, 50u) << "the fixture must exercise the tie rule";
}

// A LaMP-7 file: query "Paraphrase ...: <q>", one profile of tweets per sample.
Questions tweets(const TempDir& dir,
                 const std::vector<std::pair<std::string, std::vector<std::string>>>& samples) {
  std::string json = "[";
  for (std::size_t i = 0; i < samples.size(); ++i) {
    json += (i ? ", " : "") + std::string("{\"id\": \"s") + std::to_string(i) +
            "\", \"input\": \"Paraphrase the following tweet without any explanation before or "
            "after it: " +
            samples[i].first + "\", \"profile\": [";
    for (std::size_t j = 0; j < samples[i].second.size(); ++j) {
      json += (j ? ", " : "") + std::string("{\"id\": \"p") + std::to_string(j) +
              "\", \"text\": \"" + samples[i].second[j] + "\", \"date\": \"2020-01-0" +
              std::to_string(j % 9 + 1) + "\"}";
    }
    json += "]}";
  }
  json += "]";
  return read_questions(dir.write("q" + std::to_string(samples.size()) + ".json", json),
                        &find_task("LaMP-7"));
}

TEST(DenseRanking, TorchTopkOrderWithLowerIndexFirstOnTies) {
  TempDir dir;
  Questions questions = tweets(dir, {{"q", {"low", "mid", "top", "mid2", "nan", "neg", "top2"}}});
  FakeEmbedder embedder("fixed", 2);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  embedder.fixed = {{"q", {1, 0}},    {"low", {1, 9}},   {"mid", {2, 0}},  {"top", {3, 1}},
                    {"mid2", {2, 5}}, {"nan", {nan, 0}}, {"neg", {-4, 0}}, {"top2", {3, -1}}};
  std::vector<SampleRanking> r = rank_dense(questions, embedder, nullptr, {});
  ASSERT_EQ(r.size(), 1u);
  // NaN first (torch.topk's convention), then 3, 3 (ties: lower index), 2, 2, 1, -4.
  EXPECT_EQ(r[0].order, (std::vector<std::uint32_t>{4, 2, 6, 1, 3, 0, 5}));
  EXPECT_EQ(r[0].scores[2], 3.0);
  EXPECT_TRUE(std::isnan(r[0].scores[4]));

  std::vector<float> scores = {0.0f, -0.0f,
                               1.0f, -std::numeric_limits<float>::infinity(),
                               nan,  std::numeric_limits<float>::infinity(),
                               nan,  1.0f};
  std::vector<std::uint32_t> order(scores.size());
  topk_order(scores, order);
  EXPECT_EQ(order, (std::vector<std::uint32_t>{4, 6, 5, 2, 7, 0, 1, 3}));
}

TEST(DenseRanking, ScoresAreFloat32DotProducts) {
  TempDir dir;
  Questions questions = tweets(dir, {{"q", {"a", "b"}}});
  FakeEmbedder embedder("fixed", 2);
  // 1 + 2^-30 is not a float32: both round to 1 and tie, as in torch.tensor(scores).
  embedder.fixed = {{"q", {1, 1}}, {"a", {1, 0}}, {"b", {1, 0x1p-30f}}};
  std::vector<SampleRanking> r = rank_dense(questions, embedder, nullptr, {});
  EXPECT_EQ(r[0].scores, (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(r[0].order, (std::vector<std::uint32_t>{0, 1}));
}

TEST(DenseRanking, EachDistinctTextIsEncodedOnceInBatches) {
  TempDir dir;
  // Texts repeat within and across samples, and a document equals another sample's query.
  Questions questions = tweets(dir, {{"red fox", {"a b", "c", "a b", "red fox"}},
                                     {"blue", {"c", "red fox", "d", "e", "f"}},
                                     {"red fox", {"g"}}});
  FakeEmbedder embedder("bow", 4);
  DenseStats stats;
  std::vector<SampleRanking> r =
      rank_dense(questions, embedder, nullptr, {.batch_texts = 3}, &stats);
  expect_equal(r, brute_force(questions, embedder, false), "shared texts");
  // red fox, a b, c, blue, d, e, f, g.
  EXPECT_EQ(stats.texts, 8u);
  EXPECT_EQ(stats.encoded, 8u);
  EXPECT_EQ(embedder.calls, (std::vector<std::size_t>{3, 3, 2}));
  std::set<std::string> once(embedder.encoded.begin(), embedder.encoded.end());
  EXPECT_EQ(once.size(), embedder.encoded.size());

  // Blocks of one sample: a text is encoded once per block it appears in; the progress bar
  // counts the samples.
  embedder.encoded.clear();
  ProgressBar bar("dense", questions.size(), nullptr);
  r = rank_dense(questions, embedder, nullptr, {.block_texts = 1, .progress = &bar}, &stats);
  expect_equal(r, brute_force(questions, embedder, false), "blocks of one sample");
  EXPECT_EQ(stats.texts, 3u + 6u + 2u);
  EXPECT_EQ(embedder.encoded.size(), stats.texts);
  EXPECT_EQ(bar.done(), 3u);
}

TEST(DenseRanking, ASecondRunEncodesNothing) {
  TempDir dir;
  Questions questions = example(5);
  const std::size_t n = distinct_texts(questions, false);
  std::vector<SampleRanking> first;
  {
    FakeEmbedder embedder("bow", 8);
    EmbeddingCache cache(dir.path(), embedder.cache_key(), embedder.dim());
    DenseStats stats;
    first = rank_dense(questions, embedder, &cache, {.batch_texts = 100}, &stats);
    EXPECT_EQ(stats.texts, n);
    EXPECT_EQ(stats.encoded, n);
    EXPECT_EQ(stats.from_cache, 0u);
    EXPECT_EQ(cache.size(), n);
    expect_equal(first, brute_force(questions, embedder, false), "first run");
  }
  {
    FakeEmbedder embedder("bow", 8);
    EmbeddingCache cache(dir.path(), embedder.cache_key(), embedder.dim());
    DenseStats stats;
    expect_equal(rank_dense(questions, embedder, &cache, {.threads = 2}, &stats), first,
                 "second run");
    EXPECT_TRUE(embedder.calls.empty());
    EXPECT_EQ(stats.from_cache, n);
    EXPECT_EQ(stats.encoded, 0u);

    // With dates the documents are new texts; the queries are not.
    std::vector<SampleRanking> dated =
        rank_dense(questions, embedder, &cache, {.use_date = true}, &stats);
    expect_equal(dated, brute_force(questions, embedder, true), "with dates");
    EXPECT_EQ(stats.from_cache + stats.encoded, distinct_texts(questions, true));
    std::set<std::string> queries;
    for (const Sample& sample : questions.samples()) {
      queries.insert(extract_query(questions.task(), sample));
    }
    EXPECT_EQ(stats.from_cache, queries.size());
  }
}

TEST(DenseRanking, VectorsComeFromTheCacheByText) {
  TempDir dir;
  Questions questions = tweets(dir, {{"q", {"a", "b", "c"}}});
  FakeEmbedder embedder("fixed", 2);
  embedder.fixed = {{"q", {1, 0}}, {"a", {3, 0}}, {"b", {2, 0}}, {"c", {1, 0}}};
  EmbeddingCache cache(dir.path(), embedder.cache_key(), embedder.dim());
  // A vector already stored for "c" is used instead of encoding it.
  std::vector<TextHash> hashes = {hash_text("c")};
  std::vector<float> stored = {5, 0};
  cache.add(hashes, stored);
  DenseStats stats;
  std::vector<SampleRanking> r = rank_dense(questions, embedder, &cache, {}, &stats);
  EXPECT_EQ(r[0].order, (std::vector<std::uint32_t>{2, 0, 1}));
  EXPECT_EQ(stats.from_cache, 1u);
  EXPECT_EQ(embedder.encoded, (std::vector<std::string>{"q", "a", "b"}));
}

TEST(DenseRanking, ModelsDoNotShareCachedVectors) {
  TempDir dir;
  Questions questions = example(7);
  FakeEmbedder a("model-a", 4), b("model-b", 4);
  {
    EmbeddingCache cache(dir.path(), a.cache_key(), a.dim());
    rank_dense(questions, a, &cache, {});
  }
  EmbeddingCache cache(dir.path(), b.cache_key(), b.dim());
  DenseStats stats;
  std::vector<SampleRanking> r = rank_dense(questions, b, &cache, {}, &stats);
  EXPECT_EQ(stats.from_cache, 0u);
  expect_equal(r, brute_force(questions, b, false), "model b");
  EXPECT_NE(brute_force(questions, a, false)[0].scores, r[0].scores);
}

TEST(DenseRanking, AMissingQueryStopsTheRunBeforeEncoding) {
  TempDir dir;
  std::string json =
      R"([{"id": "1", "input": "Paraphrase the following tweet: x", "profile": [{"id": "a", "text": "t"}]},
          {"id": "2", "input": "no marker", "profile": [{"id": "a", "text": "t"}]}])";
  Questions questions = read_questions(dir.write("q.json", json), &find_task("LaMP-7"));
  FakeEmbedder embedder("bow", 2);
  try {
    rank_dense(questions, embedder, nullptr, {.block_texts = 1});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().record_id, "2");
  }
  EXPECT_TRUE(embedder.calls.empty());
}

TEST(DenseRanking, RankProfilesDispatchesToIt) {
  EXPECT_EQ(parse_ranker("contriever"), RankerKind::kContriever);
  Questions questions = example(3);
  FakeEmbedder embedder("bow", 3);
  DenseStats stats;
  std::vector<SampleRanking> r = rank_profiles(
      questions, {.ranker = RankerKind::kContriever, .embedder = &embedder, .dense_stats = &stats});
  expect_equal(r, brute_force(questions, embedder, false), "rank_profiles");
  EXPECT_EQ(stats.encoded, distinct_texts(questions, false));
}

}  // namespace
}  // namespace lamp
