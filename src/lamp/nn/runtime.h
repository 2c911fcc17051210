// Process-wide libtorch settings, behind a torch-free header so command-line code that only
// configures models does not compile libtorch's headers.
#pragma once

namespace lamp::nn {

// Sets libtorch's intra-op threads (0: all cores) and OpenBLAS's: as many with OpenBLAS's
// OpenMP build (it shares libtorch's pool), one with its pthreads build (two pools on the same
// cores make GEMMs 2-4x slower). Also, once per process, has glibc's malloc keep large freed
// blocks for reuse instead of unmapping them (weights.cc says why).
void set_threads(int threads);

}  // namespace lamp::nn
