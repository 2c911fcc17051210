// str.split()'s AVX-512 VBMI2 form (this file is compiled with -mavx512f -mavx512bw
// -mavx512vbmi2 -mbmi2 -mpopcnt; python_str.h calls it where the CPU has them).
#if defined(__x86_64__)
// GCC 12's AVX-512 intrinsics pass undefined vectors as their masked forms' unused operands,
// which -Wmaybe-uninitialized reports from inside its own headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cassert>

#include "lamp/text/python_str.h"

namespace lamp::text::detail {

std::size_t split_batch_avx512(std::string_view text, SplitCursor& cursor, std::uint32_t* begins,
                               std::uint32_t* ends) {
  assert(text.size() <= UINT32_MAX);
  const char* const p = text.data();
  const std::size_t n = text.size();
  const __m512i byte_index = _mm512_set_epi8(
      63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41,
      40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18,
      17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i blank = _mm512_set1_epi8(' ');
  std::size_t pos = cursor.pos, n_begins = 0, n_ends = 0;
  bool in_token = cursor.in_token;
  if (in_token) begins[n_begins++] = cursor.open_begin;
  // Each block adds at most 33 offsets to either array (the compressed stores write 32 slots),
  // and one on the code point path spans at most 67 bytes: 34 tokens.
  while (pos < n && n_ends < kSplitBatch) {
    const std::size_t left = n - pos;
    // Bytes past the text are not loaded (a masked load does not fault) and count as spaces,
    // which end a token at n exactly as the end of the text does.
    const std::uint64_t in_text = left >= 64 ? ~0ull : _bzhi_u64(~0ull, left);
    const __m512i x = _mm512_maskz_loadu_epi8(in_text, p + pos);
    // Signed x < ' ': the other ASCII whitespace (controls) and bytes >= 0x80.
    const std::uint64_t special = _mm512_mask_cmplt_epi8_mask(in_text, x, blank);
    std::uint64_t space = _mm512_cmpeq_epi8_mask(x, blank);
    if (special != 0) [[unlikely]] {
      if ((_mm512_movepi8_mask(x) & in_text) != 0) {
        // A byte >= 0x80: the code point path up to the block's end (and past it to finish a
        // code point), as in split_each_portable.
        const std::size_t stop = left > 64 ? pos + 64 : n;
        while (pos < stop) {
          const std::size_t start = pos;
          if (next_is_space(text, pos)) {
            if (in_token) ends[n_ends++] = static_cast<std::uint32_t>(start);
            in_token = false;
          } else if (!in_token) {
            in_token = true;
            begins[n_begins++] = static_cast<std::uint32_t>(start);
          }
        }
        continue;
      }
      // \t \n \v \f \r and \x1c-\x1f: x - 9 <= 4 or x - 28 <= 3, unsigned.
      space |=
          _mm512_cmple_epu8_mask(_mm512_sub_epi8(x, _mm512_set1_epi8(9)), _mm512_set1_epi8(4)) |
          _mm512_cmple_epu8_mask(_mm512_sub_epi8(x, _mm512_set1_epi8(28)), _mm512_set1_epi8(3));
    }
    const std::uint64_t word = ~space & in_text;
    const std::uint64_t after_word = (word << 1) | static_cast<std::uint64_t>(in_token);
    const std::uint64_t starts = word & ~after_word, stops = ~word & after_word;
    in_token = (word >> 63) != 0;
    // The offsets of the set bits, packed low, widened to 32 bits and stored whole.
    const __m512i base = _mm512_set1_epi32(static_cast<int>(pos));
    auto store = [&](std::uint64_t bits, std::uint32_t* out) {
      const __m512i packed = _mm512_maskz_compress_epi8(bits, byte_index);
      _mm512_storeu_si512(
          out, _mm512_add_epi32(base, _mm512_cvtepu8_epi32(_mm512_castsi512_si128(packed))));
      _mm512_storeu_si512(
          out + 16,
          _mm512_add_epi32(base, _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(packed, 1))));
    };
    store(starts, begins + n_begins);
    store(stops, ends + n_ends);
    n_begins += static_cast<std::size_t>(_mm_popcnt_u64(starts));
    n_ends += static_cast<std::size_t>(_mm_popcnt_u64(stops));
    pos += 64;
  }
  if (pos >= n) {
    pos = n;
    if (in_token) ends[n_ends++] = static_cast<std::uint32_t>(n);
    in_token = false;
  }
  cursor.pos = pos;
  cursor.in_token = in_token;
  if (in_token) cursor.open_begin = begins[n_ends];
  return n_ends;
}

}  // namespace lamp::text::detail
#endif
