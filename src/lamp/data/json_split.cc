#include "lamp/data/json_split.h"

#include <bit>

#include <emmintrin.h>

#include "lamp/core/error.h"

namespace lamp {
namespace json_split {
namespace {

struct Sse2 {
  struct Block {
    __m128i x[4];
  };
  static Block load(const char* p) {
    Block b;
    for (int i = 0; i < 4; ++i) {
      b.x[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    }
    return b;
  }
  // The 64-bit mask of four comparisons' results.
  static std::uint64_t mask(const Block& is) {
    std::uint64_t bits = 0;
    for (int i = 0; i < 4; ++i) {
      bits |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(is.x[i])))
              << (16 * i);
    }
    return bits;
  }
  static std::uint64_t equal(const Block& b, char c) {
    Block is;
    for (int i = 0; i < 4; ++i) is.x[i] = _mm_cmpeq_epi8(b.x[i], _mm_set1_epi8(c));
    return mask(is);
  }
  // '[' | 0x20 == '{' and ']' | 0x20 == '}'; no other byte maps to either.
  static std::uint64_t brackets(const Block& b) {
    Block is;
    for (int i = 0; i < 4; ++i) {
      const __m128i folded = _mm_or_si128(b.x[i], _mm_set1_epi8(0x20));
      is.x[i] = _mm_or_si128(_mm_cmpeq_epi8(folded, _mm_set1_epi8('{')),
                             _mm_cmpeq_epi8(folded, _mm_set1_epi8('}')));
    }
    return mask(is);
  }
  static bool quote_or_backslash(const Block& b) {
    __m128i any = _mm_setzero_si128();
    for (int i = 0; i < 4; ++i) {
      any = _mm_or_si128(any, _mm_or_si128(_mm_cmpeq_epi8(b.x[i], _mm_set1_epi8('"')),
                                           _mm_cmpeq_epi8(b.x[i], _mm_set1_epi8('\\'))));
    }
    return _mm_movemask_epi8(any) != 0;
  }
  static std::uint64_t prefix_xor(std::uint64_t x) {
    for (int shift = 1; shift < 64; shift *= 2) x ^= x << shift;
    return x;
  }
};

}  // namespace

void fail(std::size_t offset, const char* message) {
  throw Error(Location{.byte_offset = offset}, message);
}

// Compiled for the build's baseline and for AVX2-era CPUs (VEX-encoded SSE, tzcnt, blsr).
[[gnu::target_clones("arch=x86-64-v3", "default")]] std::size_t next_delimiter_sse2(
    State& state, const char* text, std::size_t size) {
  return next_delimiter<Sse2>(state, text, size);
}

}  // namespace json_split

JsonArraySplitter::JsonArraySplitter(std::string_view text, bool avx512)
    : text_(text), avx512_(avx512) {
  while (start_ < text_.size() && is_json_space(text_[start_])) ++start_;
  element_ = start_ + 1;
}

bool JsonArraySplitter::next(std::string_view& element) {
  if (ended_) return false;
  if (!is_array()) json_split::fail(start_, "not valid JSON (expected an array)");
  const std::size_t end = avx512_
                              ? json_split::next_delimiter_avx512(scan_, text_.data(), text_.size())
                              : json_split::next_delimiter_sse2(scan_, text_.data(), text_.size());
  const bool closed = scan_.depth == 0;
  std::size_t begin = element_, last = end;
  while (begin < last && is_json_space(text_[begin])) ++begin;
  while (last > begin && is_json_space(text_[last - 1])) --last;
  const bool first = element_ == start_ + 1;
  element_ = end + 1;
  if (closed) {
    ended_ = true;
    for (std::size_t i = end + 1; i < text_.size(); ++i) {
      if (!is_json_space(text_[i])) json_split::fail(i, "not valid JSON (text after the array)");
    }
    if (begin == last) {
      if (first) return false;  // []
      json_split::fail(end, "not valid JSON (a value is missing before ']')");
    }
  } else if (begin == last) {
    json_split::fail(end, "not valid JSON (a value is missing before ',')");
  }
  element = text_.substr(begin, last - begin);
  return true;
}

}  // namespace lamp
