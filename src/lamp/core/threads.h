// Running independent work items on several threads. Results must not depend on the thread
// count: each item writes only its own output slot. When items throw, the exception of the
// lowest-numbered failing item is rethrown after all threads stop, so errors are deterministic.
#pragma once

#include <cstddef>
#include <functional>

namespace lamp {

// Threads to use for `requested` (0: all cores, as std::thread::hardware_concurrency()).
int resolve_threads(int requested);

// Calls fn(item, worker) for every item in [0, n), worker in [0, threads), items handed out in
// small chunks from a shared counter.
void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t, int)>& fn);

}  // namespace lamp
