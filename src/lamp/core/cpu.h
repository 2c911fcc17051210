// What the CPU can run. Kernels compiled for wider instruction sets than the build's baseline
// (the nn module's AVX2 and AVX-512 kernels, the JSON splitter's AVX-512BW scan, str.split's
// AVX-512 VBMI2 form) are called only where these say so. Each checks once; all are false off
// x86-64. And how large its L2 cache is, for data structures sized to it.
#pragma once

#include <unistd.h>

namespace lamp {

// The L2 cache's size in bytes, as the C library reports it; 0 where unknown.
inline long l2_cache_bytes() {
#if defined(_SC_LEVEL2_CACHE_SIZE)
  static const long bytes = sysconf(_SC_LEVEL2_CACHE_SIZE);
  return bytes > 0 ? bytes : 0;
#else
  return 0;
#endif
}

#if defined(__x86_64__)
// AVX2 with FMA and F16C (every AVX2 CPU has the other two). The others check it first, so its
// __builtin_cpu_init makes all of them safe to call before constructors have run.
inline bool has_avx2() {
  static const bool avx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2")) &&
                           __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  return avx2;
}

// AVX-512F, with the OS saving its registers, on a CPU with has_avx2().
inline bool has_avx512() {
  static const bool avx512 = has_avx2() && __builtin_cpu_supports("avx512f");
  return avx512;
}

// has_avx512() with AVX-512BW (byte compares into masks) and PCLMULQDQ (every such CPU has it).
inline bool has_avx512bw() {
  static const bool bw =
      has_avx512() && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("pclmul");
  return bw;
}

// has_avx512bw() with AVX-512 VBMI2 (byte compression), BMI2 and POPCNT.
inline bool has_avx512_vbmi2() {
  static const bool vbmi2 = has_avx512bw() && __builtin_cpu_supports("avx512vbmi2") &&
                            __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
  return vbmi2;
}

// AVX-512 VNNI with AVX-512 VL: vpdpbusd on 256-bit registers.
inline bool has_avx512_vnni() {
  static const bool vnni =
      has_avx2() && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl");
  return vnni;
}
#else
inline bool has_avx2() { return false; }
inline bool has_avx512() { return false; }
inline bool has_avx512bw() { return false; }
inline bool has_avx512_vbmi2() { return false; }
inline bool has_avx512_vnni() { return false; }
#endif

}  // namespace lamp
