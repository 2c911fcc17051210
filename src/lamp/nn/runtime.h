// Process-wide libtorch settings, behind a torch-free header so command-line code that only
// configures models does not compile libtorch's headers.
#pragma once

namespace lamp::nn {

// Sets libtorch's intra-op threads (0: all cores) and, when more than one, keeps OpenBLAS to
// one thread of its own: both pools on two cores make GEMMs 2-4x slower.
void set_threads(int threads);

}  // namespace lamp::nn
