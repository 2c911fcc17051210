// Python 3 string semantics that the official LaMP code depends on, reproduced exactly:
// str.isspace() / str.strip() / str.split() and float(str).
//
// py_split_each is the form of str.split() for hot loops (BM25 splits every profile item): it
// hands each token's byte range to a callback and never allocates. Pure-ASCII text is classified
// 64 bytes at a time; any 64-byte block with a byte >= 0x80 goes through the exact code point
// path, so the result is always that of str.split(). On CPUs with AVX-512 VBMI2 the token
// offsets of each block are compressed out of its masks into arrays, a few hundred tokens at a
// time, and the callback runs over those: no loop per block whose exit depends on the text (a
// branch mispredicted about once per block), half the time of the portable form, which takes the
// tokens from the masks one by one (SSE2 where the compiler targets it, a table otherwise).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "lamp/core/cpu.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace lamp::text {

// Python's str.isspace() for one character: bidirectional class WS, B or S, or category Zs.
// Includes \x1c-\x1f, U+0085, NBSP, U+2000-U+200A, U+3000; not U+200B (zero width space).
bool py_isspace(char32_t cp);

// str.strip() with no argument.
std::string_view py_strip(std::string_view text);

// str.split() with no argument: runs of py_isspace characters separate tokens; no empty tokens.
std::vector<std::string_view> py_split(std::string_view text);
// The same, appending the tokens to `tokens` (no allocation when it has capacity).
void py_split_into(std::string_view text, std::vector<std::string_view>& tokens);
// The same, calling on_token(begin, end) with the byte offsets of each token in order.
template <class OnToken>
void py_split_each(std::string_view text, OnToken&& on_token);

// float(text) for a str: surrounding whitespace ignored; sign; digits with single underscores
// between digits; fraction; exponent; "inf", "infinity", "nan" in any case; any Unicode decimal
// digit (category Nd, e.g. fullwidth or Arabic-Indic) read as its ASCII value. nullopt where
// Python raises ValueError. The value is correctly rounded, as CPython's is.
std::optional<double> py_float(std::string_view text);

namespace detail {

// Bit i set when p[i] (of 64 readable bytes) is ASCII whitespace for str.split(): \t \n \v \f \r,
// \x1c-\x1f and space. `high` gets bit i set when p[i] >= 0x80.
inline std::uint64_t ascii_space_bits(const char* p, std::uint64_t& high) {
  std::uint64_t space = 0;
  high = 0;
#if defined(__SSE2__)
  // Most blocks hold only spaces and printable ASCII: then comparing with ' ' suffices. A signed
  // x < ' ' catches both the other whitespace (controls) and bytes >= 0x80, which take the full
  // test below.
  const __m128i blank = _mm_set1_epi8(' ');
  __m128i x[4], special = _mm_setzero_si128();
  for (int i = 0; i < 4; ++i) {
    x[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    special = _mm_or_si128(special, _mm_cmplt_epi8(x[i], blank));
    space |= static_cast<std::uint64_t>(
                 static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x[i], blank))))
             << (16 * i);
  }
  if (_mm_movemask_epi8(special) == 0) [[likely]]
    return space;
  // Two unsigned range tests, x - lo <= hi - lo: [9, 13] and [28, 32].
  space = 0;
  const __m128i zero = _mm_setzero_si128();
  for (int i = 0; i < 4; ++i) {
    __m128i controls = _mm_subs_epu8(_mm_sub_epi8(x[i], _mm_set1_epi8(9)), _mm_set1_epi8(4));
    __m128i separators = _mm_subs_epu8(_mm_sub_epi8(x[i], _mm_set1_epi8(28)), _mm_set1_epi8(4));
    __m128i is_space =
        _mm_or_si128(_mm_cmpeq_epi8(controls, zero), _mm_cmpeq_epi8(separators, zero));
    space |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(is_space)))
             << (16 * i);
    high |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(x[i])))
            << (16 * i);
  }
#else
  for (int i = 0; i < 64; ++i) {
    auto b = static_cast<unsigned char>(p[i]);
    space |= static_cast<std::uint64_t>((b >= 9 && b <= 13) || (b >= 28 && b <= 32)) << i;
    high |= static_cast<std::uint64_t>(b >= 0x80) << i;
  }
#endif
  return space;
}

// Whether the code point at text[pos] is whitespace; advances pos past it.
bool next_is_space(std::string_view text, std::size_t& pos);

// Whether `bytes` bytes from p lie on one page, so that reading them is safe when p itself is
// readable although the text ends before p + bytes: memory is mapped in whole pages. The bytes
// past the text are then ignored. Address and thread sanitizer builds (which would flag such
// reads) say no, and their callers copy instead.
inline bool on_one_page(const char* p, std::size_t bytes) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return false;
#else
  constexpr std::uintptr_t kPage = 4096;
  return (reinterpret_cast<std::uintptr_t>(p) & (kPage - 1)) <= kPage - bytes;
#endif
}

// Where a batched split stands in its text: the next byte to classify, and the start of a token
// still open there.
struct SplitCursor {
  std::size_t pos = 0;
  std::uint32_t open_begin = 0;
  bool in_token = false;
};
// split_batch_avx512 stops once it has this many tokens; its arrays need kSplitBatchSlack more
// slots, as it stores whole vectors.
constexpr std::size_t kSplitBatch = 256;
constexpr std::size_t kSplitBatchSlack = 48;

// The next tokens of str.split(text) from the cursor on, as byte offsets [begins[i], ends[i])
// for i below the count returned (at least kSplitBatch unless the text ends); the cursor then
// stands where they stop, at text.size() once the text is done. Texts under 4 GiB, on CPUs with
// has_avx512_vbmi2() (text/py_split_avx512.cc is compiled for it); x86-64 only.
std::size_t split_batch_avx512(std::string_view text, SplitCursor& cursor, std::uint32_t* begins,
                               std::uint32_t* ends);

// py_split_each without the AVX-512 form (tests compare the two).
template <class OnToken>
[[gnu::always_inline]] inline void split_each_portable(std::string_view text, OnToken&& on_token) {
  const std::size_t n = text.size();
  std::size_t pos = 0, token_start = 0;
  bool in_token = false;
  char padded[64];
  while (pos < n) {
    // In the last partial block, the bytes past the text count as spaces, which end a token at
    // n exactly as the end of the text does. They are read in place when on the same page (no
    // call to copy them for every short text), else from a copy.
    const char* block = text.data() + pos;
    std::uint64_t past_end = 0;
    if (n - pos < 64) {
      past_end = ~0ull << (n - pos);
      if (!detail::on_one_page(block, 64)) {
        std::memcpy(padded, block, n - pos);
        std::memset(padded + (n - pos), ' ', 64 - (n - pos));
        block = padded;
      }
    }
    std::uint64_t high;
    std::uint64_t space = detail::ascii_space_bits(block, high) | past_end;
    high &= ~past_end;
    if (high != 0) {
      // The code point path up to the block's end (and past it to finish a code point): ASCII
      // bytes never belong to a multi-byte sequence, so both paths agree on every boundary.
      const std::size_t stop = pos + 64 < n ? pos + 64 : n;
      while (pos < stop) {
        std::size_t start = pos;
        if (detail::next_is_space(text, pos)) {
          if (in_token) on_token(token_start, start);
          in_token = false;
        } else if (!in_token) {
          in_token = true;
          token_start = start;
        }
      }
      continue;
    }
    // A token starts at each word byte after a space and ends at each space after a word byte.
    // Past a token still open from the previous block, starts and ends pair up in order, so
    // the loop takes one of each per token with no branch on which comes next.
    const std::uint64_t word = ~space;
    const std::uint64_t after_word = (word << 1) | static_cast<std::uint64_t>(in_token);
    std::uint64_t starts = word & ~after_word, ends = ~word & after_word;
    if (in_token) {
      if (ends == 0) {
        pos += 64;
        continue;
      }
      on_token(token_start, pos + static_cast<std::size_t>(std::countr_zero(ends)));
      ends &= ends - 1;
    }
    while (ends != 0) {
      on_token(pos + static_cast<std::size_t>(std::countr_zero(starts)),
               pos + static_cast<std::size_t>(std::countr_zero(ends)));
      starts &= starts - 1;
      ends &= ends - 1;
    }
    in_token = starts != 0;
    if (in_token) token_start = pos + static_cast<std::size_t>(std::countr_zero(starts));
    pos += 64;
  }
  if (in_token) on_token(token_start, n);
}

}  // namespace detail

// Always inlined: the caller's state (a token count, say) then stays in registers instead of
// being reloaded through the callback's references after every store the callback makes.
template <class OnToken>
[[gnu::always_inline]] inline void py_split_each(std::string_view text, OnToken&& on_token) {
#if defined(__x86_64__)
  if (text.size() <= UINT32_MAX && has_avx512_vbmi2()) {
    // Begins, then ends, in one array walked by one pointer: fewer registers for the callback.
    constexpr std::size_t kSlots = detail::kSplitBatch + detail::kSplitBatchSlack;
    std::uint32_t offsets[2 * kSlots];
    detail::SplitCursor cursor;
    do {
      const std::size_t count = detail::split_batch_avx512(text, cursor, offsets, offsets + kSlots);
      for (const std::uint32_t* b = offsets; b != offsets + count; ++b) on_token(b[0], b[kSlots]);
    } while (cursor.pos < text.size());
    return;
  }
#endif
  detail::split_each_portable(text, on_token);
}

}  // namespace lamp::text
