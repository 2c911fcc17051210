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
#include "lamp/core/progress.h"
#include "lamp/core/test_util.h"
#include "lamp/data/json_io.h"
#include "lamp/retrieval/bm25.h"
#include "lamp/retrieval/numpy_sort.h"
#include "lamp/retrieval/query.h"
#include "lamp/retrieval/retriever.h"
#include "lamp/text/python_str.h"
#include "lamp/text/utf8.h"

namespace lamp {
namespace {

namespace fs = std::filesystem;
const fs::path kBm25 = fs::path(LAMP_FIXTURES) / "bm25";

class Bm25Conformance : public testing::TestWithParam<int> {};

TEST_P(Bm25Conformance, RankingAndScoresEqualOfficial) {
  fs::path dir = kBm25 / ("LaMP-" + std::to_string(GetParam()));
  Questions questions =
      read_questions(dir / "questions.json", &find_task("LaMP-" + std::to_string(GetParam())));
  for (int threads : {1, 2, 3}) {
    ProgressBar bar("bm25", questions.size(), nullptr);
    std::vector<SampleRanking> rankings =
        rank_profiles(questions, {.threads = threads, .progress = &bar});
    EXPECT_EQ(bar.done(), questions.size());
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

// Ranking while the file is read gives rank_profiles' rankings and scores, for every ranker
// that ranks samples alone and any thread count.
TEST_P(Bm25Conformance, StreamingEqualsBatch) {
  fs::path file = kBm25 / ("LaMP-" + std::to_string(GetParam())) / "questions.json";
  const TaskSpec& task = find_task("LaMP-" + std::to_string(GetParam()));
  for (RankerKind ranker : {RankerKind::kBm25, RankerKind::kRandom}) {
    for (int threads : {1, 2, 3}) {
      ProgressBar bar("bm25", 1000, nullptr);
      // The ranking file as lamp rank writes it: each entry formatted as its sample is ranked.
      testing_util::TempDir tmp;
      RankingWriter writer(tmp / "streamed.json");
      StreamingRanker streaming(
          {.ranker = ranker, .seed = 3, .threads = threads, .progress = &bar},
          [&](std::size_t index, const Sample& sample, std::span<const ProfileItem> profile,
              const SampleRanking& ranking) {
            writer.add(index, sample.id, profile, ranking.order);
          });
      Questions questions = read_questions(file, &task, streaming);
      std::vector<SampleRanking> streamed = streaming.finish();
      writer.commit(questions.size());
      std::vector<SampleRanking> batch =
          rank_profiles(questions, {.ranker = ranker, .seed = 3, .threads = threads});
      ASSERT_EQ(streamed.size(), batch.size());
      for (std::size_t i = 0; i < batch.size(); ++i) {
        EXPECT_EQ(streamed[i].order, batch[i].order) << i << " threads " << threads;
        EXPECT_EQ(streamed[i].scores, batch[i].scores) << i << " threads " << threads;
      }
      EXPECT_EQ(bar.done(), fs::file_size(file) / 1'000'000);
      write_ranking(tmp / "batch.json", to_ranking(questions, batch));
      EXPECT_EQ(testing_util::slurp(tmp / "streamed.json"), testing_util::slurp(tmp / "batch.json"))
          << "threads " << threads;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Bm25Conformance, testing::Range(1, 8),
                         [](const auto& test_case) {
                           return "LaMP_" + std::to_string(test_case.param);
                         });

// Items of under 32 bytes of JSON outgrow the reader's first item storage, which moves while
// samples are being ranked from it; the lowest-numbered failing sample's error is reported.
TEST(StreamingRanker, StorageThatMovesAndErrors) {
  std::string json = "[";
  for (int i = 0; i < 300; ++i) {
    if (i > 0) json += ",";
    json +=
        R"({"id":")" + std::to_string(i) +
        R"(","input":"Paraphrase the following tweet without any explanation before or after it: a b","profile":[)";
    for (int j = 0; j < 40; ++j)
      json += std::string(j > 0 ? "," : "") + R"({"id":")" + std::to_string(j) + R"(","text":"a"})";
    json += "]}";
  }
  json += "]";
  testing_util::TempDir tmp;
  fs::path file = tmp.write("q.json", json);
  const TaskSpec& task = find_task("LaMP-7");
  for (int threads : {1, 2, 3}) {
    StreamingRanker streaming({.threads = threads});
    Questions questions = read_questions(file, &task, streaming);
    std::vector<SampleRanking> streamed = streaming.finish();
    std::vector<SampleRanking> batch = rank_profiles(questions, {.threads = threads});
    ASSERT_EQ(streamed.size(), 300u);
    for (std::size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(streamed[i].order, batch[i].order);
  }

  // Samples 5 and 9 lack the query marker.
  std::string bad = json;
  for (int id : {9, 5}) {
    const std::string from =
        R"({"id":")" + std::to_string(id) +
        R"(","input":"Paraphrase the following tweet without any explanation before or after it:)";
    bad.replace(bad.find(from), from.size(), R"({"id":")" + std::to_string(id) + R"(","input":"x)");
  }
  fs::path bad_file = tmp.write("bad.json", bad);
  for (int threads : {1, 2, 3}) {
    StreamingRanker streaming({.threads = threads});
    Questions questions = read_questions(bad_file, &task, streaming);
    try {
      streaming.finish();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.where().record_id, "5") << threads;
    }
  }
  // A parse error stops the ranking and is what the reader reports.
  fs::path broken = tmp.write("broken.json", json.substr(0, json.size() / 2));
  StreamingRanker streaming({.threads = 2});
  EXPECT_THROW(read_questions(broken, &task, streaming), Error);
}

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

// str.split() one code point at a time: the definition the block-wise splitter must equal.
std::vector<std::string_view> reference_split(std::string_view text) {
  std::vector<std::string_view> tokens;
  std::size_t pos = 0, start = 0;
  bool in_token = false;
  while (pos < text.size()) {
    std::size_t at = pos;
    bool space = text::py_isspace(text::next_code_point(text, pos));
    if (space && in_token) tokens.push_back(text.substr(start, at - start));
    if (!space && !in_token) start = at;
    in_token = !space;
  }
  if (in_token) tokens.push_back(text.substr(start));
  return tokens;
}

// Random text from pieces that exercise the splitter's paths: ASCII words and every ASCII
// whitespace byte, Unicode spaces and non-spaces (so 64-byte blocks switch paths, and code points
// straddle block edges), malformed UTF-8, NUL bytes and long words.
std::string random_text(std::uint64_t& state, std::size_t pieces) {
  using namespace std::string_literals;
  static const std::vector<std::string> kPieces = {"a",
                                                   "bc",
                                                   "word",
                                                   "longerword",
                                                   "averyveryverylongword",
                                                   "x\0y"s,
                                                   " ",
                                                   "  ",
                                                   "\t",
                                                   "\n",
                                                   "\v",
                                                   "\f",
                                                   "\r",
                                                   "\x1c",
                                                   "\x1f",
                                                   "\x1b",
                                                   "\xc2\xa0",
                                                   "\xc2\x85",
                                                   "\xe2\x80\x83",
                                                   "\xe3\x80\x80",
                                                   "\xe2\x80\x8b",
                                                   "\xc3\xa9",
                                                   "\xf0\x9f\x98\x80",
                                                   "\xc2",
                                                   "\x80",
                                                   "\xe2\x80"};
  std::string text;
  for (std::size_t i = 0; i < pieces; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    std::uint64_t r = state >> 33;
    // Mostly ASCII, so that whole blocks take the fast path.
    std::size_t index = r % 8 == 0 ? (r >> 3) % kPieces.size() : (r >> 3) % 9;
    text += kPieces[index];
  }
  return text;
}

TEST(PySplitEach, EqualsCodePointSplitting) {
  std::uint64_t state = 7;
  for (int round = 0; round < 3000; ++round) {
    std::string text = random_text(state, static_cast<std::size_t>(round % 97));
    std::vector<std::string_view> tokens;
    text::py_split_into(text, tokens);
    ASSERT_EQ(tokens, reference_split(text)) << "round " << round;
  }
}

TEST(Bm25, TextFormEqualsTokenLists) {
  // Documents given as text (split and counted in one pass, in batches, with the table growing)
  // score exactly as the same documents given as token lists.
  std::uint64_t state = 11;
  for (int round = 0; round < 40; ++round) {
    std::vector<std::string> texts;
    for (int d = 0; d < 1 + round % 9; ++d)
      texts.push_back(random_text(state, static_cast<std::size_t>(50 + 40 * round)));
    // Many distinct words, so the table grows while documents are added.
    for (int w = 0; w < 30 * round; ++w) texts.back() += " w" + std::to_string(w);
    // Words over 16 bytes (counted out of line), in both pieces of a document.
    texts.front() = "averyveryverylongword " + texts.front() + " anotherquitelongwordhere";
    std::string query_text = random_text(state, 30) + " unseenword w7 w7 averyveryverylongword";
    std::vector<std::string_view> query = text::py_split(query_text);
    std::vector<std::vector<std::string_view>> docs;
    for (const std::string& t : texts) docs.push_back(text::py_split(t));
    std::vector<std::span<const std::string_view>> spans(docs.begin(), docs.end());

    Bm25Scorer lists, streamed;
    std::vector<double> expected, got;
    lists.score(spans, query, expected);
    streamed.start(query);
    for (const std::string& t : texts) {
      // A document in two pieces, as corpus fields are given.
      std::size_t cut = t.find(' ', t.size() / 2);
      if (cut == std::string::npos) cut = t.size();
      streamed.add_text(std::string_view(t).substr(0, cut));
      streamed.add_text(std::string_view(t).substr(cut));
      streamed.end_document();
    }
    streamed.finish(got);
    EXPECT_EQ(got, expected) << "round " << round;
    EXPECT_EQ(streamed.average_idf(), lists.average_idf()) << "round " << round;
  }
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
  // np.argsort(np.zeros(17)), np.argsort([1., 0, 1, 0] * 5), np.argsort([i % 3 for i in
  // range(40)]).
  EXPECT_EQ(argsort(std::vector<double>(17, 0.0)),
            (std::vector<std::uint32_t>{0, 14, 13, 12, 11, 10, 9, 15, 8, 6, 5, 4, 3, 2, 1, 7, 16}));
  std::vector<double> alternating;
  for (int i = 0; i < 5; ++i) alternating.insert(alternating.end(), {1, 0, 1, 0});
  EXPECT_EQ(argsort(alternating), (std::vector<std::uint32_t>{9,  17, 15, 13, 11, 7, 19, 5, 3, 1, 8,
                                                              18, 10, 4,  12, 14, 2, 16, 6, 0}));
  std::vector<double> mod3;
  for (int i = 0; i < 40; ++i) mod3.push_back(i % 3);
  EXPECT_EQ(argsort(mod3),
            (std::vector<std::uint32_t>{0,  36, 33, 30, 27, 24, 21, 18, 15, 12, 39, 9, 3,  6,
                                        25, 37, 1,  34, 31, 28, 4,  10, 19, 16, 13, 7, 22, 14,
                                        35, 8,  2,  32, 23, 29, 38, 26, 20, 5,  17, 11}));
  std::vector<double> nan = {2, std::nan(""), 1};
  EXPECT_EQ(argsort(nan), (std::vector<std::uint32_t>{2, 0, 1}));
}

TEST(NumpyArgsort, LargeTiedInputsMatchNumpy) {
  // Checksums sum((i + 1) * order[i]) mod 2^61 - 1 of np.argsort in numpy 1.24.4, for arrays
  // whose many ties go through several partition levels.
  auto checksum = [](const std::vector<std::uint32_t>& order) {
    std::uint64_t sum = 0;  // at most 5000^3: no overflow
    for (std::size_t i = 0; i < order.size(); ++i) sum += (i + 1) * order[i];
    return sum % ((1ull << 61) - 1);
  };
  std::vector<double> a(3000), b(5000), c(1000);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<double>((i * 7919) % 13);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<double>((i * i) % 7);
  for (std::size_t i = 0; i < c.size(); ++i)
    c[i] = static_cast<double>(i % 2 == 0 ? i : c.size() - i);
  EXPECT_EQ(checksum(argsort(a)), 6743581627ull);
  EXPECT_EQ(checksum(argsort(b)), 30797781117ull);
  EXPECT_EQ(checksum(argsort(c)), 250000000ull);
}

TEST(NumpyArgsort, HeapsortFallbackMatchesNumpy) {
  // An input built with McIlroy's adversary against numpy's median-of-three partition, so the
  // recursion depth limit is hit and the heapsort fallback runs on a tail holding ties; the
  // expected order is numpy 1.24.4's np.argsort of the same 200 values.
  const std::vector<double> values = {
      0,   201, 2,   203, 4,   205, 6,   200, 8,   202, 10,  204, 12,  206, 14,  201, 16,  203, 18,
      205, 20,  200, 22,  202, 24,  204, 26,  206, 28,  201, 202, 203, 204, 205, 206, 200, 201, 202,
      203, 204, 205, 206, 200, 201, 202, 203, 204, 205, 206, 200, 201, 202, 203, 204, 205, 206, 200,
      201, 202, 203, 204, 205, 206, 200, 201, 202, 203, 204, 205, 206, 200, 201, 202, 203, 204, 205,
      206, 200, 201, 202, 203, 204, 205, 206, 200, 201, 202, 203, 204, 205, 206, 200, 201, 202, 203,
      204, 205, 206, 200, 1,   3,   5,   7,   9,   11,  13,  15,  17,  19,  21,  23,  25,  27,  29,
      202, 203, 204, 205, 206, 200, 201, 202, 203, 204, 205, 206, 200, 201, 202, 203, 204, 205, 206,
      200, 201, 202, 203, 204, 205, 206, 200, 201, 202, 203, 204, 205, 206, 200, 201, 202, 203, 204,
      205, 206, 200, 201, 202, 203, 204, 205, 206, 200, 201, 202, 203, 204, 205, 206, 200, 201, 202,
      203, 204, 205, 206, 200, 201, 202, 203, 204, 205, 206, 200, 201, 202, 203, 204, 205, 206, 200,
      201, 202, 203, 204, 205, 206, 200, 201, 202, 203};
  const std::vector<std::uint32_t> expected = {
      0,   99,  2,   100, 4,   101, 6,   102, 8,   103, 10,  104, 12,  105, 14,  106, 16,  107, 18,
      108, 20,  109, 22,  110, 24,  111, 26,  112, 28,  113, 154, 147, 63,  168, 161, 49,  21,  126,
      196, 175, 98,  119, 91,  42,  35,  84,  7,   70,  182, 189, 77,  56,  140, 133, 148, 29,  169,
      176, 50,  134, 197, 1,   36,  162, 183, 71,  190, 85,  141, 64,  120, 92,  78,  57,  15,  127,
      155, 43,  9,   149, 58,  86,  142, 93,  135, 79,  128, 177, 121, 30,  51,  156, 72,  114, 191,
      170, 184, 23,  65,  198, 44,  163, 37,  66,  150, 87,  143, 136, 80,  185, 129, 52,  122, 73,
      115, 199, 192, 17,  178, 38,  171, 31,  59,  164, 45,  157, 3,   94,  60,  151, 88,  144, 137,
      81,  32,  130, 53,  123, 74,  116, 25,  39,  186, 11,  67,  179, 172, 46,  165, 95,  158, 193,
      152, 89,  145, 138, 82,  131, 54,  124, 75,  117, 40,  194, 19,  187, 68,  180, 5,   173, 47,
      166, 96,  159, 61,  33,  153, 90,  146, 139, 83,  55,  132, 125, 41,  76,  118, 27,  195, 69,
      34,  188, 13,  181, 48,  174, 167, 97,  62,  160};
  EXPECT_EQ(argsort(values), expected);
}

TEST(NumpyArgsort, AgreesWithAPlainSortOnDistinctValues) {
  // Against a brute-force reference: any correct sort gives the same order without ties.
  std::uint64_t s = 1;
  for (std::size_t n : {0u, 1u, 2u, 16u, 17u, 100u, 1000u, 5000u}) {
    std::vector<double> v(n);
    for (double& x : v)
      x = static_cast<double>((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 11);
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
  EXPECT_EQ(
      extract_query(lamp1, sample_with(R"(title "mine", which? [1]: "ref one " [2]: " ref two")")),
      "ref one   ref two");
  EXPECT_EQ(
      extract_query(find_task("LaMP-4"), sample_with("Generate: article: body text\xe2\x80\x83 ")),
      "body text");
  // The first marker counts.
  EXPECT_EQ(extract_query(find_task("LaMP-7"), sample_with("Paraphrase: a: b")), "a: b");
  EXPECT_EQ(extract_query(find_task("LaMP-2"), sample_with("tags: [x] description:\tA film")),
            "A film");
}

TEST(Query, ErrorsNameTheSample) {
  try {
    extract_query(find_task("LaMP-3"), sample_with("no marker here"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("id \"s1\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("review:"), std::string::npos) << e.what();
  }
  EXPECT_THROW(extract_query(find_task("LaMP-1"), sample_with(R"(only "two" quoted "strings")")),
               Error);
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
