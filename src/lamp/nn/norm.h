// T5's layer norm (T5LayerNorm, an RMS norm): x * rsqrt(mean(x^2) + eps) * weight, the mean of
// squares in float32, the product in the weight's type, as transformers computes it.
//
// Float32 inference on an AVX2 machine takes one fused pass per row (libtorch's ops made five
// passes and as many tensors; at decoding sizes their dispatch was most of the cost); its sum
// of squares runs in another order, so it equals the reference to float rounding.
#pragma once

#include <ATen/ATen.h>

namespace lamp::nn {

// x [..., D], weight [D] -> [..., D]
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace lamp::nn
