// Retrieval conformance and unit tests. The BM25 fixtures are the official rank_profiles.py's
// output (rank_bm25 0.2.2 + numpy 1.24) on profiles of 1, 2, 7, 16, 17, 40, 150 and 400 items,
// with exact score ties on both sides of numpy's 16-element insertion-sort boundary.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "lamp/core/error.h"
#include "lamp/core/test_util.h"
#include "lamp/data/json_io.h"
#include "lamp/retrieval/bm25.h"
#include "lamp/retrieval/numpy_sort.h"
#include "lamp/retrieval/query.h"
#include "lamp/retrieval/retriever.h"

namespace lamp {
namespace {

namespace fs = std::filesystem;
const fs::path kBm25 = fs::path(LAMP_FIXTURES) / "bm25";

class Bm25Conformance : public testing::TestWithParam<int> {};

TEST_P(Bm25Conformance, RankingAndScoresEqualOfficial) {
  fs::path dir = kBm25 / ("LaMP-" + std::to_string(GetParam()));
  Questions questions = read_questions(dir / "questions.json", &find_task("LaMP-" + std::to_string(GetParam())));
  for (int threads : {1, 2, 3}) {
    std::vector<SampleRanking> rankings = rank_profiles(questions, {.threads = threads});
    Ranking ours = to_ranking(questions, rankings);
    Ranking official = read_ranking(dir / "ranking.json");
    ASSERT_EQ(ours.entries.size(), official.entries.size());
    for (std::size_t i = 0; i < ours.entries.size(); ++i) {
      EXPECT_EQ(ours.entries[i].sample_id, official.entries[i].sample_id);
      EXPECT_EQ(ours.entries[i].profile_ids, official.entries[i].profile_ids)
          << "sample " << ours.entries[i].sample_id << " threads " << threads;
    }
    simdjson::dom::parser parser;
    simdjson::dom::object debug = parser.load((dir / "debug.json").string())["debug"];
    for (std::size_t i = 0; i < questions.size(); ++i) {
      simdjson::dom::array scores = debug[questions.samples()[i].id]["scores"];
      ASSERT_EQ(scores.size(), rankings[i].scores.size());
      std::size_t k = 0;
      for (double expected : scores) {
        EXPECT_NEAR(rankings[i].scores[k], expected, 1e-12) << "sample " << i << " doc " << k;
        EXPECT_EQ(rankings[i].scores[k], expected) << "bit-exact, sample " << i << " doc " << k;
        ++k;
      }
    }
  }
  // The file lamp rank writes is byte for byte the official one.
  testing_util::TempDir tmp;
  write_ranking(tmp / "r.json", to_ranking(questions, rank_profiles(questions, {})));
  EXPECT_EQ(testing_util::slurp(tmp / "r.json"), testing_util::slurp(dir / "ranking.json"));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Bm25Conformance, testing::Range(1, 8),
                         [](const auto& test_case) { return "LaMP_" + std::to_string(test_case.param); });

TEST(Bm25, EpsilonFloorAndStatistics) {
  // Three documents; "a" is in all three: idf = ln(0.5) - ln(3.5) < 0, so it gets eps.
  std::vector<std::vector<std::string_view>> docs = {{"a", "b"}, {"a", "c", "c"}, {"a"}};
  std::vector<std::span<const std::string_view>> spans(docs.begin(), docs.end());
  Bm25Scorer scorer;
  std::vector<double> scores;
  std::vector<std::string_view> query = {"c", "a", "zzz", "c"};
  scorer.score(spans, query, scores);
  double idf_a = std::log(0.5) - std::log(3.5), idf_b = std::log(2.5) - std::log(1.5);
  double average = (idf_a + idf_b + idf_b) / 3, eps = 0.25 * average;
  EXPECT_DOUBLE_EQ(scorer.average_idf(), average);
  EXPECT_DOUBLE_EQ(scorer.eps(), eps);
  EXPECT_DOUBLE_EQ(scorer.avgdl(), 2.0);
  auto term = [](double idf, double tf, double dl) {
    return idf * ((tf * 2.5) / (tf + 1.5 * (0.25 + (0.75 * dl) / 2.0)));
  };
  EXPECT_DOUBLE_EQ(scores[0], term(eps, 1, 2));
  EXPECT_DOUBLE_EQ(scores[1], term(idf_b, 2, 3) + term(eps, 1, 3) + term(idf_b, 2, 3));
  EXPECT_DOUBLE_EQ(scores[2], term(eps, 1, 1));
}

TEST(Bm25, LuceneVariantOnRequest) {
  std::vector<std::vector<std::string_view>> docs = {{"a", "b"}, {"a"}};
  std::vector<std::span<const std::string_view>> spans(docs.begin(), docs.end());
  Bm25Scorer scorer({.k1 = 1.2, .b = 0.5, .lucene_idf = true});
  std::vector<double> scores;
  std::vector<std::string_view> query = {"a"};
  scorer.score(spans, query, scores);
  double idf = std::log(1 + (2 - 2 + 0.5) / (2 + 0.5));
  EXPECT_DOUBLE_EQ(scores[1], idf * (2.2 / (1 + 1.2 * (0.5 + 0.5 * 1 / 1.5))));
  EXPECT_GT(scores[0], 0);
}

std::vector<std::uint32_t> argsort(const std::vector<double>& v) {
  std::vector<std::uint32_t> order(v.size());
  numpy_argsort(v, order);
  return order;
}

TEST(NumpyArgsort, SortsAndKeepsNumpysTieOrder) {
  // Up to 16 elements numpy runs a plain insertion sort: ties keep their order.
  EXPECT_EQ(argsort({1, 0, 1, 0}), (std::vector<std::uint32_t>{1, 3, 0, 2}));
  // From 17 elements on numpy partitions first. Expected orders printed by numpy 1.24.4:
  // np.argsort(np.zeros(17)), np.argsort([1., 0, 1, 0] * 5), np.argsort([i % 3 for i in range(40)]).
  EXPECT_EQ(argsort(std::vector<double>(17, 0.0)),
            (std::vector<std::uint32_t>{0, 14, 13, 12, 11, 10, 9, 15, 8, 6, 5, 4, 3, 2, 1, 7, 16}));
  std::vector<double> alternating;
  for (int i = 0; i < 5; ++i) alternating.insert(alternating.end(), {1, 0, 1, 0});
  EXPECT_EQ(argsort(alternating), (std::vector<std::uint32_t>{9, 17, 15, 13, 11, 7, 19, 5, 3, 1, 8, 18,
                                                              10, 4, 12, 14, 2, 16, 6, 0}));
  std::vector<double> mod3;
  for (int i = 0; i < 40; ++i) mod3.push_back(i % 3);
  EXPECT_EQ(argsort(mod3), (std::vector<std::uint32_t>{0, 36, 33, 30, 27, 24, 21, 18, 15, 12, 39, 9, 3, 6,
                                                       25, 37, 1, 34, 31, 28, 4, 10, 19, 16, 13, 7, 22,
                                                       14, 35, 8, 2, 32, 23, 29, 38, 26, 20, 5, 17, 11}));
  std::vector<double> nan = {2, std::nan(""), 1};
  EXPECT_EQ(argsort(nan), (std::vector<std::uint32_t>{2, 0, 1}));
}

TEST(NumpyArgsort, AgreesWithAPlainSortOnDistinctValues) {
  // Against a brute-force reference: any correct sort gives the same order without ties.
  std::uint64_t s = 1;
  for (std::size_t n : {0u, 1u, 2u, 16u, 17u, 100u, 1000u, 5000u}) {
    std::vector<double> v(n);
    for (double& x : v) x = static_cast<double>((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 11);
    std::vector<std::uint32_t> expected(n);
    std::iota(expected.begin(), expected.end(), 0u);
    std::sort(expected.begin(), expected.end(), [&](auto a, auto b) { return v[a] < v[b]; });
    EXPECT_EQ(argsort(v), expected) << n;
  }
  // Many ties and adversarial patterns stay a valid ascending order (the heapsort fallback).
  std::vector<double> v(3000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>((i * 7919) % 13);
  auto order = argsort(v);
  for (std::size_t i = 1; i < order.size(); ++i) EXPECT_LE(v[order[i - 1]], v[order[i]]);
  std::vector<std::uint32_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i);
}

Sample sample_with(std::string_view input) { return Sample{.id = "s1", .input = input}; }

TEST(Query, MarkersAndQuotes) {
  const TaskSpec& lamp1 = find_task("LaMP-1");
  EXPECT_EQ(extract_query(lamp1, sample_with(R"(title "mine", which? [1]: "ref one " [2]: " ref two")")),
            "ref one   ref two");
  EXPECT_EQ(extract_query(find_task("LaMP-4"), sample_with("Generate: article: body text\xe2\x80\x83 ")), "body text");
  // The first marker counts.
  EXPECT_EQ(extract_query(find_task("LaMP-7"), sample_with("Paraphrase: a: b")), "a: b");
  EXPECT_EQ(extract_query(find_task("LaMP-2"), sample_with("tags: [x] description:\tA film")), "A film");
}

TEST(Query, ErrorsNameTheSample) {
  try {
    extract_query(find_task("LaMP-3"), sample_with("no marker here"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("id \"s1\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("review:"), std::string::npos) << e.what();
  }
  EXPECT_THROW(extract_query(find_task("LaMP-1"), sample_with(R"(only "two" quoted "strings")")), Error);
}

TEST(Query, DocumentTokensEqualSplittingTheJoinedDocument) {
  const TaskSpec& lamp1 = find_task("LaMP-1");
  ProfileItem item{.id = "p", .date = "2020-01-02", .fields = {"A\xc2\xa0title", "", ""}};
  std::vector<std::string_view> tokens;
  append_document_tokens(lamp1, item, true, tokens);
  EXPECT_EQ(tokens, (std::vector<std::string_view>{"A", "title", "date:", "2020-01-02"}));
  EXPECT_EQ(document_text(lamp1, item, true), "A\xc2\xa0title  date: 2020-01-02");
}

}  // namespace
}  // namespace lamp
