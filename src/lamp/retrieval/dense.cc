#include "lamp/retrieval/dense.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lamp/core/progress.h"
#include "lamp/core/threads.h"
#include "lamp/retrieval/query.h"

namespace lamp {
namespace {

// The distinct texts of a block of samples, and which of them each sample uses.
struct Block {
  std::unordered_map<std::string, std::uint32_t> ids;  // node-based: keys never move
  std::vector<const std::string*> texts;               // by id
  std::vector<std::size_t> samples;                    // indices into questions.samples()
  std::vector<std::uint32_t> query;                    // per block sample: the query's text id
  std::vector<std::size_t> doc_begin;                  // per block sample, into docs
  std::vector<std::uint32_t> docs;                     // profile items' text ids

  std::uint32_t intern(std::string text) {
    auto [it, inserted] =
        ids.try_emplace(std::move(text), static_cast<std::uint32_t>(texts.size()));
    if (inserted) texts.push_back(&it->first);
    return it->second;
  }
};

// Vectors of every text of the block (texts x dim), from the cache or the embedder.
std::vector<float> embed_block(const Block& block, TextEmbedder& embedder, EmbeddingCache* cache,
                               const DenseOptions& options, DenseStats& stats) {
  const std::size_t dim = static_cast<std::size_t>(embedder.dim());
  const std::size_t n = block.texts.size();
  std::vector<float> vectors(n * dim);
  std::vector<TextHash> hashes;
  std::vector<std::uint32_t> missing;
  if (cache != nullptr) {
    hashes.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      hashes[i] = hash_text(*block.texts[i]);
      if (!cache->find(hashes[i], std::span(vectors).subspan(i * dim, dim))) missing.push_back(i);
    }
  } else {
    missing.resize(n);
    std::iota(missing.begin(), missing.end(), 0u);
  }
  stats.texts += n;
  stats.from_cache += n - missing.size();
  stats.encoded += missing.size();

  const std::size_t batch = std::max<std::size_t>(1, options.batch_texts);
  std::vector<std::string_view> views;
  std::vector<TextHash> batch_hashes;
  std::vector<float> batch_vectors;
  for (std::size_t begin = 0; begin < missing.size(); begin += batch) {
    const std::size_t count = std::min(batch, missing.size() - begin);
    views.clear();
    batch_hashes.clear();
    for (std::size_t j = begin; j < begin + count; ++j) {
      views.push_back(*block.texts[missing[j]]);
      if (cache != nullptr) batch_hashes.push_back(hashes[missing[j]]);
    }
    batch_vectors.assign(count * dim, 0.0f);
    embedder.embed(views, batch_vectors);
    for (std::size_t j = 0; j < count; ++j) {
      std::copy_n(batch_vectors.begin() + static_cast<std::ptrdiff_t>(j * dim), dim,
                  vectors.begin() + static_cast<std::ptrdiff_t>(missing[begin + j] * dim));
    }
    // Stored as soon as encoded, so an interrupted run keeps what it paid for.
    if (cache != nullptr) cache->add(batch_hashes, batch_vectors);
    // The samples before the block, plus the block's in proportion to its texts encoded.
    if (options.progress != nullptr)
      options.progress->update(block.samples.front() +
                               block.samples.size() * (begin + count) / missing.size());
  }
  return vectors;
}

void rank_block(const Block& block, TextEmbedder& embedder, EmbeddingCache* cache,
                const DenseOptions& options, DenseStats& stats,
                std::vector<SampleRanking>& rankings) {
  const std::vector<float> vectors = embed_block(block, embedder, cache, options, stats);
  const std::size_t dim = static_cast<std::size_t>(embedder.dim());
  auto row = [&](std::uint32_t id) { return std::span(vectors).subspan(id * dim, dim); };
  parallel_for(block.samples.size(), resolve_threads(options.threads), [&](std::size_t b, int) {
    SampleRanking& out = rankings[block.samples[b]];
    const std::span<const float> query = row(block.query[b]);
    const std::size_t begin = block.doc_begin[b], end = block.doc_begin[b + 1];
    std::vector<float> scores(end - begin);
    for (std::size_t j = begin; j < end; ++j) {
      const std::span<const float> doc = row(block.docs[j]);
      double dot = 0;
      for (std::size_t d = 0; d < dim; ++d) dot += double{query[d]} * double{doc[d]};
      scores[j - begin] = static_cast<float>(dot);
    }
    out.scores.assign(scores.begin(), scores.end());
    out.order.resize(scores.size());
    topk_order(scores, out.order);
  });
  if (options.progress != nullptr) options.progress->update(block.samples.back() + 1);
}

}  // namespace

void topk_order(std::span<const float> scores, std::span<std::uint32_t> order) {
  assert(scores.size() == order.size());
  std::iota(order.begin(), order.end(), 0u);
  // A strict weak order even with NaNs: NaN ranks above every number, NaNs tie with each other.
  auto above = [&](std::uint32_t a, std::uint32_t b) {
    const float x = scores[a], y = scores[b];
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && !std::isnan(y);
    return x > y;
  };
  std::stable_sort(order.begin(), order.end(), above);
}

std::vector<SampleRanking> rank_dense(const Questions& questions, TextEmbedder& embedder,
                                      EmbeddingCache* cache, const DenseOptions& options,
                                      DenseStats* stats) {
  assert(cache == nullptr || cache->dim() == embedder.dim());
  std::vector<SampleRanking> rankings(questions.size());
  DenseStats counts;
  Block block;
  auto flush = [&] {
    block.doc_begin.push_back(block.docs.size());
    rank_block(block, embedder, cache, options, counts, rankings);
    block = Block();
  };
  // Every query first, so a sample without one stops the run before anything is encoded.
  std::vector<std::string> queries(questions.size());
  for (std::size_t i = 0; i < questions.size(); ++i) {
    queries[i] = extract_query(questions.task(), questions.samples()[i]);
  }
  for (std::size_t i = 0; i < questions.size(); ++i) {
    block.samples.push_back(i);
    block.query.push_back(block.intern(std::move(queries[i])));
    block.doc_begin.push_back(block.docs.size());
    for (const ProfileItem& item : questions.profile(questions.samples()[i])) {
      block.docs.push_back(block.intern(document_text(questions.task(), item, options.use_date)));
    }
    if (block.texts.size() >= options.block_texts) flush();
  }
  if (!block.samples.empty()) flush();
  if (stats != nullptr) *stats = counts;
  return rankings;
}

}  // namespace lamp
