#include "lamp/nn/blas_env.h"

#include <cstdlib>

namespace lamp::nn {

CpuFeatures cpu_features() {
#if defined(__x86_64__)
  // GCC's checks include the OS's support (XGETBV) for the wider registers.
  return {.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"),
          .avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512vl")};
#else
  return {};
#endif
}

const char* openblas_core_type(CpuFeatures features) {
  if (features.avx512 && features.avx2_fma) return "SkylakeX";
  if (features.avx2_fma) return "Haswell";
  return nullptr;
}

bool set_openblas_core_type() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return false;
  const char* core = openblas_core_type(cpu_features());
  return core != nullptr && setenv("OPENBLAS_CORETYPE", core, /*overwrite=*/0) == 0;
}

}  // namespace lamp::nn
