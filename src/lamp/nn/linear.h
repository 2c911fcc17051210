// Linear layers, y = x W^T + b, in fp32 or int8 (CTranslate2's compute_type=int8, PyTorch's
// quantize_dynamic). An int8 layer keeps W quantized per output row (symmetric, scale = the row's
// largest magnitude / 127) and quantizes its input at each call:
//   - up to kFewRows input rows (decoding steps): lamp's own AVX2 kernel, each input row with its
//     own scale in 7 bits (so AVX2's 16-bit pair sums cannot saturate); it reads a quarter of
//     the fp32 bytes. On CPUs with AVX-512 VNNI its dot products take one instruction instead of
//     three (the same integer sums): batch-16 greedy decoding 34 -> 23 ms a step.
//   - more rows (encoders): libtorch's quantized engine (FBGEMM where the build has it, else
//     oneDNN), one input scale per call in 7 bits (quantize_dynamic's reduce_range). Its
//     per-call set-up (about 0.3 ms under oneDNN, whose kernels are generated for each new input
//     scale) is why few rows do not go there.
// int8 trades exactness for speed: fp32 results match transformers; int8 ones are close, not
// equal. Without AVX2 every call takes the engine's path.
//
// fp32 layers run libtorch's GEMM (OpenBLAS on Debian), except for float32 inference with up to
// kFewRowsFloat32 rows on an AVX2 CPU: there the same few-rows kernel reads each weight row
// once, in float32 (a GEMM packs the whole weight matrix first, for one row of input), and
// sums in another order, so its outputs equal the GEMM's to float rounding. Greedy batch-1
// decoding of flan-t5-base: 28 -> 48 tokens/s.
//
// Thread-safety: a Linear may be shared by threads once built.
#pragma once

#include <ATen/ATen.h>

#include <initializer_list>
#include <memory>

#include "lamp/nn/options.h"

namespace lamp::nn {

struct Int8Weight;  // linear.cc

struct Linear {
  at::Tensor weight;                       // [out, in]; undefined once quantized
  at::Tensor bias;                         // [out] or undefined
  std::shared_ptr<const Int8Weight> int8;  // null in fp32

  bool quantized() const { return int8 != nullptr; }
};

// x: [..., in] -> [..., out]
at::Tensor linear(const at::Tensor& x, const Linear& layer);

// Replaces the fp32 weight by its int8 forms (the fp32 tensor is released). Needs fp32 weights;
// lamp::Error when this libtorch has no x86 quantized engine.
void quantize_int8(Linear& layer);

// What model loaders call as they read layers: with kInt8, quantizes each defined layer (so the
// fp32 weights of a model never all exist at once); with kFloat32, nothing.
void quantize_layers(ComputeType compute, std::initializer_list<Linear*> layers);

// Whether lamp's kernel may use AVX-512 VNNI where the CPU has it (default: yes). For tests,
// which compare both forms on one machine.
void allow_int8_vnni(bool allow);

// Input rows up to which the int8 path uses lamp's kernel.
inline constexpr std::int64_t kFewRows = 64;
// Input rows up to which float32 inference (no autograd) uses lamp's kernel instead of libtorch's
// GEMM; more rows go to the GEMM, which is faster from about there on.
inline constexpr std::int64_t kFewRowsFloat32 = 16;

}  // namespace lamp::nn
