// What the libtorch benchmarks share: a wall clock, the machine's GEMM rate (their baseline,
// measured in the same run) and random token ids.
#pragma once

#include <ATen/ATen.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "lamp/nn/blas_env.h"

namespace lamp::bench {

using Clock = std::chrono::steady_clock;

// A benchmark links libtorch, so OpenBLAS was loaded before main with its own kernel choice:
// when the lamp binary would choose differently (nn/blas_env.h), start again with lamp's choice,
// so that the benchmark measures what lamp runs. Call first in main.
inline void use_lamp_blas_kernels(char** argv) {
  if (lamp::nn::set_openblas_core_type()) execv("/proc/self/exe", argv);
}

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// GFLOP/s of a [M, K] x [K, N] fp32 product through libtorch, best of a few.
inline double gemm_rate(std::int64_t m, std::int64_t k, std::int64_t n) {
  at::Tensor a = at::randn({m, k}), b = at::randn({k, n});
  double best = 1e30;
  for (int i = 0; i < 4; ++i) {
    auto start = Clock::now();
    at::Tensor c = at::matmul(a, b);
    best = std::min(best, seconds_since(start));
  }
  return 2.0 * static_cast<double>(m * k * n) / best / 1e9;
}

// [rows, length] ids in [3, vocab - 100), each row ending with </s> (1).
inline at::Tensor random_ids(std::int64_t rows, std::int64_t length, std::int64_t vocab) {
  at::Tensor ids = at::randint(3, vocab - 100, {rows, length}, at::kLong);
  ids.select(1, length - 1).fill_(1);
  return ids;
}

}  // namespace lamp::bench
