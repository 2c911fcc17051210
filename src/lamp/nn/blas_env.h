// Which OpenBLAS kernels libtorch's fp32 products run on. Debian 12's OpenBLAS (0.3.21, the BLAS
// of Debian's libtorch) picks them from the CPU's family and model numbers, and a CPU newer than
// its list gets the generic "Prescott" (SSE3) kernels: on an Emerald Rapids VM (2026-12-07) a
// 2048x768x3072 product ran at 68-85 GFLOP/s on two cores, against 370 with the AVX-512
// ("SkylakeX") kernels, and BERT-base in fp32 was four times slower than Hugging Face's.
// OpenBLAS reads OPENBLAS_CORETYPE once, as it is loaded, so lamp names the kernel family the
// CPU's features allow before it loads libtorch (nn/plugin.h), unless the user has set it: the
// lamp binary's main does it first thing, while the process has one thread (setenv is not
// thread-safe).
// Where OpenBLAS knows the CPU, the family named runs the single-precision kernels it would
// choose itself (its Zen and Cooper Lake targets use Haswell's and SkylakeX's), except on an
// AVX-512 CPU it runs on AVX2 kernels (AMD Zen 4), which gets the AVX-512 ones. A libtorch on
// another BLAS (MKL, as PyPI's) ignores the variable.
//
// Torch-free: it must run before libtorch is loaded.
#pragma once

namespace lamp::nn {

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 and FMA, with the OS saving their registers
  bool avx512 = false;    // AVX-512 F, CD, BW, DQ and VL, likewise
};
CpuFeatures cpu_features();

// The OpenBLAS core type for these features: "SkylakeX" with AVX-512, "Haswell" with AVX2 + FMA,
// else nullptr (OpenBLAS's own choice).
const char* openblas_core_type(CpuFeatures features);

// Sets OPENBLAS_CORETYPE to openblas_core_type(cpu_features()) unless it is set (to anything)
// or there is nothing to name. Returns whether it set it. Only a call before OpenBLAS is loaded
// has an effect; a program linked with libtorch can re-execute itself when this returns true.
bool set_openblas_core_type();

}  // namespace lamp::nn
