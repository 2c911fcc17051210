#include "lamp/nn/attention.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "lamp/nn/attention_kernel.h"
#include "lamp/nn/cpu.h"

namespace lamp::nn {
namespace {

#if defined(__x86_64__)
using kernel::kMaxKeyBlock;
using kernel::kQueryRows;

// Eight floats from float32 or float16 (through F16C) storage.
template <typename T>
LAMP_AVX2 __m256 load8(const T* p) {
  if constexpr (std::is_same_v<T, float>)
    return _mm256_loadu_ps(p);
  else
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// x [N] times the matrix m [N, C] (rows `row_stride` apart) into o [C]: axpys over m's rows, each
// row read once, in order. Every element of the decoder's cross-attention state is read once per
// step (300 MB at batch 16 x 256 tokens in float32), so this is bound by memory bandwidth.
template <typename T>
LAMP_AVX2 void vector_times_matrix(const float* x, const T* m, std::int64_t rows, std::int64_t cols,
                                   std::int64_t row_stride, float* o) {
  constexpr std::int64_t kWide = 64;  // columns held in eight registers over all rows
  std::int64_t c0 = 0;
  for (; c0 + kWide <= cols; c0 += kWide) {
    __m256 acc[kWide / 8];
    for (__m256& a : acc) a = _mm256_setzero_ps();
    for (std::int64_t r = 0; r < rows; ++r) {
      const __m256 coefficient = _mm256_broadcast_ss(x + r);
      const T* row = m + r * row_stride + c0;
      for (std::int64_t i = 0; i < kWide / 8; ++i)
        acc[i] = _mm256_fmadd_ps(coefficient, load8(row + 8 * i), acc[i]);
    }
    for (std::int64_t i = 0; i < kWide / 8; ++i) _mm256_storeu_ps(o + c0 + 8 * i, acc[i]);
  }
  for (; c0 + 8 <= cols; c0 += 8) {
    __m256 acc = _mm256_setzero_ps();
    for (std::int64_t r = 0; r < rows; ++r)
      acc = _mm256_fmadd_ps(_mm256_broadcast_ss(x + r), load8(m + r * row_stride + c0), acc);
    _mm256_storeu_ps(o + c0, acc);
  }
  for (; c0 < cols; ++c0) {
    float sum = 0;
    for (std::int64_t r = 0; r < rows; ++r)
      sum += x[r] * static_cast<float>(m[r * row_stride + c0]);
    o[c0] = sum;
  }
}

// x [P, N] float32 and m [P, N, C] (float32 or float16, rows contiguous) -> [P, C] float32: row p
// of x times matrix p of m, one (row, head) pair per p.
at::Tensor vector_times_matrices(const at::Tensor& x, const at::Tensor& m) {
  const std::int64_t pairs = m.size(0), rows = m.size(1), cols = m.size(2);
  at::Tensor out = at::empty({pairs, cols}, x.options());
  const at::Tensor xc = x.contiguous();
  const float* xp = xc.data_ptr<float>();
  float* op = out.data_ptr<float>();
  auto run = [&](const auto* mp) {
    at::parallel_for(0, pairs, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t p = begin; p < end; ++p)
        vector_times_matrix(xp + p * rows, mp + p * m.stride(0), rows, cols, m.stride(1),
                            op + p * cols);
    });
  };
  if (m.scalar_type() == at::kFloat)
    run(m.data_ptr<float>());
  else
    run(m.data_ptr<at::Half>());
  return out;
}

bool fusable(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias,
             std::int64_t heads, bool train) {
  if (train || at::GradMode::is_enabled() || !has_avx2()) return false;
  for (const at::Tensor* t : {&q, &k, &v})
    if (t->scalar_type() != at::kFloat || t->dim() != 3 || t->stride(2) != 1) return false;
  return bias.scalar_type() == at::kFloat && q.size(2) % heads == 0 &&
         q.size(2) / heads % kernel::kKeyBlockAvx2 == 0;
}

at::Tensor fused_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const at::Tensor& bias, std::int64_t heads, double scale) {
  const std::int64_t batch = q.size(0), queries = q.size(1), keys = k.size(1);
  const std::int64_t head_size = q.size(2) / heads;
  const kernel::AttendPair attend = has_avx512() && head_size % kernel::kKeyBlockAvx512 == 0
                                        ? kernel::attend_pair_avx512
                                        : kernel::attend_pair_avx2;
  at::Tensor b = bias.expand({batch, heads, queries, keys});
  if (b.stride(3) != 1) b = b.contiguous();
  at::Tensor out = at::empty({batch, queries, heads * head_size}, q.options());
  const float* qp = q.data_ptr<float>();
  const float* kp = k.data_ptr<float>();
  const float* vp = v.data_ptr<float>();
  const float* bp = b.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const std::int64_t padded = (keys + kMaxKeyBlock - 1) / kMaxKeyBlock * kMaxKeyBlock;
  at::parallel_for(0, batch * heads, 1, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> keys_t(static_cast<std::size_t>(head_size * padded));
    std::vector<float> scores(static_cast<std::size_t>(kQueryRows * padded));
    for (std::int64_t pair = begin; pair < end; ++pair) {
      const std::int64_t n = pair / heads, h = pair % heads, column = h * head_size;
      const kernel::AttentionPair p{qp + n * q.stride(0) + column,
                                    kp + n * k.stride(0) + column,
                                    vp + n * v.stride(0) + column,
                                    bp + n * b.stride(0) + h * b.stride(1),
                                    op + n * out.stride(0) + column,
                                    q.stride(1),
                                    k.stride(1),
                                    v.stride(1),
                                    b.stride(2),
                                    out.stride(1)};
      attend(p, queries, keys, head_size, static_cast<float>(scale), keys_t.data(), scores.data());
    }
  });
  return out;
}
#else
bool fusable(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
             std::int64_t, bool) {
  return false;
}
at::Tensor fused_attention(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                           const at::Tensor&, std::int64_t, double) {
  return {};
}
at::Tensor vector_times_matrices(const at::Tensor&, const at::Tensor&) { return {}; }
#endif

// Whether the first two dimensions of t [A, B, N, C] merge into one ([A * B, N, C] is a view)
// and its rows are contiguous: the layout vector_times_matrices reads.
bool rows_contiguous(const at::Tensor& t) {
  return t.stride(3) == 1 && t.stride(0) == t.size(1) * t.stride(1);
}

}  // namespace

at::Tensor additive_mask(const at::Tensor& mask, at::ScalarType dtype) {
  const double lowest = dtype == at::kDouble ? std::numeric_limits<double>::lowest()
                                             : std::numeric_limits<float>::lowest();
  return (1.0 - mask.to(dtype)) * lowest;
}

at::Tensor split_heads(const at::Tensor& x, std::int64_t heads) {
  return x.view({x.size(0), x.size(1), heads, -1}).transpose(1, 2);
}

at::Tensor attend_heads(const at::Tensor& q, const at::Tensor& k_t, const at::Tensor& v,
                        const at::Tensor& bias, const AttentionOptions& options) {
  at::Tensor scores = at::matmul(q, k_t);  // [B, H, Lq, Lk]
  if (options.scale != 1.0) scores = scores * options.scale;
  scores = scores + bias;
  const at::ScalarType type = q.scalar_type();
  at::Tensor weights =
      at::softmax(options.float32_softmax ? scores.to(at::kFloat) : scores, -1).to(type);
  if (options.train && options.dropout_rate > 0)
    weights = at::dropout(weights, options.dropout_rate, true);
  at::Tensor out = at::matmul(weights, v);                         // [B, H, Lq, K]
  return out.transpose(1, 2).reshape({q.size(0), q.size(2), -1});  // [B, Lq, H*K]
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& bias, std::int64_t heads, const AttentionOptions& options) {
  if (fusable(q, k, v, bias, heads, options.train))
    return fused_attention(q, k, v, bias, heads, options.scale);
  return attend_heads(split_heads(q, heads), split_heads(k, heads).transpose(2, 3),
                      split_heads(v, heads), bias, options);
}

bool one_query_attention_applies(const at::Tensor& q, const at::Tensor& k_t, const at::Tensor& v) {
  auto stored = [](const at::Tensor& t) {
    return (t.scalar_type() == at::kFloat || t.scalar_type() == at::kHalf) && rows_contiguous(t);
  };
  return has_avx2() && q.size(2) == 1 && q.scalar_type() == at::kFloat &&
         !at::GradMode::is_enabled() && stored(k_t) && stored(v);
}

at::Tensor attend_one_query(const at::Tensor& q, const at::Tensor& k_t, const at::Tensor& v,
                            const at::Tensor& bias) {
  const std::int64_t batch = q.size(0), heads = q.size(1), keys = k_t.size(3);
  const at::Tensor scores =  // [B, H, 1, Lk]
      vector_times_matrices(q.reshape({batch * heads, -1}), k_t.view({batch * heads, -1, keys}))
          .view({batch, heads, 1, keys});
  const at::Tensor weights = at::softmax(scores + bias, -1);  // [B, H, 1, Lk]
  return vector_times_matrices(weights.view({batch * heads, keys}),
                               v.view({batch * heads, keys, -1}))
      .view({batch, 1, -1});  // [B, 1, H*K]
}

#if defined(__x86_64__)
namespace kernel {

LAMP_AVX2 void softmax_rows(float* scores, std::int64_t stride, std::int64_t rows,
                            std::int64_t keys, const float* bias, std::int64_t bias_stride,
                            float scale, float* inverse) {
  const std::int64_t vector_keys = keys / 8 * 8;
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = scores + r * stride;
    const float* b = bias + r * bias_stride;
    __m256 largest = _mm256_set1_ps(std::numeric_limits<float>::lowest());
    for (std::int64_t j = 0; j < vector_keys; j += 8) {
      const __m256 x =
          _mm256_fmadd_ps(_mm256_loadu_ps(row + j), _mm256_set1_ps(scale), _mm256_loadu_ps(b + j));
      _mm256_storeu_ps(row + j, x);
      largest = _mm256_max_ps(largest, x);
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, largest);
    float top = *std::max_element(lanes, lanes + 8);
    for (std::int64_t j = vector_keys; j < keys; ++j) {
      row[j] = row[j] * scale + b[j];
      top = std::max(top, row[j]);
    }
    __m256 sum = _mm256_setzero_ps();
    for (std::int64_t j = 0; j < vector_keys; j += 8) {
      const __m256 e =
          exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(row + j), _mm256_set1_ps(top)));
      _mm256_storeu_ps(row + j, e);
      sum = _mm256_add_ps(sum, e);
    }
    _mm256_store_ps(lanes, sum);
    float total = 0;
    for (float lane : lanes) total += lane;
    for (std::int64_t j = vector_keys; j < keys; ++j) {
      row[j] = exp_nonpositive(row[j] - top);
      total += row[j];
    }
    inverse[r] = 1.0f / total;
  }
}

}  // namespace kernel
#endif

}  // namespace lamp::nn
