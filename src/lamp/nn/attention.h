// Multi-head attention over rows, the one piece that BERT's and T5's layers share:
//   out = softmax(scale * q k^T + bias) v, head by head,
// with q [B, Lq, H*K], k and v [B, Lk, H*K] as linear layers give them (heads side by side) and
// bias an additive float tensor broadcastable to [B, H, Lq, Lk] (masks, T5's position bias).
//
// Inference in float32 on an AVX2 machine takes a fused kernel: one (batch row, head) pair at a
// time, scores, softmax and the value product stay in cache, and no [B, H, Lq, Lk] tensor or
// head transpose is made (at::matmul's per-pair GEMMs, the transposes and the elementwise passes
// were a fifth of an int8 BERT-base batch). Its sums run in another order and its exp is a
// polynomial, so it equals the reference to float rounding (a few units in the 7th digit), not
// bit for bit. Training, autograd, other dtypes and head sizes that are not a multiple of 16
// take the reference: at::matmul, softmax in float32, dropout, at::matmul.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace lamp::nn {

struct AttentionOptions {
  double scale = 1.0;            // of q k^T: BERT's 1/sqrt(K); T5 has none
  bool float32_softmax = false;  // transformers' T5 takes the softmax in float32 whatever the
                                 // input type (float64 included); BERT in the input's type
  double dropout_rate = 0.0;     // on the attention weights, when `train`
  bool train = false;
};

// q [B, Lq, H*K], k and v [B, Lk, H*K], bias broadcastable to [B, H, Lq, Lk] -> [B, Lq, H*K].
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& bias, std::int64_t heads, const AttentionOptions& options);

// An attention mask (1 attend, 0 not) as an additive bias: (1 - mask) * finfo(dtype).min, 0
// where attended and the most negative finite value elsewhere (transformers' form), same shape.
at::Tensor additive_mask(const at::Tensor& mask, at::ScalarType dtype);

// [B, L, H*K] -> [B, H, L, K], a view.
at::Tensor split_heads(const at::Tensor& x, std::int64_t heads);

// The reference path on heads already split: q [B, H, Lq, K], k_t [B, H, K, Lk] (keys
// transposed), v [B, H, Lk, K] -> [B, Lq, H*K]. For callers that hold keys that way (T5's
// decoder cache) and for tests.
at::Tensor attend_heads(const at::Tensor& q, const at::Tensor& k_t, const at::Tensor& v,
                        const at::Tensor& bias, const AttentionOptions& options);

// Decoding's attention, one query per row, no scaling (T5's cached decoder): q [B, H, 1, K]
// float32, k_t [B, H, K, Lk] and v [B, H, Lk, K] in float32 or float16 (an int8 model's
// cross-attention state), each with contiguous rows and its first two dimensions mergeable (the
// decoder cache's buffers and views), bias broadcastable to [B, H, 1, Lk] -> [B, 1, H*K].
// Applies without autograd; sums in another order than attend_heads(), so equal to it to float
// rounding.
bool one_query_attention_applies(const at::Tensor& q, const at::Tensor& k_t, const at::Tensor& v);
at::Tensor attend_one_query(const at::Tensor& q, const at::Tensor& k_t, const at::Tensor& v,
                            const at::Tensor& bias);

}  // namespace lamp::nn
