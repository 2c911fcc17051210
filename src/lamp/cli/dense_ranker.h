// The Contriever ranker's flags and objects, shared by lamp rank, prompt and predict:
//   --retriever-model DIR_OR_HUB_ID  a local model folder or a Hugging Face hub id (nn/hub.h)
//   --retriever-batch-size N         texts per forward pass (the official code's 16); not
//                                    --batch-size, which lamp predict has for generation
//   --retriever-compute-type T       float32 or int8 (cli/compute_type_flag.h); int8 vectors
//                                    have their own embedding cache
//   --embedding-cache DIR            where the embedding cache lives (retrieval/embedding_cache.h;
//                                    default: default_embedding_cache_dir())
//   --no-embedding-cache             encode every text, store nothing
// A DenseRanker is built only when the ranker is contriever, so other rankers never load a model.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "lamp/nn/options.h"
#include "lamp/retrieval/dense.h"
#include "lamp/retrieval/embedding_cache.h"
#include "lamp/retrieval/retriever.h"
#include "lamp/retrieval/text_embedder.h"

namespace lamp::cli {

struct DenseRankerFlags {
  std::string model = "facebook/contriever";
  int batch_size = 16;
  nn::ComputeType compute_type = nn::ComputeType::kFloat32;
  std::string cache_dir;  // empty: the default folder
  bool no_cache = false;
};

void add_dense_ranker_flags(CLI::App& cmd, DenseRankerFlags& flags);

// The loaded model and the open cache of one run.
class DenseRanker {
 public:
  // Resolves and loads the model (intra-op threads: options.threads), opens the cache, and points
  // options.embedder, embedding_cache and dense_stats at them; `options` must not outlive this.
  DenseRanker(const DenseRankerFlags& flags, RankOptions& options);

  // One line on stderr: texts taken from the cache and texts encoded (and any repair of the
  // cache file).
  void report() const;

 private:
  std::unique_ptr<TextEmbedder> embedder_;
  std::unique_ptr<EmbeddingCache> cache_;
  DenseStats stats_;
};

}  // namespace lamp::cli
