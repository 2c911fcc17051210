#include "lamp/nn/norm.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

#include "lamp/nn/cpu.h"

namespace lamp::nn {
namespace {

#if defined(__x86_64__)
// One row of `size` floats: out = x * (1 / sqrt(mean(x^2) + eps)) * w.
LAMP_AVX2 void rms_norm_row(const float* x, const float* w, std::int64_t size, float eps,
                            float* out) {
  __m256 sums = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i + 8 <= size; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    sums = _mm256_fmadd_ps(v, v, sums);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sums);
  float sum = 0;
  for (float lane : lanes) sum += lane;
  for (std::int64_t j = i; j < size; ++j) sum += x[j] * x[j];
  const float inverse = 1.0f / std::sqrt(sum / static_cast<float>(size) + eps);
  const __m256 scale = _mm256_set1_ps(inverse);
  for (i = 0; i + 8 <= size; i += 8)
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(w + i),
                                            _mm256_mul_ps(_mm256_loadu_ps(x + i), scale)));
  for (std::int64_t j = i; j < size; ++j) out[j] = w[j] * (x[j] * inverse);
}

at::Tensor fused_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor input = x.contiguous();
  at::Tensor out = at::empty_like(input);
  const std::int64_t size = input.size(-1), rows = input.numel() / size;
  const float* xp = input.data_ptr<float>();
  const float* wp = weight.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, rows, 16, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r)
      rms_norm_row(xp + r * size, wp, size, static_cast<float>(eps), op + r * size);
  });
  return out;
}
#else
at::Tensor fused_rms_norm(const at::Tensor&, const at::Tensor&, double) { return {}; }
#endif

}  // namespace

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  if (has_avx2() && !at::GradMode::is_enabled() && x.scalar_type() == at::kFloat &&
      weight.scalar_type() == at::kFloat && weight.is_contiguous())
    return fused_rms_norm(x, weight, eps);
  at::Tensor variance = x.to(at::kFloat).pow(2).mean(-1, /*keepdim=*/true);  // [..., 1]
  return weight * (x * at::rsqrt(variance + eps)).to(weight.scalar_type());
}

}  // namespace lamp::nn
