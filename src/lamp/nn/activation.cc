#include "lamp/nn/activation.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>

#include "lamp/nn/cpu.h"

namespace lamp::nn {
namespace {

at::Tensor reference(const at::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::kRelu:
      return at::relu(x);
    case Activation::kGeluTanh:
      return at::gelu(x, "tanh");
    case Activation::kGeluErf:
      return at::gelu(x);
  }
  return x;
}

bool fusable(const at::Tensor& x) {
  return has_avx2() && !at::GradMode::is_enabled() && x.scalar_type() == at::kFloat &&
         x.is_contiguous();
}

#if defined(__x86_64__)
template <Activation kActivation>
LAMP_AVX2 __m256 activate8(__m256 x) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  if constexpr (kActivation == Activation::kRelu) {
    return _mm256_max_ps(x, zero);
  } else if constexpr (kActivation == Activation::kGeluErf) {
    // x/2 (1 + erf(z)), z = x/sqrt(2); erf(|z|) = 1 - t P(t) e^-z^2, t = 1 / (1 + p |z|).
    const __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f));
    const __m256 sign = _mm256_and_ps(z, _mm256_set1_ps(-0.0f));
    const __m256 magnitude = _mm256_xor_ps(z, sign);
    const __m256 t =
        _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), magnitude, one));
    __m256 poly = _mm256_set1_ps(1.061405429f);
    for (float c : {-1.453152027f, 1.421413741f, -0.284496736f, 0.254829592f})
      poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(c));
    const __m256 e = exp_nonpositive(_mm256_sub_ps(zero, _mm256_mul_ps(z, z)));
    const __m256 erf_magnitude = _mm256_fnmadd_ps(_mm256_mul_ps(poly, t), e, one);
    const __m256 erf = _mm256_xor_ps(erf_magnitude, sign);
    return _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.5f)), _mm256_add_ps(one, erf));
  } else {
    // x/2 (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3); with e = e^-2|u|,
    // sigmoid(2u) is 1 / (1 + e) for u >= 0 and e / (1 + e) below.
    const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
    const __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f),
                                   _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
    const __m256 negative = _mm256_cmp_ps(u, zero, _CMP_LT_OQ);
    const __m256 minus_2_magnitude =
        _mm256_mul_ps(_mm256_set1_ps(-2.0f), _mm256_andnot_ps(_mm256_set1_ps(-0.0f), u));
    const __m256 e = exp_nonpositive(minus_2_magnitude);
    const __m256 numerator = _mm256_blendv_ps(one, e, negative);
    return _mm256_mul_ps(x, _mm256_div_ps(numerator, _mm256_add_ps(one, e)));
  }
}

// out[i] = activation(in[i]) (* gate_times[i] when given), out may be in.
template <Activation kActivation>
LAMP_AVX2 void activate_range(const float* in, const float* gate_times, float* out,
                              std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 y = activate8<kActivation>(_mm256_loadu_ps(in + i));
    if (gate_times) y = _mm256_mul_ps(y, _mm256_loadu_ps(gate_times + i));
    _mm256_storeu_ps(out + i, y);
  }
  if (i < n) {  // the tail through one padded vector
    alignas(32) float lanes[8] = {};
    std::copy(in + i, in + n, lanes);
    _mm256_store_ps(lanes, activate8<kActivation>(_mm256_load_ps(lanes)));
    for (std::int64_t j = i; j < n; ++j)
      out[j] = lanes[j - i] * (gate_times ? gate_times[j] : 1.0f);
  }
}

// In place: x = activation(x) (* times).
void fused(at::Tensor& x, const float* times, Activation activation) {
  float* data = x.data_ptr<float>();
  at::parallel_for(0, x.numel(), 1 << 14, [&](std::int64_t begin, std::int64_t end) {
    const float* gate_times = times ? times + begin : nullptr;
    switch (activation) {
      case Activation::kRelu:
        return activate_range<Activation::kRelu>(data + begin, gate_times, data + begin,
                                                 end - begin);
      case Activation::kGeluTanh:
        return activate_range<Activation::kGeluTanh>(data + begin, gate_times, data + begin,
                                                     end - begin);
      case Activation::kGeluErf:
        return activate_range<Activation::kGeluErf>(data + begin, gate_times, data + begin,
                                                    end - begin);
    }
  });
}
#else
void fused(at::Tensor&, const float*, Activation) {}
#endif

}  // namespace

at::Tensor activate(at::Tensor x, Activation activation) {
  if (!fusable(x)) return reference(x, activation);
  fused(x, nullptr, activation);
  return x;
}

at::Tensor gated_activate(at::Tensor gate, const at::Tensor& x, Activation activation) {
  if (!fusable(gate) || !fusable(x) || !x.sizes().equals(gate.sizes()))
    return reference(gate, activation) * x;
  fused(gate, x.data_ptr<float>(), activation);
  return gate;
}

}  // namespace lamp::nn
