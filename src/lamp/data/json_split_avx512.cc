// The splitter's scan for AVX-512BW (this file is compiled with -mavx512f -mavx512bw -mpclmul).
#if defined(__x86_64__)
#include <immintrin.h>

#include "lamp/data/json_split_scan.h"

namespace lamp::json_split {
namespace {

struct Avx512 {
  using Block = __m512i;
  static Block load(const char* p) { return _mm512_loadu_si512(p); }
  static std::uint64_t equal(Block x, char c) {
    return _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(c));
  }
  // '[' | 0x20 == '{' and ']' | 0x20 == '}'; no other byte maps to either.
  static std::uint64_t brackets(Block x) {
    const Block folded = _mm512_or_si512(x, _mm512_set1_epi8(0x20));
    return equal(folded, '{') | equal(folded, '}');
  }
  static bool quote_or_backslash(Block x) { return (equal(x, '"') | equal(x, '\\')) != 0; }
  // A carry-less multiply by all ones.
  static std::uint64_t prefix_xor(std::uint64_t x) {
    const __m128i product = _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<long long>(x)),
                                                 _mm_set1_epi8(static_cast<char>(0xFF)), 0);
    return static_cast<std::uint64_t>(_mm_cvtsi128_si64(product));
  }
};

}  // namespace

std::size_t next_delimiter_avx512(State& state, const char* text, std::size_t size) {
  return next_delimiter<Avx512>(state, text, size);
}

}  // namespace lamp::json_split
#endif
