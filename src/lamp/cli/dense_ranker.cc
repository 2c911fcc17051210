#include "lamp/cli/dense_ranker.h"

#include <cstdio>

#include "lamp/cli/compute_type_flag.h"
#include "lamp/nn/hub.h"
#include "lamp/nn/plugin.h"

namespace lamp::cli {

void add_dense_ranker_flags(CLI::App& cmd, DenseRankerFlags& flags) {
  cmd.add_option("--retriever-model", flags.model,
                 "Contriever ranker: model folder or Hugging Face hub id")
      ->capture_default_str();
  cmd.add_option("--retriever-batch-size", flags.batch_size,
                 "Contriever ranker: texts per forward pass")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  add_compute_type_option(cmd, "--retriever-compute-type", flags.compute_type, "Contriever ranker");
  auto* cache = cmd.add_option("--embedding-cache", flags.cache_dir,
                               "Contriever ranker: embedding cache folder (default: "
                               "$LAMP_CACHE_DIR/embeddings, else ~/.cache/lamp/embeddings)");
  auto* none = cmd.add_flag("--no-embedding-cache", flags.no_cache,
                            "Contriever ranker: encode every text and store nothing");
  cache->excludes(none);
}

DenseRanker::DenseRanker(const DenseRankerFlags& flags, RankOptions& options) {
  embedder_ = nn::nn_plugin().load_bert_embedder(nn::resolve_model(flags.model),
                                                 {.threads = options.threads,
                                                  .batch_size = flags.batch_size,
                                                  .compute_type = flags.compute_type});
  if (!flags.no_cache) {
    cache_ = std::make_unique<EmbeddingCache>(flags.cache_dir.empty()
                                                  ? default_embedding_cache_dir()
                                                  : std::filesystem::path(flags.cache_dir),
                                              embedder_->cache_key(), embedder_->dim());
  }
  options.embedder = embedder_.get();
  options.embedding_cache = cache_.get();
  options.dense_stats = &stats_;
}

void DenseRanker::report() const {
  if (cache_ == nullptr) {
    std::fprintf(stderr, "lamp: embeddings: %zu texts encoded (no embedding cache)\n",
                 stats_.encoded);
    return;
  }
  if (cache_->dropped_bytes() > 0) {
    std::fprintf(stderr,
                 "lamp: note: cut %zu bytes of an interrupted write off the embedding cache %s\n",
                 cache_->dropped_bytes(), cache_->path().c_str());
  }
  std::fprintf(stderr, "lamp: embeddings: %zu texts from the cache, %zu encoded (%s)\n",
               stats_.from_cache, stats_.encoded, cache_->path().c_str());
}

}  // namespace lamp::cli
