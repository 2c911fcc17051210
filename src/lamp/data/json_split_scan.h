// The splitter's scan (json_split.h), written once over the instructions that classify 64 bytes
// at a time: json_split.cc instantiates it with SSE2 (compiled for the baseline and for AVX2-era
// CPUs), json_split_avx512.cc with AVX-512BW (compiled for it), whose byte comparisons give the
// 64-bit masks directly: a third of the instructions per block. JsonArraySplitter picks the one
// the CPU runs.
//
// A Simd type provides: Block, the 64 bytes; load(p); equal(block, c), the mask of the bytes
// equal to c; brackets(block), of the bytes in "[]{}"; quote_or_backslash(block), whether any
// byte is '"' or '\\'; and prefix_xor(x), bit i the xor of bits 0..i.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace lamp::json_split {

// Where the scan is; JsonArraySplitter keeps it between calls.
struct State {
  std::size_t block = 0;              // offset of the 64-byte block being scanned
  std::uint64_t structural = 0;       // bit i: text[block + i] is structural, not yet seen
  std::uint64_t in_string = 0;        // all ones when the previous block ended inside a string
  std::uint64_t odd_backslashes = 0;  // 1 when it ended with an odd run of backslashes
  std::size_t depth = 0;
  bool scanned = false;  // block has been scanned
};

// Finds the next ',' at depth 1 or the ']' that closes the array, from where `state` is in the
// text (size bytes, 64 readable past them); returns its offset. Throws lamp::Error with a byte
// offset when the array is malformed.
std::size_t next_delimiter_sse2(State& state, const char* text, std::size_t size);
std::size_t next_delimiter_avx512(State& state, const char* text, std::size_t size);

[[noreturn]] void fail(std::size_t offset, const char* message);

// Bits of the characters escaped by a backslash: those right after an odd-length run of
// backslashes. `odd` is 1 when the previous block ended inside an odd run, and is set for the
// next block. Runs are rare (escapes inside strings), so they are walked one by one.
inline std::uint64_t escaped_characters(std::uint64_t backslash, std::uint64_t& odd) {
  std::uint64_t escaped = 0;
  if (odd != 0) {
    // The run continues through the block's leading backslashes.
    const int lead = std::countr_one(backslash);
    if (lead == 64) return 0;  // 64 more: the parity is unchanged
    if (((odd + static_cast<unsigned>(lead)) & 1) != 0) escaped |= std::uint64_t{1} << lead;
    backslash &= ~std::uint64_t{0} << lead;
  }
  odd = 0;
  while (backslash != 0) {
    const int start = std::countr_zero(backslash);
    const int end = start + std::countr_one(backslash >> start);
    if (end == 64) {
      odd = static_cast<unsigned>(end - start) & 1;
      break;
    }
    if (((end - start) & 1) != 0) escaped |= std::uint64_t{1} << end;
    backslash &= ~std::uint64_t{0} << end;
  }
  return escaped;
}

// Sets s.structural to the brackets and commas outside strings in the 64 bytes at s.block,
// first moving s.block past blocks inside a string that hold no quote or backslash.
template <class Simd>
[[gnu::always_inline]] inline void scan_block(State& s, const char* text, std::size_t size) {
  auto load = [&] {
    // The file is read once, front to back, from pages the hardware prefetcher does not cross
    // into: asking for the bytes 16 KB ahead made the split 40 % faster.
    __builtin_prefetch(text + s.block + 16384);
    return Simd::load(text + s.block);
  };
  typename Simd::Block x = load();
  // Most blocks are string text without quotes or backslashes, where nothing counts: skip them
  // with the fewest instructions.
  if (s.in_string != 0 && s.odd_backslashes == 0) {
    while (s.block + 64 <= size && !Simd::quote_or_backslash(x)) {
      s.block += 64;
      x = load();
    }
    if (s.block >= size) {
      s.structural = 0;
      return;
    }
  }
  std::uint64_t valid = ~std::uint64_t{0};
  if (size - s.block < 64) valid >>= 64 - (size - s.block);
  std::uint64_t quote = Simd::equal(x, '"') & valid;
  const std::uint64_t backslash = Simd::equal(x, '\\') & valid;
  if ((backslash | s.odd_backslashes) != 0) {
    quote &= ~escaped_characters(backslash, s.odd_backslashes);
  }
  const std::uint64_t inside = s.in_string ^ Simd::prefix_xor(quote);
  s.in_string = static_cast<std::uint64_t>(static_cast<std::int64_t>(inside) >> 63);
  s.structural = (Simd::brackets(x) | Simd::equal(x, ',')) & valid & ~inside;
}

// The scan's state is kept in locals while it runs: through the reference, every update would
// be stored and reloaded around each block.
template <class Simd>
[[gnu::always_inline]] inline std::size_t next_delimiter(State& state, const char* text,
                                                         std::size_t size) {
  State s = state;
  for (;;) {
    if (!s.scanned) {
      if (s.block >= size) {
        fail(size, s.in_string != 0 ? "not valid JSON (the file ends inside a string)"
                                    : "not valid JSON (the array is not closed)");
      }
      scan_block<Simd>(s, text, size);
      s.scanned = true;
    }
    while (s.structural != 0) {
      const std::size_t at = s.block + static_cast<std::size_t>(std::countr_zero(s.structural));
      s.structural &= s.structural - 1;
      const char c = text[at];
      if (c == ',') {
        if (s.depth != 1) continue;
      } else if (c == '[' || c == '{') {
        ++s.depth;
        continue;
      } else if (--s.depth == 0) {
        if (c != ']') fail(at, "not valid JSON (the array ends with '}')");
      } else {
        continue;
      }
      state = s;
      return at;
    }
    s.block += 64;
    s.scanned = false;
  }
}

}  // namespace lamp::json_split
