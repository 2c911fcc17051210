// Dense ranking (rank_profiles.py's retrieve_top_k_with_contriver), batch-first over all samples:
// the query and the documents are the BM25 ones (query.h: the same query extraction, the task's
// corpus fields, " date: D" with use_date); a profile item's score is the unnormalised dot
// product of its vector with the query's, rounded to float32 (the official code collects the
// scores in `torch.tensor(scores)`, float32), and the order is `torch.topk(scores, len(profile))`:
// highest first, NaN above everything (as torch), exact ties by lower profile index (torch leaves
// that order unspecified; see docs/differences.md).
//
// Work is grouped in blocks of samples holding about `block_texts` distinct texts (so memory
// stays bounded on large files). Per block: the distinct texts are collected, their vectors taken
// from the cache when it has them, the others encoded by the embedder in calls of `batch_texts`
// texts from this one thread (the embedder parallelises inside) and added to the cache; then the
// samples are scored on `threads` threads, each into its own slot, so results do not depend on
// the thread count. A text is encoded at most once per block, and never again once cached.
//
// Errors: a sample whose query cannot be extracted is a lamp::Error naming it (query.h), raised
// before anything is encoded.
//
// Thread-safety: one call at a time per embedder and cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "lamp/data/dataset.h"
#include "lamp/retrieval/embedding_cache.h"
#include "lamp/retrieval/retriever.h"
#include "lamp/retrieval/text_embedder.h"

namespace lamp {

struct DenseOptions {
  bool use_date = false;
  int threads = 0;                    // for scoring; 0: all cores
  std::size_t batch_texts = 1024;     // texts per embed() call, and per cache block
  std::size_t block_texts = 1 << 16;  // distinct texts whose vectors are held at once
  // When set, updated to the samples ranked so far, a block's samples counted in proportion to
  // its texts encoded; not owned.
  ProgressBar* progress = nullptr;
};

// Distinct texts of all blocks, and where their vectors came from.
struct DenseStats {
  std::size_t texts = 0;
  std::size_t from_cache = 0;
  std::size_t encoded = 0;
};

// One ranking per sample; `scores` holds the float32 scores by profile index. `cache` may be
// null (every text is encoded); `stats`, when given, receives the counts.
std::vector<SampleRanking> rank_dense(const Questions& questions, TextEmbedder& embedder,
                                      EmbeddingCache* cache, const DenseOptions& options,
                                      DenseStats* stats = nullptr);

// The torch.topk order of `scores` described above, into `order` (same size).
void topk_order(std::span<const float> scores, std::span<std::uint32_t> order);

}  // namespace lamp
