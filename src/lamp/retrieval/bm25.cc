#include "lamp/retrieval/bm25.h"

#include <cmath>
#include <cstdint>

namespace lamp {

// Open-addressing map from token to word id, in first-occurrence order; cleared per corpus.
class TokenInterner {
 public:
  void clear() {
    for (std::uint32_t slot : used_) slots_[slot] = kEmpty;
    used_.clear();
    words_.clear();
  }
  // The id of `word`, or -1 when absent and !insert.
  std::int64_t find(std::string_view word, bool insert) {
    if (slots_.empty() || (words_.size() + 1) * 2 > slots_.size()) grow();
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash(word) & mask;; i = (i + 1) & mask) {
      std::uint32_t id = slots_[i];
      if (id == kEmpty) {
        if (!insert) return -1;
        slots_[i] = static_cast<std::uint32_t>(words_.size());
        used_.push_back(static_cast<std::uint32_t>(i));
        words_.push_back(word);
        return slots_[i];
      }
      if (words_[id] == word) return id;
    }
  }
  std::size_t size() const { return words_.size(); }

 private:
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;

  static std::uint64_t hash(std::string_view word) {
    std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, then a final mix for the low bits
    for (char c : word) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    return h ^ (h >> 29);
  }

  void grow() {
    std::vector<std::string_view> words = std::move(words_);
    slots_.assign(std::max<std::size_t>(64, slots_.size() * 2), kEmpty);
    used_.clear();
    words_.clear();
    for (std::string_view w : words) find(w, true);
  }

  std::vector<std::uint32_t> slots_;
  std::vector<std::uint32_t> used_;
  std::vector<std::string_view> words_;
};

Bm25Scorer::Bm25Scorer(Bm25Params params)
    : params_(params), interner_(std::make_unique<TokenInterner>()) {}
Bm25Scorer::~Bm25Scorer() = default;
Bm25Scorer::Bm25Scorer(Bm25Scorer&&) noexcept = default;

void Bm25Scorer::score(std::span<const std::span<const std::string_view>> documents,
                       std::span<const std::string_view> query, std::vector<double>& scores) {
  const std::size_t n_docs = documents.size();
  scores.assign(n_docs, 0.0);
  if (n_docs == 0) return;
  TokenInterner& interner = *interner_;
  interner.clear();
  for (auto& list : postings_) list.clear();
  std::vector<std::uint32_t>& last_doc = last_doc_;
  std::vector<double>& denominator = denominator_;
  denominator.resize(n_docs);
  std::uint64_t total_tokens = 0;
  for (std::size_t d = 0; d < n_docs; ++d) {
    for (std::string_view token : documents[d]) {
      auto id = static_cast<std::size_t>(interner.find(token, true));
      if (id >= postings_.size()) postings_.resize(id + 1);
      if (id >= last_doc.size()) last_doc.resize(id + 1, UINT32_MAX);
      if (postings_[id].empty() || last_doc[id] != d) {
        postings_[id].push_back({static_cast<std::uint32_t>(d), 1});
        last_doc[id] = static_cast<std::uint32_t>(d);
      } else {
        ++postings_[id].back().tf;
      }
    }
    total_tokens += documents[d].size();
  }
  const std::size_t vocabulary = interner.size();
  const double n = static_cast<double>(n_docs);
  avgdl_ = static_cast<double>(total_tokens) / n;

  // idf in first-occurrence order, as rank_bm25 iterates its dict.
  idf_.assign(vocabulary, 0.0);
  double idf_sum = 0;
  for (std::size_t w = 0; w < vocabulary; ++w) {
    double df = static_cast<double>(postings_[w].size());
    idf_[w] = params_.lucene_idf ? std::log(1.0 + (n - df + 0.5) / (df + 0.5))
                                 : std::log(n - df + 0.5) - std::log(df + 0.5);
    idf_sum += idf_[w];
  }
  average_idf_ = vocabulary > 0 ? idf_sum / static_cast<double>(vocabulary) : 0.0;
  eps_ = params_.epsilon * average_idf_;
  if (!params_.lucene_idf) {
    for (double& idf : idf_) {
      if (idf < 0) idf = eps_;
    }
  }

  // numpy's order of operations: k1 * ((1 - b) + (b * dl) / avgdl).
  for (std::size_t d = 0; d < n_docs; ++d) {
    double dl = static_cast<double>(documents[d].size());
    denominator[d] = params_.k1 * ((1 - params_.b) + (params_.b * dl) / avgdl_);
  }
  for (std::string_view token : query) {
    std::int64_t id = interner.find(token, false);
    if (id < 0) continue;  // unknown words add 0
    double idf = idf_[static_cast<std::size_t>(id)];
    // Documents without the word add idf * 0 (+-0.0), which changes no sum: skip them.
    for (const Posting& p : postings_[static_cast<std::size_t>(id)]) {
      double tf = p.tf;
      scores[p.doc] += idf * ((tf * (params_.k1 + 1)) / (tf + denominator[p.doc]));
    }
  }
}

}  // namespace lamp
