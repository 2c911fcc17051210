// Linear layers, y = x W^T + b, in fp32 or int8 (CTranslate2's compute_type=int8, PyTorch's
// quantize_dynamic): an int8 layer keeps W quantized per output row (symmetric, scale = the row's
// largest magnitude / 127) in the quantized engine's packed layout, and quantizes its input per
// tensor at each call (7-bit range, as quantize_dynamic's reduce_range, so AVX2's 16-bit
// intermediate sums cannot saturate). The products run in libtorch's quantized engine: FBGEMM
// where the build has it (PyPI), else oneDNN (Debian). int8 trades exactness for speed: fp32
// results match transformers; int8 ones are close, not equal.
//
// Thread-safety: a Linear may be shared by threads once built.
#pragma once

#include <ATen/ATen.h>
#include <ATen/core/ivalue.h>

namespace lamp::nn {

struct Linear {
  at::Tensor weight;  // [out, in]; undefined once quantized
  at::Tensor bias;    // [out] or undefined
  c10::IValue int8;   // the packed int8 weight (and bias); None in fp32

  bool quantized() const { return !int8.isNone(); }
};

// x: [..., in] -> [..., out]
at::Tensor linear(const at::Tensor& x, const Linear& layer);

// Replaces the fp32 weight by its int8 form (the fp32 tensor is released). Needs fp32 weights;
// lamp::Error when this libtorch has no x86 quantized engine.
void quantize_int8(Linear& layer);

}  // namespace lamp::nn
