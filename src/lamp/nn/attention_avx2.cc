// The fused attention kernel for AVX2 + FMA (this file is compiled with -mavx2 -mfma).
#if defined(__x86_64__)
#include <immintrin.h>

#include "lamp/nn/attention_kernel_body.h"

namespace lamp::nn::kernel {
namespace {

struct Avx2 {
  using Reg = __m256;
  static constexpr std::int64_t kWidth = 8;
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Reg x) { _mm256_storeu_ps(p, x); }
  static Reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg scale(Reg x, float a) { return _mm256_mul_ps(x, _mm256_set1_ps(a)); }
};

static_assert(2 * Avx2::kWidth == kKeyBlockAvx2);

}  // namespace

void attend_pair_avx2(const AttentionPair& p, std::int64_t queries, std::int64_t keys,
                      std::int64_t head_size, float scale, float* keys_t, float* scores) {
  attend_pair<Avx2>(p, queries, keys, head_size, scale, keys_t, scores);
}

}  // namespace lamp::nn::kernel
#endif
