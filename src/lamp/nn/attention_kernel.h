// The fused attention kernel of nn/attention.cc: one (batch row, head) pair at a time, scores,
// softmax and the value product in cache. One body (attention_kernel_body.h), compiled twice:
// attention_avx2.cc for AVX2 + FMA, attention_avx512.cc for AVX-512F, which does twice the
// multiply-adds per instruction (the encoders' attention is bound by them). attention.cc picks
// one by the CPU. The kernel files include nothing but this header, the body and intrinsics,
// so no inline function of a library is compiled there for a wider instruction set than the
// rest of the program expects.
#pragma once

#include <cstdint>

namespace lamp::nn::kernel {

// One (batch row, head) pair. Inputs are row-major with the given row strides (the pair's head
// already offset); bias rows have stride `bias_stride` (0 when broadcast over queries).
struct AttentionPair {
  const float* q;
  const float* k;
  const float* v;
  const float* bias;
  float* out;
  std::int64_t q_stride, k_stride, v_stride, bias_stride, out_stride;
};

inline constexpr std::int64_t kQueryRows = 4;  // query rows per block
// Each form's block of keys, and of value columns: two registers of floats. Keys are padded to a
// multiple of it, and head sizes must be one.
inline constexpr std::int64_t kKeyBlockAvx2 = 16;
inline constexpr std::int64_t kKeyBlockAvx512 = 32;
inline constexpr std::int64_t kMaxKeyBlock = kKeyBlockAvx512;

// out = softmax(scale * q k^T + bias) v for one pair. Scratch: keys_t holds head_size x (keys
// rounded up to kMaxKeyBlock) floats, scores kQueryRows times that many. head_size must be a
// multiple of the form's key block.
using AttendPair = void (*)(const AttentionPair& p, std::int64_t queries, std::int64_t keys,
                            std::int64_t head_size, float scale, float* keys_t, float* scores);
void attend_pair_avx2(const AttentionPair& p, std::int64_t queries, std::int64_t keys,
                      std::int64_t head_size, float scale, float* keys_t, float* scores);
void attend_pair_avx512(const AttentionPair& p, std::int64_t queries, std::int64_t keys,
                        std::int64_t head_size, float scale, float* keys_t, float* scores);

// Each of `rows` rows of scores (`stride` apart, `keys` long): x = x * scale + bias row, then
// e^(x - max x) in place; inverse[r] = 1 / the row's sum. In attention.cc (AVX2), called by both
// kernels: it is a small part of the work.
void softmax_rows(float* scores, std::int64_t stride, std::int64_t rows, std::int64_t keys,
                  const float* bias, std::int64_t bias_stride, float scale, float* inverse);

}  // namespace lamp::nn::kernel
