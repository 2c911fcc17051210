// The fused attention kernel for AVX-512F (this file is compiled with -mavx512f).
#if defined(__x86_64__)
#include <immintrin.h>

#include "lamp/nn/attention_kernel_body.h"

namespace lamp::nn::kernel {
namespace {

struct Avx512 {
  using Reg = __m512;
  static constexpr std::int64_t kWidth = 16;
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Reg x) { _mm512_storeu_ps(p, x); }
  static Reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg scale(Reg x, float a) { return _mm512_mul_ps(x, _mm512_set1_ps(a)); }
};

static_assert(2 * Avx512::kWidth == kKeyBlockAvx512);

}  // namespace

void attend_pair_avx512(const AttentionPair& p, std::int64_t queries, std::int64_t keys,
                        std::int64_t head_size, float scale, float* keys_t, float* scores) {
  attend_pair<Avx512>(p, queries, keys, head_size, scale, keys_t, scores);
}

}  // namespace lamp::nn::kernel
#endif
