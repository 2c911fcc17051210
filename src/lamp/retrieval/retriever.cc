#include "lamp/retrieval/retriever.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <numeric>

#include "lamp/core/error.h"
#include "lamp/core/progress.h"
#include "lamp/core/threads.h"
#include "lamp/retrieval/dense.h"
#include "lamp/retrieval/numpy_sort.h"
#include "lamp/retrieval/query.h"
#include "lamp/text/python_str.h"

namespace lamp {
namespace {

// Scratch space of one worker thread.
struct Worker {
  Bm25Scorer bm25;
  std::vector<std::string_view> query_tokens;
};

void rank_bm25(const Questions& questions, const Sample& sample, const RankOptions& options,
               Worker& w, SampleRanking& out) {
  const std::string query = extract_query(questions.task(), sample);
  w.query_tokens.clear();
  text::py_split_into(query, w.query_tokens);
  auto profile = questions.profile(sample);
  w.bm25.start(w.query_tokens);
  DocumentPieces pieces;
  for (const ProfileItem& item : profile) {
    const std::size_t count = document_pieces(questions.task(), item, options.use_date, pieces);
    for (std::size_t i = 0; i < count; ++i) w.bm25.add_text(pieces[i]);
    w.bm25.end_document();
  }
  w.bm25.finish(out.scores);
  out.order.resize(profile.size());
  numpy_argsort(out.scores, out.order);
  std::reverse(out.order.begin(), out.order.end());  // np.argsort(scores)[::-1]
}

// tuple(int(x) for x in date.split("-")), with a clear error instead of Python's ValueError.
std::vector<long> date_key(const Sample& sample, const ProfileItem& item, std::size_t position) {
  std::vector<long> key;
  std::string_view date = item.date;
  auto fail = [&](const std::string& why) {
    throw Error(Location{.record_id = std::string(sample.id),
                         .field = fmt::format("profile[{}].date", position)},
                fmt::format("{} (the recency ranker needs dates like 2019-05-01 or 2019-05)", why));
  };
  if (date.empty()) fail("missing or empty date");
  for (std::size_t start = 0;;) {
    std::size_t end = date.find('-', start);
    std::string_view part =
        date.substr(start, end == std::string_view::npos ? date.npos : end - start);
    if (part.empty() || part.size() > 9 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      fail(fmt::format("malformed date \"{}\"", date));
    }
    key.push_back(std::stol(std::string(part)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return key;
}

void rank_recency(const Questions& questions, const Sample& sample, SampleRanking& out) {
  auto profile = questions.profile(sample);
  std::vector<std::vector<long>> keys;
  for (std::size_t i = 0; i < profile.size(); ++i) keys.push_back(date_key(sample, profile[i], i));
  out.order.resize(profile.size());
  std::iota(out.order.begin(), out.order.end(), 0u);
  std::stable_sort(out.order.begin(), out.order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
  std::reverse(out.order.begin(), out.order.end());
}

// splitmix64, seeded per sample so results do not depend on the thread schedule.
std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint32_t below(std::uint64_t& state, std::size_t n) {
  return static_cast<std::uint32_t>(((next_random(state) >> 32) * n) >> 32);
}

void rank_random(const Questions& questions, std::size_t sample_index, const RankOptions& options,
                 SampleRanking& out) {
  const std::size_t n = questions.samples()[sample_index].profile_size;
  std::uint64_t state = options.seed ^ (0xD1B54A32D192ED03ull * (sample_index + 1));
  out.order.resize(n);
  if (options.official_random) {
    for (std::size_t i = 0; i < n; ++i) out.order[i] = below(state, n);
    return;
  }
  std::iota(out.order.begin(), out.order.end(), 0u);
  for (std::size_t i = n; i > 1; --i) std::swap(out.order[i - 1], out.order[below(state, i)]);
}

}  // namespace

RankerKind parse_ranker(const std::string& name) {
  if (name == "bm25") return RankerKind::kBm25;
  if (name == "recency") return RankerKind::kRecency;
  if (name == "random") return RankerKind::kRandom;
  if (name == "contriever") return RankerKind::kContriever;
  throw Error(fmt::format("unknown ranker \"{}\" (bm25, recency, random, contriever)", name));
}

std::vector<SampleRanking> rank_profiles(const Questions& questions, const RankOptions& options) {
  if (options.ranker == RankerKind::kContriever) {
    assert(options.embedder != nullptr);
    return rank_dense(
        questions, *options.embedder, options.embedding_cache,
        {.use_date = options.use_date, .threads = options.threads, .progress = options.progress},
        options.dense_stats);
  }
  std::vector<SampleRanking> rankings(questions.size());
  const int threads = resolve_threads(options.threads);
  std::vector<Worker> workers;
  for (int t = 0; t < threads; ++t) workers.push_back({.bm25 = Bm25Scorer(options.bm25)});
  parallel_for(questions.size(), threads, [&](std::size_t i, int worker) {
    const Sample& sample = questions.samples()[i];
    switch (options.ranker) {
      case RankerKind::kBm25:
        rank_bm25(questions, sample, options, workers[worker], rankings[i]);
        break;
      case RankerKind::kRecency:
        rank_recency(questions, sample, rankings[i]);
        break;
      case RankerKind::kRandom:
        rank_random(questions, i, options, rankings[i]);
        break;
      case RankerKind::kContriever:  // ranked batch-wide above
        break;
    }
    if (options.progress != nullptr) options.progress->advance();
  });
  return rankings;
}

Ranking to_ranking(const Questions& questions, const std::vector<SampleRanking>& rankings) {
  Ranking ranking;
  ranking.entries.reserve(questions.size());
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const Sample& sample = questions.samples()[i];
    auto profile = questions.profile(sample);
    Ranking::Entry entry{.sample_id = sample.id};
    for (std::uint32_t index : rankings[i].order) entry.profile_ids.push_back(profile[index].id);
    ranking.entries.push_back(std::move(entry));
  }
  return ranking;
}

}  // namespace lamp
