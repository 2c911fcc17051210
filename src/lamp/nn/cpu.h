// What the CPU can run, for the nn module's own kernels (int8 linear layers, attention). They
// are compiled for AVX2 + FMA + F16C (AVX2 CPUs have the other two) with LAMP_AVX2 and called
// only when has_avx2() says so; the rest of the build keeps the baseline instruction set.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#define LAMP_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace lamp::nn {
inline bool has_avx2() {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                           __builtin_cpu_supports("f16c");
  return avx2;
}
}  // namespace lamp::nn
#else
namespace lamp::nn {
inline bool has_avx2() { return false; }
}  // namespace lamp::nn
#endif
