#include "lamp/retrieval/bm25.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "lamp/text/python_str.h"

namespace lamp {
namespace {

std::uint64_t load8(const char* p) {
  std::uint64_t value;
  std::memcpy(&value, p, 8);
  return value;
}

// A token as the table compares it: its first and last 8 bytes as integers (zero-padded when
// shorter), so most comparisons need no memcmp, and a hash of all its bytes.
struct Key {
  std::uint64_t head = 0, tail = 0, hash = 0;
  const char* data = nullptr;
  std::uint32_t size = 0;
};

// The hash of a key whose head, tail and size are set (tables index by its high bits); the
// bytes between head and tail (tokens over 16 bytes, rare) come from key.data.
std::uint64_t key_hash(const Key& key) {
  std::uint64_t h = key.head ^ (key.tail * 0xC2B2AE3D27D4EB4Full) ^ key.size;
  for (std::size_t i = 8; i + 8 < key.size; i += 8)
    h = (h ^ load8(key.data + i)) * 0xBF58476D1CE4E5B9ull;
  h ^= h >> 31;
  return h * 0x9E3779B97F4A7C15ull;
}

// text[begin, end) as a Key, reading only inside `text` (sanitizer builds check that).
[[gnu::noinline]] Key make_key_near_end(std::string_view text, std::size_t begin, std::size_t end) {
  Key key{.data = text.data() + begin, .size = static_cast<std::uint32_t>(end - begin)};
  std::memcpy(&key.head, key.data, std::min<std::size_t>(key.size, 8));
  if (key.size > 8) key.tail = load8(key.data + key.size - 8);
  key.hash = key_hash(key);
  return key;
}

// The same; tokens with 8 readable bytes from their start (all but those near the text's end)
// take no branch that depends on the token's length, which is as random as the text. The tail
// of a token ending before byte 8 (a text's short first word, say) is unused, since the token is
// at most 8 bytes long, so it is loaded from byte 0 instead of before the text.
inline Key make_key(std::string_view text, std::size_t begin, std::size_t end) {
  if (begin + 8 > text.size()) [[unlikely]]
    return make_key_near_end(text, begin, end);
  const std::size_t size = end - begin;
  Key key{.data = text.data() + begin, .size = static_cast<std::uint32_t>(size)};
  key.head = load8(key.data) & (~0ull >> (64 - 8 * std::min<std::size_t>(size, 8)));
  const std::uint64_t tail = load8(text.data() + std::max<std::size_t>(end, 8) - 8);
  key.tail = size > 8 ? tail : 0;
  key.hash = key_hash(key);
  return key;
}

}  // namespace

// One sample's corpus statistics: an open-addressing table of its words (document frequency,
// last document seen, query word) plus term frequencies of the query's words only.
//
// Text is split and hashed a batch of tokens at a time, then the batch is counted with each
// token's slot prefetched a few tokens ahead (the table lives in L2, not L1). The counting loop
// keeps its state in locals, so stores through the table do not force reloads of members, and
// branches only on the probe and on new words: document frequencies, first occurrences and
// query-word counts are updated with arithmetic on 0/1 conditions, since the text makes any
// branch on them unpredictable.
class Bm25Corpus {
 public:
  struct Posting {
    std::uint32_t doc;
    std::uint32_t tf;
  };

  Bm25Corpus() { grow(); }

  void start(std::span<const std::string_view> query) {
    for (std::size_t i = 0; i < n_order_; ++i) slots_[order_[i]].size = 0;
    for (std::uint32_t slot : query_words_) slots_[slot].size = 0;
    n_order_ = 0;
    query_words_.clear();
    query_tokens_.clear();
    doc_lengths_.clear();
    doc_ = 0;
    doc_length_ = 0;
    for (std::string_view token : query) {
      Key key = make_key(token, 0, token.size());
      std::size_t slot = find(key);
      if (slots_[slot].size == 0) {
        slot = insert(key, slot, kNoDoc, 0, static_cast<std::uint32_t>(query_words_.size() + 1));
        query_words_.push_back(static_cast<std::uint32_t>(slot));
      }
      query_tokens_.push_back(slots_[slot].query - 1);
    }
    const std::size_t q = query_words_.size();
    if (postings_.size() < q) postings_.resize(q);
    for (std::size_t i = 0; i < q; ++i) postings_[i].clear();
    doc_tf_.assign(q + 1, 0);
    touched_.resize(q + 1);
    n_touched_ = 0;
    reserve(0);
  }

  void add_text(std::string_view text) {
    Key* const keys = keys_.data();
    std::size_t n = 0;
    text::py_split_each(text, [&](std::size_t begin, std::size_t end) {
      keys[n++] = make_key(text, begin, end);
      if (n == kBatch) [[unlikely]] {
        count(keys, n);
        n = 0;
      }
    });
    count(keys, n);
  }
  void add_token(std::string_view token) {
    Key key = make_key(token, 0, token.size());
    count(&key, 1);
  }

  void end_document() {
    for (std::size_t i = 0; i < n_touched_; ++i) {
      const std::uint32_t q = touched_[i];
      postings_[q - 1].push_back({doc_, doc_tf_[q]});
      doc_tf_[q] = 0;
    }
    n_touched_ = 0;
    doc_tf_[0] = 0;
    doc_lengths_.push_back(doc_length_);
    doc_length_ = 0;
    ++doc_;
  }

  std::span<const std::uint32_t> doc_lengths() const { return doc_lengths_; }
  // Document frequencies of the corpus words in first-occurrence order, via fn(df).
  template <class Fn>
  void for_each_df(Fn&& fn) const {
    for (std::size_t i = 0; i < n_order_; ++i) fn(slots_[order_[i]].df);
  }
  std::size_t vocabulary() const { return n_order_; }
  std::size_t query_size() const { return query_tokens_.size(); }
  // Of the query's i-th token: its document frequency (0: not in the corpus) and its postings.
  std::uint32_t query_df(std::size_t i) const { return slots_[query_words_[query_tokens_[i]]].df; }
  std::span<const Posting> query_postings(std::size_t i) const {
    return postings_[query_tokens_[i]];
  }

 private:
  static constexpr std::uint32_t kNoDoc = UINT32_MAX;
  static constexpr std::size_t kBatch = 256;
  // 32 bytes, so a slot never straddles two cache lines; the word's bytes are in data_.
  struct alignas(32) Word {
    std::uint64_t head, tail;
    std::uint32_t size;      // 0: empty slot (tokens are never empty)
    std::uint32_t last_doc;  // kNoDoc until seen in the corpus
    std::uint32_t df;        // 0: a query word not (yet) in the corpus
    std::uint32_t query;     // 1 + index into query_words_, or 0
  };
  // data: the word's bytes by slot, read only for words over 16 bytes (a second cache miss).
  static bool matches(const Word& w, const char* const* data, std::size_t slot, const Key& key) {
    return ((w.head ^ key.head) | (w.tail ^ key.tail) | (w.size ^ key.size)) == 0 &&
           (key.size <= 16 || std::memcmp(data[slot] + 8, key.data + 8, key.size - 16) == 0);
  }

  // The slot holding `key`, or the empty slot where it belongs.
  std::size_t find(const Key& key) const {
    for (std::size_t i = key.hash >> shift_;; i = (i + 1) & mask_) {
      if (slots_[i].size == 0 || matches(slots_[i], data_.data(), i, key)) return i;
    }
  }

  // Fills the empty slot `slot` (from find) with `key`, growing first when the table would pass
  // half full; returns the slot it ended up in.
  std::size_t insert(const Key& key, std::size_t slot, std::uint32_t last_doc, std::uint32_t df,
                     std::uint32_t query) {
    if ((n_order_ + query_words_.size() + 1) * 2 > slots_.size()) {
      grow();
      slot = find(key);
    }
    slots_[slot] = {key.head, key.tail, key.size, last_doc, df, query};
    data_[slot] = key.data;
    return slot;
  }

  // Room for `words` more words: the table stays at most half full and order_ has an entry
  // for each plus every query word's first occurrence, so count() inserts and appends without
  // checks.
  void reserve(std::size_t words) {
    while ((n_order_ + query_words_.size() + words) * 2 > slots_.size()) grow();
    const std::size_t needed = n_order_ + query_words_.size() + words + 1;
    if (order_.size() < needed) order_.resize(std::max(needed, 2 * order_.size()));
  }

  void grow() {
    std::vector<Word> old = std::move(slots_);
    std::vector<const char*> old_data = std::move(data_);
    const std::size_t size = old.empty() ? 1024 : old.size() * 2;
    slots_.assign(size, Word{});
    data_.assign(size, nullptr);
    mask_ = size - 1;
    shift_ = std::countl_zero(mask_);
    auto move = [&](std::uint32_t& slot) {
      const Word& w = old[slot];
      Key key{.head = w.head, .tail = w.tail, .data = old_data[slot], .size = w.size};
      key.hash = key_hash(key);
      slot = static_cast<std::uint32_t>(find(key));
      slots_[slot] = w;
      data_[slot] = key.data;
      if (w.query != 0) query_words_[w.query - 1] = slot;
    };
    // Query words not in the corpus first, while query_words_ still holds old slots.
    for (std::uint32_t& slot : query_words_) {
      if (old[slot].df == 0) move(slot);
    }
    for (std::size_t i = 0; i < n_order_; ++i) move(order_[i]);
  }

  void count(const Key* keys, std::size_t n) {
    constexpr std::size_t kAhead = 8;
    reserve(n);
    Word* const slots = slots_.data();
    const char** const data = data_.data();
    const std::size_t mask = mask_;
    const int shift = shift_;
    std::uint32_t* const order = order_.data();
    std::uint32_t* const doc_tf = doc_tf_.data();
    std::uint32_t* const touched = touched_.data();
    const std::uint32_t doc = doc_;
    std::size_t n_order = n_order_, n_touched = n_touched_;
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) __builtin_prefetch(&slots[keys[i + kAhead].hash >> shift]);
      const Key& key = keys[i];
      std::size_t slot = key.hash >> shift;
      while (!matches(slots[slot], data, slot, key) && slots[slot].size != 0)
        slot = (slot + 1) & mask;
      Word& w = slots[slot];
      if (w.size == 0) {  // a new word
        w = {key.head, key.tail, key.size, doc, 1, 0};
        data[slot] = key.data;
        order[n_order++] = static_cast<std::uint32_t>(slot);
        continue;
      }
      const std::uint32_t new_doc = w.last_doc != doc;
      order[n_order] = static_cast<std::uint32_t>(slot);
      n_order += new_doc & (w.df == 0);  // a query word's first occurrence
      w.df += new_doc;
      w.last_doc = doc;
      const std::uint32_t q = w.query, tf = doc_tf[q];
      touched[n_touched] = q;
      n_touched += (tf == 0) & (q != 0);
      doc_tf[q] = tf + 1;
    }
    n_order_ = n_order;
    n_touched_ = n_touched;
    doc_length_ += static_cast<std::uint32_t>(n);
  }

  std::vector<Word> slots_;        // power-of-two size, at most half full
  std::vector<const char*> data_;  // by slot
  std::size_t mask_ = 0;
  int shift_ = 64;  // slot of a hash: hash >> shift_
  std::vector<std::uint32_t>
      order_;  // [0, n_order_): slots of the corpus words, first occurrence first
  std::size_t n_order_ = 0;
  std::vector<std::uint32_t> query_words_;      // slots of the distinct query words
  std::vector<std::uint32_t> query_tokens_;     // query word of each query token
  std::vector<std::vector<Posting>> postings_;  // by query word
  std::vector<std::uint32_t>
      doc_tf_;  // by 1 + query word: counts in the current document; [0] absorbs the rest
  std::vector<std::uint32_t> touched_;  // [0, n_touched_): the 1 + query words counted in it
  std::size_t n_touched_ = 0;
  std::vector<std::uint32_t> doc_lengths_;
  std::uint32_t doc_ = 0, doc_length_ = 0;
  std::vector<Key> keys_ = std::vector<Key>(kBatch);  // a batch of tokens of the text being added
};

Bm25Scorer::Bm25Scorer(Bm25Params params)
    : params_(params), corpus_(std::make_unique<Bm25Corpus>()) {}
Bm25Scorer::~Bm25Scorer() = default;
Bm25Scorer::Bm25Scorer(Bm25Scorer&&) noexcept = default;

void Bm25Scorer::score(std::span<const std::span<const std::string_view>> documents,
                       std::span<const std::string_view> query, std::vector<double>& scores) {
  start(query);
  for (std::span<const std::string_view> document : documents) {
    for (std::string_view token : document) add_token(token);
    end_document();
  }
  finish(scores);
}

void Bm25Scorer::start(std::span<const std::string_view> query) { corpus_->start(query); }
void Bm25Scorer::add_text(std::string_view text) { corpus_->add_text(text); }
void Bm25Scorer::add_token(std::string_view token) { corpus_->add_token(token); }
void Bm25Scorer::end_document() { corpus_->end_document(); }

void Bm25Scorer::finish(std::vector<double>& scores) {
  const Bm25Corpus& corpus = *corpus_;
  std::span<const std::uint32_t> doc_lengths = corpus.doc_lengths();
  const std::size_t n_docs = doc_lengths.size();
  scores.assign(n_docs, 0.0);
  if (n_docs == 0) return;
  const double n = static_cast<double>(n_docs);
  std::uint64_t total_tokens = 0;
  for (std::uint32_t length : doc_lengths) total_tokens += length;
  avgdl_ = static_cast<double>(total_tokens) / n;

  // idf depends on the document frequency alone: one value per df in [1, N] instead of two
  // logarithms per word. The mean still sums every word's idf in first-occurrence order, as
  // rank_bm25 iterates its dict, so the sum rounds the same way.
  idf_by_df_.resize(n_docs + 1);
  for (std::size_t df = 1; df <= n_docs; ++df) {
    const double f = static_cast<double>(df);
    idf_by_df_[df] = params_.lucene_idf ? std::log(1.0 + (n - f + 0.5) / (f + 0.5))
                                        : std::log(n - f + 0.5) - std::log(f + 0.5);
  }
  double idf_sum = 0;
  corpus.for_each_df([&](std::uint32_t df) { idf_sum += idf_by_df_[df]; });
  const std::size_t vocabulary = corpus.vocabulary();
  average_idf_ = vocabulary > 0 ? idf_sum / static_cast<double>(vocabulary) : 0.0;
  eps_ = params_.epsilon * average_idf_;

  // numpy's order of operations: k1 * ((1 - b) + (b * dl) / avgdl).
  denominator_.resize(n_docs);
  for (std::size_t d = 0; d < n_docs; ++d) {
    const double dl = static_cast<double>(doc_lengths[d]);
    denominator_[d] = params_.k1 * ((1 - params_.b) + (params_.b * dl) / avgdl_);
  }
  for (std::size_t i = 0; i < corpus.query_size(); ++i) {
    const std::uint32_t df = corpus.query_df(i);
    if (df == 0) continue;  // unknown words add 0
    double idf = idf_by_df_[df];
    if (!params_.lucene_idf && idf < 0) idf = eps_;
    // Documents without the word add idf * 0 (+-0.0), which changes no sum: skip them.
    for (const Bm25Corpus::Posting& p : corpus.query_postings(i)) {
      const double tf = p.tf;
      scores[p.doc] += idf * ((tf * (params_.k1 + 1)) / (tf + denominator_[p.doc]));
    }
  }
}

}  // namespace lamp
