// The feed-forward activations of T5 and BERT (config.h's Activation), and T5 v1.1's gated form.
//
// Float32 inference on an AVX2 machine takes one fused pass that writes into the input's storage
// (the callers hand over a linear layer's fresh output): the GELUs by the same formulas as
// libtorch's vectorized kernels (erf by Abramowitz and Stegun 7.1.26; tanh through e^-2|u|),
// equal to them to float rounding. Anything else (autograd, other dtypes) takes libtorch's ops.
#pragma once

#include <ATen/ATen.h>

#include "lamp/nn/config.h"

namespace lamp::nn {

// activation(x), same shape.
at::Tensor activate(at::Tensor x, Activation activation);

// activation(gate) * x: T5 v1.1's gated feed-forward (wi_0 and wi_1), same shapes.
at::Tensor gated_activate(at::Tensor gate, const at::Tensor& x, Activation activation);

}  // namespace lamp::nn
