#include "lamp/retrieval/bm25.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include <emmintrin.h>

#include "lamp/core/cpu.h"
#include "lamp/core/error.h"
#include "lamp/core/memory.h"
#include "lamp/text/python_str.h"

namespace lamp {
namespace {

// 16 bytes as a GCC vector, whose operations compile to the clone's best instructions.
using Bytes16 = signed char __attribute__((vector_size(16)));

std::uint64_t load8(const char* p) {
  std::uint64_t value;
  std::memcpy(&value, p, 8);
  return value;
}

constexpr std::uint64_t kSpaces = 0x2020202020202020ull;
// The low half of a key no word has ("a a" then spaces: a space before a byte that is not one),
// and not an empty entry's: the sentinel entry's (Bm25Corpus::Pending).
constexpr std::uint64_t kSentinelKey = 0x2020202020612061ull;

// A word as the table knows it. A word of at most 16 bytes is its bytes followed by spaces
// (0x20) up to 16 bytes: tokens never contain a space, so the first space marks the end and
// different words have different keys. A longer word's key is its first 8 bytes and a hash of
// all its bytes with a space before a last byte that is not one, which no shorter word's key
// has; the table compares such words' bytes too. No key starts with a space.
struct alignas(16) Key {
  std::uint64_t lo = 0, hi = 0;
};

// By token size (1..16): which bytes of 16 loaded from its start are the token's (keep), and
// the spaces that replace the others (fill).
struct KeyMask {
  alignas(16) std::array<std::uint8_t, 16> keep{}, fill{};
};
constexpr auto kKeyMasks = [] {
  std::array<KeyMask, 17> masks{};
  for (std::size_t size = 1; size <= 16; ++size) {
    for (std::size_t i = 0; i < 16; ++i) {
      masks[size].keep[i] = i < size ? 0xFF : 0;
      masks[size].fill[i] = i < size ? 0 : 0x20;
    }
  }
  return masks;
}();

// The key of a token of 1 to 16 bytes at p, of which 16 bytes must be readable: one load, two
// masks, no branch on the size.
inline __m128i short_key(const char* p, std::size_t size) {
  const KeyMask& mask = kKeyMasks[size];
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm_or_si128(
      _mm_and_si128(bytes, _mm_load_si128(reinterpret_cast<const __m128i*>(mask.keep.data()))),
      _mm_load_si128(reinterpret_cast<const __m128i*>(mask.fill.data())));
}

Key to_key(__m128i key) {
  return {.lo = static_cast<std::uint64_t>(_mm_cvtsi128_si64(key)),
          .hi = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(key, key)))};
}

// The key of a token over 16 bytes (rare), reading only its bytes.
[[gnu::noinline]] Key long_key(const char* p, std::size_t size) {
  std::uint64_t a = size * 0x9E3779B97F4A7C15ull, b = ~a;
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    a = (a ^ load8(p + i)) * 0xBF58476D1CE4E5B9ull;
    b = (b + load8(p + i)) * 0x94D049BB133111EBull;
  }
  const std::uint64_t tail = load8(p + size - 8);
  a = (a ^ tail) * 0xC2B2AE3D27D4EB4Full;
  b = (b ^ (b >> 29) ^ a) * 0x9E3779B97F4A7C15ull;
  return {.lo = load8(p), .hi = (b & 0x7F00FFFFFFFFFFFFull) | 0x8020000000000000ull};
}

// The key of any token, reading only its bytes.
Key key_of(std::string_view token) {
  assert(!token.empty() && token.find(' ') == std::string_view::npos);
  if (token.size() > 16) return long_key(token.data(), token.size());
  // The 16 bytes from its start are readable where they are on its page (a variable-size copy
  // is a call to memcpy: it was 40 % of start()).
  if (text::detail::on_one_page(token.data(), 16)) {
    return to_key(short_key(token.data(), token.size()));
  }
  char bytes[16] = {};
  std::memcpy(bytes, token.data(), token.size());
  return to_key(short_key(bytes, token.size()));
}

// Tables index by the high bits. The halves are xor-ed unrotated, which a vector register does
// in two instructions (key_hash_of): words of up to 8 bytes share their high half (spaces), so
// only longer words can collide before the multiply, and then only at the home slot.
constexpr std::uint64_t kHashMultiplier = 0x9E3779B97F4A7C15ull;
inline std::uint64_t key_hash(const Key& key) { return (key.lo ^ key.hi) * kHashMultiplier; }
inline std::uint64_t key_hash_of(__m128i key) {
  return static_cast<std::uint64_t>(
             _mm_cvtsi128_si64(_mm_xor_si128(key, _mm_unpackhi_epi64(key, key)))) *
         kHashMultiplier;
}

}  // namespace

// One sample's corpus statistics: for each corpus word its document frequency and the last
// document it was seen in, in an open-addressing table of 32-byte entries keyed by the word
// itself (Key), plus term frequencies of the query's words only; the slots of the words in
// first-occurrence order (the order the mean idf sums in).
//
// A token whose entry is in its home slot, as nearly all are, costs one access to the table,
// with no branch but the key comparison: a new word whose home slot is empty is written there
// by the same stores that update a known word (empty entries count as seen in no document), and
// joins the first-occurrence list by an append that advances only when its df was 0. Query
// words are entered at start() with df 0, so they join that list at their first corpus
// occurrence too, and no new word needs a query lookup. Only home slots taken by another word
// and words over 16 bytes take the out-of-line path (find). The table is kept sparse: at 3/4
// full, 8 % of the tokens of the LaMP-5 benchmark set found their home slot taken and find took
// 10 % of the time; at 1/4, 2 %, and ranking is 13 % faster on that set, 5 % on the LaMP-3 one
// (Intel Xeon, 2 MB L2; docs/performance.md). At 1/8, the 1 MB table of a 2,000-word profile
// still fits that L2, and counting is another 4 % faster: tables are kept at most 1/8 full
// where the L2 holds 2 MB or more, else 1/4 (on a Zen 3 with 512 KB of L2 a table at most 1/2
// full measured slower than at 3/4). Tables are in huge pages, which saves TLB misses (2-3 %).
//
// add_text splits and keys the tokens of a text into a queue, prefetching each one's home slot,
// and counts the queue every kBatch tokens: the table's cache misses then overlap instead of
// each stalling the count that needs it (counting one token behind the splitting, with one
// prefetch, hid far less; without the prefetch, ranking is 25 % slower). The queue carries over
// from one text of a document to the next and is counted at the latest by end_document, so a
// short title does not make a batch of its own. Counting keeps its state in locals (stores through
// the entries would otherwise force reloads of members), and updates document frequencies and
// query-word counts with arithmetic on 0/1 conditions, since the text makes any branch on them
// unpredictable.
class Bm25Corpus {
 public:
  struct Posting {
    std::uint32_t doc;
    std::uint32_t tf;
  };

  Bm25Corpus() { resize_table(1024); }

  void start(std::span<const std::string_view> query) {
    // At most a quarter of the table is used: clearing those entries beats clearing it all
    // (none are left where take_dfs() has run).
    for (std::size_t i = 0; i < n_words_; ++i) *at(order_[i]) = Entry{};
    for (std::uint32_t slot : query_slots_) table_[slot] = Entry{};
    n_words_ = 0;
    long_words_.clear();
    doc_lengths_.clear();
    doc_ = 0;
    doc_length_ = 0;

    while (2 * query.size() > limit()) resize_table(2 * sentinel());
    query_slots_.clear();
    query_tokens_.clear();
    for (std::string_view token : query) {
      const Key key = key_of(token);
      const std::uint32_t slot =
          find(key, key_hash(key) >> shift_, token.size() > 16 ? token : std::string_view());
      Entry& e = table_[slot];
      if (e.query == 0) {
        e.lo = key.lo;
        e.hi = key.hi;
        query_slots_.push_back(slot);
        e.query = static_cast<std::uint32_t>(query_slots_.size());
      }
      query_tokens_.push_back(e.query - 1);
    }
    const std::size_t q = query_slots_.size();
    grow_at_ = limit() - q;
    if (postings_.size() < q) postings_.resize(q);
    for (std::size_t i = 0; i < q; ++i) postings_[i].clear();
    // Counts are kept minus one, so a query word's first occurrence in a document is the
    // increment that carries (from kUntouched); doc_tf_[0] counts the other words from 0 and
    // never carries.
    doc_tf_.assign(q + 1, kUntouched);
    doc_tf_[0] = 0;
    touched_.resize(q + 1);
    n_touched_ = 0;
  }

  // Compiled for the build's baseline and for AVX2-era CPUs (tzcnt, blsr, shrx, VEX-encoded SSE:
  // about 10 % fewer instructions); the loader picks the one the CPU runs.
  [[gnu::target_clones("arch=x86-64-v3", "default")]] void add_text(std::string_view text) {
    // Keys load 16 bytes from each token's start: from a padded copy when those past the
    // text's end might be on the next page, which may be unmapped.
    const char* bytes = text.data();
    if (!text.empty() && !text::detail::on_one_page(text.data() + text.size() - 1, 16))
        [[unlikely]] {
      padded_.assign(text.begin(), text.end());
      padded_.resize(text.size() + 16);
      bytes = padded_.data();
    }
    text_ = text.data();
    Queue queue(*this, bytes);
    // Split from the same bytes the keys load (the same tokens): one base register for both,
    // which saved a spill per token.
    text::py_split_each(std::string_view(bytes, text.size()),
                        [&](std::size_t begin, std::size_t end) { queue.add(begin, end); });
    queue.park();
  }
  void add_token(std::string_view token) {
    assert(!token.empty() && token.find(' ') == std::string_view::npos);
    char bytes[16] = {};
    std::memcpy(bytes, token.data(), std::min<std::size_t>(token.size(), 16));
    text_ = token.data();
    Queue queue(*this, bytes);
    queue.add(0, token.size());
    queue.park();
  }

  void end_document() {
    count_pending(n_pending_);
    n_pending_ = 0;
    for (std::size_t i = 0; i < n_touched_; ++i) {
      const std::uint32_t q = touched_[i];
      postings_[q - 1].push_back({doc_, doc_tf_[q] + 1});
      doc_tf_[q] = kUntouched;
    }
    n_touched_ = 0;
    doc_tf_[0] = 0;
    doc_lengths_.push_back(doc_length_);
    doc_length_ = 0;
    ++doc_;
  }

  std::span<const std::uint32_t> doc_lengths() const { return doc_lengths_; }
  // Once the last document has ended: the document frequencies of the corpus words in
  // first-occurrence order, via fn(df), each entry emptied once read (the read has brought it
  // into cache, where start() would miss on it: 3 % of ranking on the LaMP-5 benchmark set).
  // The vocabulary is then empty; query_df() still answers (from the postings).
  template <class Fn>
  void take_dfs(Fn&& fn) {
    for (std::size_t i = 0; i < n_words_; ++i) {
      Entry* e = at(order_[i]);
      fn(e->df);
      *e = Entry{};
    }
    n_words_ = 0;
  }
  std::size_t vocabulary() const { return n_words_; }
  std::size_t query_size() const { return query_tokens_.size(); }
  std::size_t query_words() const { return query_slots_.size(); }
  // The distinct query word (an index below query_words()) of the query's i-th token.
  std::uint32_t query_word(std::size_t i) const { return query_tokens_[i]; }
  // Of query word q: its document frequency (0: not in the corpus), which is its number of
  // postings (one per document it is in), and its postings.
  std::uint32_t query_df(std::uint32_t q) const {
    return static_cast<std::uint32_t>(postings_[q].size());
  }
  std::span<const Posting> query_postings(std::uint32_t q) const { return postings_[q]; }

 private:
  // 32 bytes, so an entry never straddles two cache lines. An empty entry has lo == kSpaces
  // (no key's value) and counts as a word in no document, outside the query.
  struct alignas(32) Entry {
    std::uint64_t lo = kSpaces, hi = 0;  // the Key
    // query sits between last_doc and df so that their two stores stay two plain stores (side
    // by side, GCC merged them through a vector register: more instructions).
    // 1 + the last document the word was seen in; 0: none. Documents before the current one
    // have smaller numbers, so "not seen in it yet" is last_doc < 1 + doc_: a compare and an
    // add with carry, no flag to materialize.
    std::uint32_t last_doc = 0;
    std::uint32_t query = 0;  // 1 + query word, or 0
    std::uint32_t df = 0;
    std::uint32_t long_word = 0;  // words over 16 bytes: 1 + index into long_words_
  };

  // A token split but not yet counted: its key and its home slot's entry, or for a word over 16
  // bytes the sentinel's (after the table's slots), which no key matches and which is not
  // empty, so that such words take the out-of-line path with no test of their own.
  struct Pending {
    Key key;
    std::uint32_t offset = 0;  // of the slot's entry in the table, in bytes (see at())
  };
  // Tokens are counted in batches of this many, after all their home slots were prefetched,
  // so that the entries' cache misses overlap.
  static constexpr std::size_t kBatch = 64;

  // Splits a text into pending_, keying each token and prefetching its home slot, and has the
  // corpus count each full batch; the state in locals, which the compiler keeps in registers.
  class Queue {
   public:
    // Tokens are byte ranges of text_; `bytes` holds the same bytes followed by 16 readable
    // ones (the text itself or a padded copy). The batch of the document's previous text, if
    // any, goes on.
    Queue(Bm25Corpus& corpus, const char* bytes) : corpus_(&corpus), bytes_(bytes) {
      start_batch(corpus.n_pending_);
    }

    [[gnu::always_inline]] void add(std::size_t begin, std::size_t end) {
      const std::size_t size = end - begin;
      Pending& p = *next_;
      std::uint64_t slot;
      if (size <= 16) [[likely]] {
        const __m128i key = short_key(bytes_ + begin, size);
        _mm_store_si128(reinterpret_cast<__m128i*>(&p.key), key);
        slot = key_hash_of(key) >> shift_;
      } else {
        p.key = long_key(corpus_->text_ + begin, size);
        corpus_->long_pending_.emplace_back(corpus_->text_ + begin, size);
        slot = corpus_->sentinel();
      }
      const std::uint64_t offset = slot * sizeof(Entry);
      p.offset = static_cast<std::uint32_t>(offset);
      __builtin_prefetch(reinterpret_cast<const char*>(table_) + offset);
      // The queue is aligned to its size, so it is full when next_'s low bits wrap to 0: no
      // register for its end in a loop that has too few.
      if ((reinterpret_cast<std::uintptr_t>(++next_) & (sizeof(PendingQueue) - 1)) == 0) {
        corpus_->count_pending(kBatch);
        start_batch(0);
      }
    }

    // Leaves the tokens not counted yet for the document's next text or its end.
    void park() {
      corpus_->n_pending_ = static_cast<std::size_t>(next_ - corpus_->pending_.data());
    }

   private:
    // Goes on with a batch that holds `pending` tokens. A new batch first grows the table if a
    // batch of new words could fill it: then the home slots found for the batch stay valid until
    // it is counted.
    [[gnu::always_inline]] void start_batch(std::size_t pending) {
      next_ = corpus_->pending_.data() + pending;
      if (pending == 0 && corpus_->n_words_ + kBatch > corpus_->grow_at_) [[unlikely]]
        corpus_->grow();
      table_ = corpus_->table_.data();
      shift_ = corpus_->shift_;
    }

    Bm25Corpus* corpus_;
    const char* bytes_;
    Pending* next_;  // in pending_
    const Entry* table_;
    int shift_;
  };

  // Counts pending_[0, n), in order, with the counting state in locals (stores through the
  // entries would otherwise force reloads of members).
  [[gnu::target_clones("arch=x86-64-v3", "default")]] void count_pending(std::size_t n) {
    Entry* const table = table_.data();
    std::uint32_t* const order = order_.data();
    std::uint32_t* const doc_tf = doc_tf_.data();
    std::uint32_t* const touched = touched_.data();
    std::size_t n_words = n_words_, n_touched = n_touched_, next_long = 0;
    const std::uint32_t doc = doc_ + 1;  // as last_doc numbers documents
    const Pending* const end = pending_.data() + n;
    for (const Pending* p = pending_.data(); p != end; ++p) {
      std::uint32_t offset = p->offset;
      Entry* e = at(table, offset);
      // Its word's entry or an empty one: one branch for both, as which of the two it is
      // depends on the text. The key is compared in one vector register, and an entry whose
      // first byte is a space (empty) passes in every byte: its first byte broadcast
      // (vpbroadcastb from memory where the CPU has AVX2).
      const __m128i key = _mm_load_si128(reinterpret_cast<const __m128i*>(&p->key));
      const Bytes16 empty = (Bytes16{} + *reinterpret_cast<const signed char*>(e)) == ' ';
      const __m128i same =
          _mm_or_si128(_mm_cmpeq_epi8(_mm_load_si128(reinterpret_cast<const __m128i*>(e)), key),
                       reinterpret_cast<const __m128i&>(empty));
      if (_mm_movemask_epi8(same) != 0xFFFF) [[unlikely]] {
        const std::size_t slot =
            offset == sentinel() * sizeof(Entry)
                ? find(p->key, key_hash(p->key) >> shift_, long_pending_[next_long++])
                : find(p->key, offset / sizeof(Entry), std::string_view());
        offset = static_cast<std::uint32_t>(slot * sizeof(Entry));
        e = at(table, offset);
      }
      _mm_store_si128(reinterpret_cast<__m128i*>(e), key);
      const std::uint32_t df = e->df;
      order[n_words] = offset;
      n_words += df == 0;
      e->df = df + (e->last_doc < doc);
      e->last_doc = doc;
      const std::uint32_t q = e->query;
      touched[n_touched] = q;
#if defined(__x86_64__)
      // An add to memory whose carry, the word's first occurrence, goes into n_touched: two
      // instructions (from the builtin GCC loads, adds, stores and adds the carry: five).
      asm("addl $1, %1\n\tadcq $0, %0" : "+r"(n_touched), "+m"(doc_tf[q]) : : "cc");
#else
      n_touched += __builtin_add_overflow(doc_tf[q], 1u, &doc_tf[q]);
#endif
    }
    n_words_ = n_words;
    n_touched_ = n_touched;
    doc_length_ += static_cast<std::uint32_t>(n);
    long_pending_.clear();
  }

  // The entry `offset` bytes into a table: the queue and order_ keep byte offsets, which the
  // loops add to the table's address as they are (no scaling by the entry size).
  static Entry* at(Entry* table, std::uint32_t offset) {
    return reinterpret_cast<Entry*>(reinterpret_cast<char*>(table) + offset);
  }
  Entry* at(std::uint32_t offset) { return at(table_.data(), offset); }
  const Entry* at(std::uint32_t offset) const {
    return reinterpret_cast<const Entry*>(reinterpret_cast<const char*>(table_.data()) + offset);
  }
  // Slots: [0, sentinel()) and the sentinel's.
  std::size_t sentinel() const { return mask_ + 1; }
  // Most entries a table of this size may use (see the class comment).
  std::size_t limit() const { return sentinel() / fill_divisor_; }

  // The slot of the key's word, or of the empty entry where it goes, probing from `slot`.
  // Words over 16 bytes come with their bytes, recorded in long_words_ when new: their text
  // stays alive until finish(), so the entry can point to it.
  [[gnu::noinline]] std::uint32_t find(const Key& key, std::size_t slot,
                                       std::string_view long_word) {
    for (;; slot = (slot + 1) & mask_) {
      Entry& e = table_[slot];
      if (e.lo == kSpaces) {
        if (!long_word.empty()) {
          long_words_.push_back(long_word);
          e.long_word = static_cast<std::uint32_t>(long_words_.size());
        }
        return static_cast<std::uint32_t>(slot);
      }
      if (e.lo == key.lo && e.hi == key.hi &&
          (long_word.empty() || long_words_[e.long_word - 1] == long_word)) {
        return static_cast<std::uint32_t>(slot);
      }
    }
  }

  // A table of `size` slots (a power of two) and the sentinel's.
  void resize_table(std::size_t size) {
    // Byte offsets of entries are 32-bit: at most 2^26 slots, limit() of them used.
    if ((size + 1) * sizeof(Entry) > UINT32_MAX) {
      throw Error("a profile with over " +
                  std::to_string((std::size_t{1} << 26) / fill_divisor_ / 1'000'000) +
                  " million distinct words is more than BM25 ranking takes");
    }
    table_.assign(size + 1, Entry{});
    table_[size].lo = kSentinelKey;
    order_.resize(size);
    mask_ = size - 1;
    shift_ = std::countl_zero(mask_);
  }

  // Doubles the table. Words go back in first-occurrence order, so the most frequent ones
  // tend to get their home slots, then the query words not seen yet.
  [[gnu::noinline]] void grow() {
    Table old = std::move(table_);
    unseen_.clear();
    for (std::uint32_t slot : query_slots_) {
      if (old[slot].df == 0) unseen_.push_back(slot);
    }
    resize_table(2 * sentinel());
    for (std::size_t i = 0; i < n_words_; ++i) {
      order_[i] = static_cast<std::uint32_t>(reinsert(*at(old.data(), order_[i])) * sizeof(Entry));
    }
    for (std::uint32_t slot : unseen_) reinsert(old[slot]);
    grow_at_ = limit() - query_slots_.size();
  }

  std::uint32_t reinsert(const Entry& entry) {
    std::size_t slot = key_hash({.lo = entry.lo, .hi = entry.hi}) >> shift_;
    while (table_[slot].lo != kSpaces) slot = (slot + 1) & mask_;
    table_[slot] = entry;
    if (entry.query != 0) query_slots_[entry.query - 1] = static_cast<std::uint32_t>(slot);
    return static_cast<std::uint32_t>(slot);
  }

  const std::size_t fill_divisor_ = l2_cache_bytes() >= (2 << 20) ? 8 : 4;
  using Table = std::vector<Entry, HugePageAllocator<Entry>>;
  Table table_;  // sentinel() slots (a power of two), at most limit() used; then the sentinel
  std::size_t mask_ = 0;
  int shift_ = 64;  // home slot of a key: key_hash >> shift_
  // Entries of the corpus words (byte offsets in the table), [0, n_words_) in first-occurrence
  // order; [n_words_] is scratch, written for every token.
  std::vector<std::uint32_t> order_;
  std::size_t n_words_ = 0;
  std::size_t grow_at_ = 0;  // most words the table may hold (besides the query words)
  std::vector<std::string_view> long_words_;
  std::vector<std::uint32_t> query_slots_;      // by query word: its slot
  std::vector<std::uint32_t> query_tokens_;     // query word of each query token
  std::vector<std::vector<Posting>> postings_;  // by query word
  // By 1 + query word: its count in the current document minus one (kUntouched: none); [0]
  // counts the other words.
  std::vector<std::uint32_t> doc_tf_;
  static constexpr std::uint32_t kUntouched = UINT32_MAX;
  std::vector<std::uint32_t> touched_;  // [0, n_touched_): the 1 + query words counted in it
  std::size_t n_touched_ = 0;
  std::vector<std::uint32_t> doc_lengths_;
  std::uint32_t doc_length_ = 0;  // tokens counted in the current document
  std::uint32_t doc_ = 0;
  const char* text_ = nullptr;  // of the text being counted
  std::vector<char> padded_;    // a copy of a text that ends near a page's end
  // Queue's tokens, and those over 16 bytes among them.
  using PendingQueue = std::array<Pending, kBatch>;
  static_assert(std::has_single_bit(sizeof(PendingQueue)));
  alignas(sizeof(PendingQueue)) PendingQueue pending_;
  std::size_t n_pending_ = 0;  // in pending_, of the current document
  std::vector<std::string_view> long_pending_;
  std::vector<std::uint32_t> unseen_;  // grow()'s scratch
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
  Bm25Corpus& corpus = *corpus_;
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
  // rank_bm25 iterates its dict, so the sum rounds the same way. Both of BM25Okapi's logarithms
  // are of an integer plus 0.5 (exact in a double): ln(k + 0.5) is computed once per k and
  // thread, not twice per df and sample.
  idf_by_df_.resize(n_docs + 1);
  for (std::size_t k = log_half_.size(); k <= n_docs; ++k) {
    log_half_.push_back(std::log(static_cast<double>(k) + 0.5));
  }
  for (std::size_t df = 1; df <= n_docs; ++df) {
    const double f = static_cast<double>(df);
    idf_by_df_[df] = params_.lucene_idf ? std::log(1.0 + (n - f + 0.5) / (f + 0.5))
                                        : log_half_[n_docs - df] - log_half_[df];
  }
  const std::size_t vocabulary = corpus.vocabulary();
  double idf_sum = 0;
  corpus.take_dfs([&](std::uint32_t df) { idf_sum += idf_by_df_[df]; });
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
  // Documents without a word add idf * 0 (+-0.0), which changes no sum: only its postings
  // (none for a word not in the corpus) are scored.
  const std::size_t words = corpus.query_words();
  term_offsets_.resize(words + 1);
  term_offsets_[0] = 0;
  for (std::uint32_t q = 0; q < words; ++q) {
    term_offsets_[q + 1] = term_offsets_[q] + corpus.query_postings(q).size();
  }
  terms_.resize(term_offsets_[words]);
  for (std::uint32_t q = 0; q < words; ++q) {
    std::span<const Bm25Corpus::Posting> postings = corpus.query_postings(q);
    if (postings.empty()) continue;
    double idf = idf_by_df_[corpus.query_df(q)];
    if (!params_.lucene_idf && idf < 0) idf = eps_;
    double* term = terms_.data() + term_offsets_[q];
    for (std::size_t k = 0; k < postings.size(); ++k) {
      const double tf = postings[k].tf;
      term[k] = idf * ((tf * (params_.k1 + 1)) / (tf + denominator_[postings[k].doc]));
    }
  }
  for (std::size_t i = 0; i < corpus.query_size(); ++i) {
    const std::uint32_t q = corpus.query_word(i);
    std::span<const Bm25Corpus::Posting> postings = corpus.query_postings(q);
    const double* term = terms_.data() + term_offsets_[q];
    for (std::size_t k = 0; k < postings.size(); ++k) scores[postings[k].doc] += term[k];
  }
}

}  // namespace lamp
