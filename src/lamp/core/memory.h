// Memory asked to be backed by transparent huge pages (2 MB). Large buffers filled once (a
// dataset's arena) then take 512 times fewer page faults, and tables probed at random (BM25's
// word table) far fewer TLB misses. Where the kernel gives no huge pages this is ordinary memory.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace lamp {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

// At least `bytes` bytes, 2 MB-aligned, rounded up to whole huge pages (the rounded size goes to
// `bytes`); not zeroed. Free with std::free. Throws std::bad_alloc.
void* allocate_huge(std::size_t& bytes);

// For containers that may grow large: std::vector<T, HugePageAllocator<T>>. Allocations of
// kHugePage / 8 bytes and more come from allocate_huge (a huge page costs about as much to
// fault in as 512 small ones, so small buffers made often stay in ordinary memory).
template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(std::size_t n) {
    std::size_t bytes = n * sizeof(T);
    if (bytes >= kHugePage / 8) return static_cast<T*>(allocate_huge(bytes));
    constexpr std::size_t kAlign = alignof(T) > 64 ? alignof(T) : 64;
    void* p = std::aligned_alloc(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) { std::free(p); }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace lamp
