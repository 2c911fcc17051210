// Deterministic randomness that gives the same numbers on every platform and standard library
// (std::uniform_int_distribution does not): splitmix64 and a multiply-shift map onto [0, n).
#pragma once

#include <cstdint>

namespace lamp {

// splitmix64 (Steele, Lea, Flood): advances `state` and returns 64 well-mixed bits.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A number in [0, n) for n < 2^32, from the top 32 random bits, without a division.
inline std::uint32_t random_below(std::uint64_t& state, std::uint64_t n) {
  return static_cast<std::uint32_t>(((splitmix64(state) >> 32) * n) >> 32);
}

}  // namespace lamp
