// The vector math shared by the nn module's own kernels (int8 linear layers, attention,
// activations). They are compiled for AVX2 + FMA + F16C with LAMP_AVX2 and called only when
// has_avx2() (core/cpu.h) says so; the rest of the build keeps the baseline instruction set.
// Wider forms are chosen at run time the same way: has_avx512() for the attention kernel's
// AVX-512 form (compiled in its own file, nn/attention_kernel.h), has_avx512_vnni() for the int8
// kernel's vpdpbusd.
#pragma once

#include "lamp/core/cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define LAMP_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace lamp::nn {
// e^x in each lane for x <= 0 (softmax's shifted scores, activations' e^-|u|), Cephes' expf:
// x = n ln2 + r with |r| <= ln2 / 2, e^r = 1 + r + r^2 P(r), 2^n written into the exponent bits.
// Below -87.3 (2^n would be denormal; masked keys are at -3.4e38) it gives 0.
inline LAMP_AVX2 __m256 exp_nonpositive(__m256 x) {
  const __m256 floor = _mm256_set1_ps(-87.33654f);
  const __m256 underflow = _mm256_cmp_ps(x, floor, _CMP_LT_OQ);
  x = _mm256_max_ps(x, floor);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);  // ln2 in two parts
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  for (float c :
       {1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f})
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i exponent =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(exponent)));
}

inline LAMP_AVX2 float exp_nonpositive(float x) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, exp_nonpositive(_mm256_set1_ps(x)));
  return lanes[0];
}
}  // namespace lamp::nn
#endif
