#include "lamp/core/threads.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace lamp {

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t, int)>& fn) {
  threads = static_cast<int>(std::min<std::size_t>(
      static_cast<std::size_t>(resolve_threads(threads)), std::max<std::size_t>(n, 1)));
  constexpr std::size_t kChunk = 8;
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::size_t failed_item = n;
  std::exception_ptr failure;
  auto work = [&](int worker) {
    for (;;) {
      std::size_t begin = next.fetch_add(kChunk);
      if (begin >= n) return;
      for (std::size_t i = begin; i < std::min(n, begin + kChunk); ++i) {
        try {
          fn(i, worker);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mutex);
          if (i < failed_item) {
            failed_item = i;
            failure = std::current_exception();
          }
          return;
        }
      }
    }
  };
  if (threads <= 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
    for (std::thread& t : pool) t.join();
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace lamp
