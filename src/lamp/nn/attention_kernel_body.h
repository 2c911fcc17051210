// The body of the fused attention kernel (attention_kernel.h), over a vector type V that names
// the instruction set: V::Reg holds V::kWidth floats, with zero, load, store, broadcast (one
// float to all lanes), fmadd (a * b + c) and scale (x * a float). Included only by the kernel
// files, each compiled for its V's instruction set; everything here has internal linkage.
#pragma once

#include "lamp/nn/attention_kernel.h"

namespace lamp::nn::kernel {
namespace {

inline std::int64_t smaller(std::int64_t a, std::int64_t b) { return a < b ? a : b; }

template <class V>
void attend_pair(const AttentionPair& p, std::int64_t queries, std::int64_t keys,
                 std::int64_t head_size, float scale, float* kt, float* s) {
  using Reg = typename V::Reg;
  constexpr std::int64_t kCols = 2 * V::kWidth;  // keys, or value columns, per block
  constexpr std::int64_t kRows = kQueryRows;
  const std::int64_t padded = (keys + kCols - 1) / kCols * kCols;
  // kt [K][padded]: the keys transposed, zero past `keys`.
  for (std::int64_t d = 0; d < head_size; ++d) {
    for (std::int64_t j = 0; j < keys; ++j) kt[d * padded + j] = p.k[j * p.k_stride + d];
    for (std::int64_t j = keys; j < padded; ++j) kt[d * padded + j] = 0.0f;
  }

  for (std::int64_t i0 = 0; i0 < queries; i0 += kRows) {
    const std::int64_t rows = smaller(kRows, queries - i0);
    const float* q[kRows];  // a short last block repeats its last row
    for (std::int64_t r = 0; r < kRows; ++r) q[r] = p.q + smaller(i0 + r, queries - 1) * p.q_stride;

    // s[r][j] = q_r . k_j: kRows x kCols accumulators, one key row pair per d.
    for (std::int64_t j0 = 0; j0 < padded; j0 += kCols) {
      Reg acc[kRows][2];
      for (auto& a : acc) a[0] = a[1] = V::zero();
      for (std::int64_t d = 0; d < head_size; ++d) {
        const Reg k0 = V::load(kt + d * padded + j0);
        const Reg k1 = V::load(kt + d * padded + j0 + V::kWidth);
        for (std::int64_t r = 0; r < kRows; ++r) {
          const Reg x = V::broadcast(q[r] + d);
          acc[r][0] = V::fmadd(x, k0, acc[r][0]);
          acc[r][1] = V::fmadd(x, k1, acc[r][1]);
        }
      }
      for (std::int64_t r = 0; r < kRows; ++r) {
        V::store(s + r * padded + j0, acc[r][0]);
        V::store(s + r * padded + j0 + V::kWidth, acc[r][1]);
      }
    }

    float inverse[kRows];
    softmax_rows(s, padded, rows, keys, p.bias + i0 * p.bias_stride, p.bias_stride, scale, inverse);

    // out_r = (sum_j e_rj v_j) / sum_j e_rj: kRows x kCols accumulators.
    for (std::int64_t c0 = 0; c0 < head_size; c0 += kCols) {
      Reg acc[kRows][2];
      for (auto& a : acc) a[0] = a[1] = V::zero();
      for (std::int64_t j = 0; j < keys; ++j) {
        const Reg v0 = V::load(p.v + j * p.v_stride + c0);
        const Reg v1 = V::load(p.v + j * p.v_stride + c0 + V::kWidth);
        for (std::int64_t r = 0; r < kRows; ++r) {
          const Reg e = V::broadcast(s + r * padded + j);
          acc[r][0] = V::fmadd(e, v0, acc[r][0]);
          acc[r][1] = V::fmadd(e, v1, acc[r][1]);
        }
      }
      for (std::int64_t r = 0; r < rows; ++r) {
        float* out = p.out + (i0 + r) * p.out_stride + c0;
        V::store(out, V::scale(acc[r][0], inverse[r]));
        V::store(out + V::kWidth, V::scale(acc[r][1], inverse[r]));
      }
    }
  }
}

}  // namespace
}  // namespace lamp::nn::kernel
