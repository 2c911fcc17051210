// BM25 ranking (`lamp rank --ranker bm25`) against two references measured in the same run:
// the time to parse the questions file (read_questions alone), and a straightforward C++ BM25
// (per-document std::unordered_map term frequencies, a df map, every query token scored over
// every document, std::sort), which is what a direct port of rank_bm25 looks like.
//
//   build/bench/rank_bench FILE.json [--task LaMP-N] [--threads N] [--baseline-samples N]
//                          [--repeat N]
// Make a LaMP-5 file with: lamp data synth --task LaMP-5 --samples 2500 --profile-size 90 ...
// Run it twice: the first run warms the page cache. --threads (default: all cores) is the
// multi-threaded run; a 1-thread run always comes first. The baseline is single-threaded and
// runs on the first --baseline-samples samples (default: all), its rate compared per sample.
// --repeat N (default 1) times the parse and both rankings N times each and reports the
// fastest, which filters out the noise of other jobs on a shared machine. Last, lamp rank's
// StreamingRanker (ranking while the file is read, --threads threads) is timed against the
// parse alone. Splitting the documents into tokens alone (1 thread) is timed as a floor.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/threads.h"
#include "lamp/data/json_io.h"
#include "lamp/retrieval/query.h"
#include "lamp/retrieval/retriever.h"
#include "lamp/text/python_str.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// rank_bm25's BM25Okapi written plainly: no interning, no scratch reuse, no skipping of
// documents without the query word. Returns the scores; `order` gets the best-first ranking.
std::vector<double> baseline_bm25(const lamp::Questions& questions, const lamp::Sample& sample,
                                  std::vector<std::uint32_t>& order) {
  const lamp::TaskSpec& task = questions.task();
  const std::string query_text = lamp::extract_query(task, sample);
  std::vector<std::string> query;
  for (std::string_view token : lamp::text::py_split(query_text)) query.emplace_back(token);
  auto profile = questions.profile(sample);
  std::vector<std::unordered_map<std::string, int>> tf(profile.size());
  std::vector<double> doc_len(profile.size());
  std::unordered_map<std::string, int> df;
  double total = 0;
  for (std::size_t d = 0; d < profile.size(); ++d) {
    std::string text = lamp::document_text(task, profile[d], false);
    std::vector<std::string_view> tokens = lamp::text::py_split(text);
    for (std::string_view token : tokens) ++tf[d][std::string(token)];
    for (const auto& [word, count] : tf[d]) ++df[word];
    doc_len[d] = static_cast<double>(tokens.size());
    total += doc_len[d];
  }
  const double n = static_cast<double>(profile.size());
  const double avgdl = total / n, k1 = 1.5, b = 0.75;
  std::unordered_map<std::string, double> idf;
  double idf_sum = 0;
  for (const auto& [word, freq] : df) {
    double value = std::log(n - freq + 0.5) - std::log(freq + 0.5);
    idf[word] = value;
    idf_sum += value;
  }
  const double eps = 0.25 * idf_sum / static_cast<double>(df.size());
  for (auto& [word, value] : idf) {
    if (value < 0) value = eps;
  }
  std::vector<double> scores(profile.size(), 0.0);
  for (const std::string& q : query) {
    auto it = idf.find(q);
    double w = it == idf.end() ? 0.0 : it->second;
    for (std::size_t d = 0; d < profile.size(); ++d) {
      auto f = tf[d].find(q);
      double freq = f == tf[d].end() ? 0.0 : f->second;
      scores[d] += w * (freq * (k1 + 1) / (freq + k1 * (1 - b + b * doc_len[d] / avgdl)));
    }
  }
  order.resize(profile.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t x, std::uint32_t y) { return scores[x] > scores[y]; });
  return scores;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: rank_bench FILE.json [--task LaMP-N] [--threads N] [--baseline-samples N]\n");
    return 2;
  }
  const lamp::TaskSpec* task = nullptr;
  int threads = 0;
  std::size_t baseline_samples = SIZE_MAX;
  int repeat = 1;
  try {
    for (int i = 2; i + 1 < argc; i += 2) {
      if (std::strcmp(argv[i], "--task") == 0) {
        task = &lamp::find_task(argv[i + 1]);
      } else if (std::strcmp(argv[i], "--threads") == 0) {
        threads = std::stoi(argv[i + 1]);
      } else if (std::strcmp(argv[i], "--baseline-samples") == 0) {
        baseline_samples = std::stoul(argv[i + 1]);
      } else if (std::strcmp(argv[i], "--repeat") == 0) {
        repeat = std::max(1, std::stoi(argv[i + 1]));
      } else {
        std::fprintf(stderr, "rank_bench: unknown option %s\n", argv[i]);
        return 2;
      }
    }
    threads = lamp::resolve_threads(threads);

    // The fastest of `repeat` runs of fn, which returns its result.
    auto fastest = [&](auto fn, double& best) {
      best = 1e300;
      for (int r = 1;; ++r) {
        auto start = std::chrono::steady_clock::now();
        auto result = fn();
        best = std::min(best, seconds_since(start));
        if (r == repeat) return result;
      }
    };
    double parse_s, one_s, all_s;
    lamp::Questions questions =
        fastest([&] { return lamp::read_questions(argv[1], task); }, parse_s);
    const double samples = static_cast<double>(questions.size());
    std::vector<lamp::SampleRanking> one =
        fastest([&] { return lamp::rank_profiles(questions, {.threads = 1}); }, one_s);
    std::vector<lamp::SampleRanking> all =
        fastest([&] { return lamp::rank_profiles(questions, {.threads = threads}); }, all_s);
    // lamp rank's way: each sample ranked while the file is still being read.
    // The questions are returned, as read_questions' are, so that freeing them is not timed.
    double stream_s;
    auto [streamed_questions, streamed] = fastest(
        [&] {
          lamp::StreamingRanker ranker({.threads = threads});
          lamp::Questions read = lamp::read_questions(argv[1], task, ranker);
          return std::pair(std::move(read), ranker.finish());
        },
        stream_s);
    for (std::size_t i = 0; i < questions.size(); ++i) {
      if (one[i].order != all[i].order || one[i].scores != all[i].scores ||
          one[i].order != streamed[i].order || one[i].scores != streamed[i].scores) {
        std::fprintf(stderr, "rank_bench: sample %zu ranks differently with %d threads\n", i,
                     threads);
        return 1;
      }
    }

    const std::size_t base_n = std::min(baseline_samples, questions.size());
    double max_diff = 0;
    std::size_t top_agree = 0;
    std::vector<std::uint32_t> order;
    auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < base_n; ++i) {
      std::vector<double> scores = baseline_bm25(questions, questions.samples()[i], order);
      for (std::size_t d = 0; d < scores.size(); ++d) {
        max_diff = std::max(max_diff, std::abs(scores[d] - one[i].scores[d]));
      }
      top_agree += !order.empty() && scores[order[0]] == scores[one[i].order[0]];
    }
    const double base_s = seconds_since(start);
    const double base_rate = static_cast<double>(base_n) / base_s;

    // Splitting every document into tokens, the least any exact BM25 does besides counting them.
    double split_s;
    const std::size_t tokens = fastest(
        [&] {
          std::size_t count = 0;
          lamp::DocumentPieces pieces;
          for (const lamp::ProfileItem& item : questions.items()) {
            const std::size_t n = lamp::document_pieces(questions.task(), item, false, pieces);
            for (std::size_t i = 0; i < n; ++i) {
              lamp::text::py_split_each(pieces[i], [&](std::size_t, std::size_t) { ++count; });
            }
          }
          return count;
        },
        split_s);

    const std::string_view name = questions.task().name;
    std::printf("%.*s: %zu samples, %zu profile items, %.1f M corpus tokens\n",
                static_cast<int>(name.size()), name.data(), questions.size(),
                questions.items().size(), static_cast<double>(tokens) / 1e6);
    std::printf("parse (read_questions):  %.3f s\n", parse_s);
    std::printf("splitting alone, 1 thread: %.3f s (%.2fx the parse)\n", split_s,
                split_s / parse_s);
    std::printf("lamp bm25, 1 thread:     %.3f s  %8.0f samples/s  %.1f ns/token\n", one_s,
                samples / one_s, one_s * 1e9 / static_cast<double>(tokens));
    std::printf("lamp bm25, %d threads:    %.3f s  %8.0f samples/s\n", threads, all_s,
                samples / all_s);
    std::printf("baseline, 1 thread:      %.3f s  %8.0f samples/s  (%zu samples)\n", base_s,
                base_rate, base_n);
    std::printf(
        "lamp vs baseline (1 thread): %.1fx faster; scores agree to %.1e, best item agrees in "
        "%zu/%zu\n",
        (samples / one_s) / base_rate, max_diff, top_agree, base_n);
    std::printf("rank / parse: %.2fx (1 thread), %.2fx (%d threads)\n", one_s / parse_s,
                all_s / parse_s, threads);
    std::printf("parse + rank, %d threads: %.3f s\n", threads, parse_s + all_s);
    std::printf("ranking while reading, %d threads: %.3f s (%.2fx the parse alone)\n", threads,
                stream_s, stream_s / parse_s);
  } catch (const lamp::Error& e) {
    std::fprintf(stderr, "rank_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
