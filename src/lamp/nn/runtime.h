// Process-wide libtorch settings, behind a torch-free header so command-line code that only
// configures models does not compile libtorch's headers.
#pragma once

namespace lamp::nn {

// Sets libtorch's intra-op threads (0: all cores) and OpenBLAS's: as many with OpenBLAS's
// OpenMP build (it shares libtorch's pool), one with its pthreads build (two pools on the same
// cores make GEMMs 2-4x slower).
void set_threads(int threads);

// Has glibc's malloc keep large freed blocks for reuse instead of unmapping them (mmap and trim
// thresholds 1 GB). Activations are tens of MB (batch 16 x 256 tokens x d_ff floats), above the
// default threshold, so each op's output was a fresh mapping that the kernel faulted in and
// zeroed: a third of the int8 encoder's time at batch 16. Model loaders call it once the weights
// are in memory: set earlier, the heap would interleave weights with freed load-time buffers
// (int8's fp32 originals) and hold on to the holes.
void keep_freed_blocks();

}  // namespace lamp::nn
