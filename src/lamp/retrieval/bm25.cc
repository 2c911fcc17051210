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
  return h * 0x9E3779B97F4A7C15ull;
}

// text[begin, end) as a Key, reading only inside `text`.
[[gnu::noinline]] Key make_key_near_end(std::string_view text, std::size_t begin, std::size_t end) {
  Key key{.data = text.data() + begin, .size = static_cast<std::uint32_t>(end - begin)};
  std::memcpy(&key.head, key.data, std::min<std::size_t>(key.size, 8));
  if (key.size > 8) key.tail = load8(key.data + key.size - 8);
  key.hash = key_hash(key);
  return key;
}

// The same; tokens with 8 readable bytes from their start (all but those near the end of the
// text and of a page) take no branch that depends on the token's length, which is as random as
// the text; bytes past the token are masked off. The tail
// of a token ending before byte 8 (a text's short first word, say) is unused, since the token is
// at most 8 bytes long, so it is loaded from byte 0 instead of before the text.
inline Key make_key(std::string_view text, std::size_t begin, std::size_t end) {
  if (begin + 8 > text.size() && !text::detail::on_one_page(text.data() + begin, 8)) [[unlikely]]
    return make_key_near_end(text, begin, end);
  const std::size_t size = end - begin;
  Key key{.data = text.data() + begin, .size = static_cast<std::uint32_t>(size)};
  key.head = load8(key.data) & (~0ull >> (64 - 8 * std::min<std::size_t>(size, 8)));
  const std::uint64_t tail = load8(text.data() + std::max<std::size_t>(end, 8) - 8);
  key.tail = size > 8 ? tail : 0;
  key.hash = key_hash(key);
  return key;
}

// Whether the word with this head, tail, size and bytes is key's token.
bool same_word(std::uint64_t head, std::uint64_t tail, std::uint32_t size, const char* data,
               const Key& key) {
  return ((head ^ key.head) | (tail ^ key.tail) | (size ^ key.size)) == 0 &&
         (size <= 16 || std::memcmp(data + 8, key.data + 8, size - 16) == 0);
}

}  // namespace

// One sample's corpus statistics: its words in first-occurrence order (document frequency, last
// document seen, query word), found through an open-addressing table of word numbers, plus term
// frequencies of the query's words only.
//
// The table holds 4-byte word numbers and is kept at most 1/8 full, so it stays small while
// nearly every token finds its word in its home slot: a lookup reads that slot and the record
// it names, and only new words and words over 16 bytes take the out-of-line path. The records of
// frequent words come first and share cache lines. Query words join the records only when the
// corpus first uses them (a small query table is consulted for new words), so the records' order
// is the corpus's first-occurrence order that the mean idf sums in, and finish() reads them in
// sequence.
//
// add_text splits, hashes and counts each token as it is found, with the loop's state in locals
// (stores through the records would otherwise force reloads of members), one token behind the
// splitting so that the next record's cache miss overlaps the count. The count branches only on
// the lookup: document frequencies and query-word counts are updated with arithmetic on 0/1
// conditions, since the text makes any branch on them unpredictable.
class Bm25Corpus {
 public:
  struct Posting {
    std::uint32_t doc;
    std::uint32_t tf;
  };

  Bm25Corpus() {
    slots_.assign(1024, kEmpty);
    set_table_size(slots_.size());
    words_.resize(1024);  // words_[0]: a record no token matches (size 0), named by empty slots
  }

  void start(std::span<const std::string_view> query) {
    // Clearing the filled slots one by one beats clearing the table only when few are filled.
    if (n_words_ * 16 > slots_.size()) {
      std::fill(slots_.begin(), slots_.end(), kEmpty);
    } else {
      for (std::uint32_t id = 1; id <= n_words_; ++id) slots_[slot_of_[id]] = kEmpty;
    }
    n_words_ = 0;
    doc_lengths_.clear();
    doc_ = 0;
    doc_length_ = 0;

    query_keys_.clear();
    query_tokens_.clear();
    std::size_t query_slots = 16;
    while (query_slots < 2 * query.size()) query_slots *= 2;
    query_slots_.assign(query_slots, 0);
    const int query_shift = std::countl_zero(query_slots - 1);
    for (std::string_view token : query) {
      const Key key = make_key(token, 0, token.size());
      std::size_t slot = key.hash >> query_shift;
      while (query_slots_[slot] != 0 && !same_query_word(query_slots_[slot] - 1, key))
        slot = (slot + 1) & (query_slots - 1);
      if (query_slots_[slot] == 0) {
        query_keys_.push_back(key);
        query_slots_[slot] = static_cast<std::uint32_t>(query_keys_.size());
      }
      query_tokens_.push_back(query_slots_[slot] - 1);
    }
    query_shift_ = query_shift;
    const std::size_t q = query_keys_.size();
    query_ids_.assign(q, 0);
    if (postings_.size() < q) postings_.resize(q);
    for (std::size_t i = 0; i < q; ++i) postings_[i].clear();
    // doc_tf_[0] counts the other words; it starts at 1 so that it never reads as untouched.
    doc_tf_.assign(q + 1, 0);
    doc_tf_[0] = 1;
    touched_.resize(q + 1);
    n_touched_ = 0;
  }

  // Compiled for the build's baseline and for AVX2-era CPUs (tzcnt, blsr, shrx, VEX-encoded SSE:
  // about 10 % fewer instructions); the loader picks the one the CPU runs.
  [[gnu::target_clones("arch=x86-64-v3", "default")]] void add_text(std::string_view text) {
    Counter counter(*this);
    text::py_split_each(text, [&](std::size_t begin, std::size_t end) {
      counter.count(make_key(text, begin, end));
    });
    counter.save();
  }
  void add_token(std::string_view token) {
    Counter counter(*this);
    counter.count(make_key(token, 0, token.size()));
    counter.save();
  }

  void end_document() {
    for (std::size_t i = 0; i < n_touched_; ++i) {
      const std::uint32_t q = touched_[i];
      postings_[q - 1].push_back({doc_, doc_tf_[q]});
      doc_tf_[q] = 0;
    }
    n_touched_ = 0;
    doc_tf_[0] = 1;
    doc_lengths_.push_back(doc_length_);
    doc_length_ = 0;
    ++doc_;
  }

  std::span<const std::uint32_t> doc_lengths() const { return doc_lengths_; }
  // Document frequencies of the corpus words in first-occurrence order, via fn(df).
  template <class Fn>
  void for_each_df(Fn&& fn) const {
    for (std::uint32_t id = 1; id <= n_words_; ++id) fn(words_[id].df);
  }
  std::size_t vocabulary() const { return n_words_; }
  std::size_t query_size() const { return query_tokens_.size(); }
  std::size_t query_words() const { return query_keys_.size(); }
  // The distinct query word (an index below query_words()) of the query's i-th token.
  std::uint32_t query_word(std::size_t i) const { return query_tokens_[i]; }
  // Of query word q: its document frequency (0: not in the corpus) and its postings.
  std::uint32_t query_df(std::uint32_t q) const {
    const std::uint32_t id = query_ids_[q];
    return id == 0 ? 0 : words_[id].df;
  }
  std::span<const Posting> query_postings(std::uint32_t q) const { return postings_[q]; }

 private:
  static constexpr std::uint32_t kNoDoc = UINT32_MAX;
  static constexpr std::uint32_t kEmpty = 0;  // an empty slot names words_[0]
  // 32 bytes, so a record never straddles two cache lines; the word's bytes are in data_.
  struct alignas(32) Word {
    std::uint64_t head = 0, tail = 0;
    std::uint32_t size = 0;  // 0 only in words_[0]: tokens are never empty
    std::uint32_t last_doc = kNoDoc;
    std::uint32_t df = 0;
    std::uint32_t query = 0;  // 1 + index into query_keys_, or 0
  };

  // The counting state in locals, copied from the corpus and saved back after a text; the
  // compiler keeps it in registers across the stores into the records.
  class Counter {
   public:
    explicit Counter(Bm25Corpus& corpus)
        : corpus_(&corpus),
          slots_(corpus.slots_.data()),
          words_(corpus.words_.data()),
          doc_tf_(corpus.doc_tf_.data()),
          touched_(corpus.touched_.data()),
          n_touched_(corpus.n_touched_),
          shift_(corpus.shift_),
          doc_(corpus.doc_) {}

    // Counts the token before `key` (if any) while key's record is fetched: one token of
    // lookahead hides most of the record's cache miss. The word number read for the prefetch is
    // kept: counting the token before may add a word or grow the table meanwhile, but a number
    // is only used once its record matches the token, and numbers never change.
    [[gnu::always_inline]] void count(const Key& key) {
      const std::uint32_t id = slots_[key.hash >> shift_];
      __builtin_prefetch(&words_[id]);
      if (pending_.size != 0) count_now(pending_, pending_id_);
      pending_ = key;
      pending_id_ = id;
    }

    void save() {
      if (pending_.size != 0) count_now(pending_, pending_id_);
      corpus_->n_touched_ = n_touched_;
      corpus_->doc_length_ += static_cast<std::uint32_t>(tokens_);
    }

   private:
    // Counts `key`, whose word is probably number `id` (the number in its home slot).
    [[gnu::always_inline]] void count_now(const Key& key, std::uint32_t id) {
      const Word& home = words_[id];
      if (((home.head ^ key.head) | (home.tail ^ key.tail) | (home.size ^ key.size) |
           static_cast<std::uint64_t>(key.size > 16)) != 0) [[unlikely]] {
        id = corpus_->locate(key.head, key.tail, key.data, key.size, key.hash >> shift_);
        slots_ = corpus_->slots_.data();
        words_ = corpus_->words_.data();
        shift_ = corpus_->shift_;
      }
      Word& w = words_[id];
      const std::uint32_t new_doc = w.last_doc != doc_;
      w.df += new_doc;
      w.last_doc = doc_;
      const std::uint32_t q = w.query, tf = doc_tf_[q];
      touched_[n_touched_] = q;
      n_touched_ += tf == 0;
      doc_tf_[q] = tf + 1;
      ++tokens_;
    }

    Key pending_;  // size 0: none
    std::uint32_t pending_id_ = 0;
    Bm25Corpus* corpus_;
    std::uint32_t* slots_;
    Word* words_;
    std::uint32_t* doc_tf_;
    std::uint32_t* touched_;
    std::size_t n_touched_, tokens_ = 0;
    int shift_;
    std::uint32_t doc_;
  };

  bool same_query_word(std::uint32_t q, const Key& key) const {
    const Key& word = query_keys_[q];
    return same_word(word.head, word.tail, word.size, word.data, key);
  }

  // The number of the key's word, which is not in its home slot `slot` or is long: probes on,
  // and adds a new word (which may grow the table and move the records). Takes the key's parts
  // in registers: a Key argument in memory would be stored for every token.
  [[gnu::noinline]] std::uint32_t locate(std::uint64_t head, std::uint64_t tail, const char* data,
                                         std::uint32_t size, std::size_t slot) {
    Key key{.head = head, .tail = tail, .data = data, .size = size};
    key.hash = key_hash(key);
    for (;; slot = (slot + 1) & mask_) {
      const std::uint32_t id = slots_[slot];
      if (id == kEmpty) return add_word(key, slot);
      const Word& w = words_[id];
      if (same_word(w.head, w.tail, w.size, data_[id], key)) return id;
    }
  }

  std::uint32_t add_word(const Key& key, std::size_t slot) {
    if ((n_words_ + 1) * 8 > slots_.size()) {
      grow_table();
      slot = key.hash >> shift_;
      while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
    }
    const auto id = static_cast<std::uint32_t>(++n_words_);
    if (id == words_.size()) {
      words_.resize(2 * words_.size());
      data_.resize(words_.size());
      slot_of_.resize(words_.size());
    }
    std::uint32_t query = 0;
    for (std::size_t q = key.hash >> query_shift_; query_slots_[q] != 0;
         q = (q + 1) & (query_slots_.size() - 1)) {
      if (same_query_word(query_slots_[q] - 1, key)) {
        query = query_slots_[q];
        query_ids_[query - 1] = id;
        break;
      }
    }
    words_[id] = {.head = key.head, .tail = key.tail, .size = key.size, .query = query};
    data_[id] = key.data;
    slot_of_[id] = static_cast<std::uint32_t>(slot);
    slots_[slot] = id;
    return id;
  }

  void set_table_size(std::size_t size) {
    mask_ = size - 1;
    shift_ = std::countl_zero(mask_);
  }

  // Doubles the table; records keep their numbers.
  void grow_table() {
    slots_.assign(2 * slots_.size(), kEmpty);
    set_table_size(slots_.size());
    for (std::uint32_t id = 1; id <= n_words_; ++id) {
      const Word& w = words_[id];
      Key key{.head = w.head, .tail = w.tail, .data = data_[id], .size = w.size};
      std::size_t slot = key_hash(key) >> shift_;
      while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
      slots_[slot] = id;
      slot_of_[id] = static_cast<std::uint32_t>(slot);
    }
  }

  std::vector<std::uint32_t> slots_;  // word numbers; power-of-two size, at most 1/8 full
  std::size_t mask_ = 0;
  int shift_ = 64;  // slot of a hash: hash >> shift_
  // By word number, 1..n_words_ in first-occurrence order: records, bytes, slots.
  std::vector<Word> words_;
  std::vector<const char*> data_ = std::vector<const char*>(1024);
  std::vector<std::uint32_t> slot_of_ = std::vector<std::uint32_t>(1024);
  std::size_t n_words_ = 0;
  std::vector<Key> query_keys_;             // the distinct query words
  std::vector<std::uint32_t> query_slots_;  // 1 + index into query_keys_, or 0: empty
  int query_shift_ = 64;
  std::vector<std::uint32_t> query_ids_;        // by query word: its word number, 0 until seen
  std::vector<std::uint32_t> query_tokens_;     // query word of each query token
  std::vector<std::vector<Posting>> postings_;  // by query word
  std::vector<std::uint32_t>
      doc_tf_;  // by 1 + query word: counts in the current document; [0] absorbs the rest
  std::vector<std::uint32_t> touched_;  // [0, n_touched_): the 1 + query words counted in it
  std::size_t n_touched_ = 0;
  std::vector<std::uint32_t> doc_lengths_;
  std::uint32_t doc_ = 0, doc_length_ = 0;
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
  // A word's term for a document is the same for each of its tokens in the query (queries
  // repeat words): computed once per word, then added once per token, in token order as numpy
  // adds them.
  constexpr std::size_t kNotYet = SIZE_MAX;
  term_offsets_.assign(corpus.query_words(), kNotYet);
  terms_.clear();
  for (std::size_t i = 0; i < corpus.query_size(); ++i) {
    const std::uint32_t q = corpus.query_word(i);
    const std::uint32_t df = corpus.query_df(q);
    if (df == 0) continue;  // unknown words add 0
    // Documents without the word add idf * 0 (+-0.0), which changes no sum: skip them.
    std::span<const Bm25Corpus::Posting> postings = corpus.query_postings(q);
    if (term_offsets_[q] == kNotYet) {
      double idf = idf_by_df_[df];
      if (!params_.lucene_idf && idf < 0) idf = eps_;
      term_offsets_[q] = terms_.size();
      terms_.resize(terms_.size() + postings.size());
      double* term = terms_.data() + term_offsets_[q];
      for (std::size_t k = 0; k < postings.size(); ++k) {
        const double tf = postings[k].tf;
        term[k] = idf * ((tf * (params_.k1 + 1)) / (tf + denominator_[postings[k].doc]));
      }
    }
    const double* term = terms_.data() + term_offsets_[q];
    for (std::size_t k = 0; k < postings.size(); ++k) scores[postings[k].doc] += term[k];
  }
}

}  // namespace lamp
