// Ranking every sample's profile (rank_profiles.py), batch-first: all samples in, one ranked
// list of profile indices per sample out, spread over threads with results independent of the
// thread count (each sample is ranked alone, into its own slot).
//  - kBm25: BM25Okapi scores (bm25.h), ordered by reversed numpy argsort (numpy_sort.h).
//  - kRecency: most recent first by the date's integer parts, as the official
//    `sorted(profile, key=date tuple)[::-1]` (so equal dates come out in reverse file order).
//  - kRandom: a seeded permutation; with official_random, the official retriever's draw with
//    replacement (`random.choices`, so items may repeat), seeded.
//  - kContriever: dot products of text embeddings (dense.h), from options.embedder (required)
//    with options.embedding_cache when set; ranks all samples in blocks rather than one by one.
// Errors (missing query marker, malformed dates) are lamp::Errors naming the sample.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lamp/data/dataset.h"
#include "lamp/data/json_io.h"
#include "lamp/retrieval/bm25.h"

namespace lamp {

class TextEmbedder;
class EmbeddingCache;
struct DenseStats;
class ProgressBar;

enum class RankerKind { kBm25, kRecency, kRandom, kContriever };

// "bm25", "recency", "random", "contriever"; lamp::Error for anything else.
RankerKind parse_ranker(const std::string& name);

struct RankOptions {
  RankerKind ranker = RankerKind::kBm25;
  bool use_date = false;  // append " date: D" to each document (BM25, Contriever)
  std::uint64_t seed = 0;
  bool official_random = false;
  Bm25Params bm25;
  int threads = 0;  // 0: all cores
  // kContriever: the model (required), the cache (optional) and where to count cached and
  // encoded texts (optional); none owned.
  TextEmbedder* embedder = nullptr;
  EmbeddingCache* embedding_cache = nullptr;
  DenseStats* dense_stats = nullptr;
  // When set, advanced as samples are ranked (Contriever: in proportion to the texts encoded,
  // the slow part); not owned.
  ProgressBar* progress = nullptr;
};

struct SampleRanking {
  std::vector<std::uint32_t> order;  // profile indices, best first
  std::vector<double> scores;        // by profile index (BM25, Contriever)
};

std::vector<SampleRanking> rank_profiles(const Questions& questions, const RankOptions& options);

// The same for kBm25, kRecency and kRandom, ranking each sample while the file is still being
// read: pass it to read_questions(path, task, sink), then call finish(). options.threads threads
// in all, the reading thread included: it reads, and ranks itself whenever the others fall more
// than a few samples behind, so the text it hands over is still in cache and every thread stays
// busy. options.progress, when set, is advanced in MB of the file (1e6 bytes) as its samples
// are ranked. The rankings equal rank_profiles' for any thread count.
//
// on_ranked, when set, is called with each sample's ranking on the thread that ranked it, right
// after (samples in any order; with its profile still in cache): lamp rank formats the ranking
// file's entry there. An exception from it counts as that sample's error.
class StreamingRanker final : public SampleSink {
 public:
  using OnRanked =
      std::function<void(std::size_t index, const Sample& sample,
                         std::span<const ProfileItem> profile, const SampleRanking& ranking)>;
  explicit StreamingRanker(const RankOptions& options, OnRanked on_ranked = {});
  ~StreamingRanker() override;
  StreamingRanker(const StreamingRanker&) = delete;
  StreamingRanker& operator=(const StreamingRanker&) = delete;

  void take(const TaskSpec& task, std::size_t index, const Sample& sample,
            std::span<const ProfileItem> profile, std::size_t bytes_read) override;
  void release_profiles() override;
  // Once read_questions has returned (its Questions alive): the rankings of all samples taken,
  // in sample order. Errors as rank_profiles': the lowest-numbered failing sample's.
  std::vector<SampleRanking> finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The ranking file's content: sample id -> profile ids in ranked order.
Ranking to_ranking(const Questions& questions, const std::vector<SampleRanking>& rankings);

}  // namespace lamp
