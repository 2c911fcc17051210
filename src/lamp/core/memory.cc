#include "lamp/core/memory.h"

#include <sys/mman.h>

#include <new>

namespace lamp {

void* allocate_huge(std::size_t& bytes) {
  bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  if (bytes == 0) bytes = kHugePage;
  void* p = std::aligned_alloc(kHugePage, bytes);
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  ::madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

}  // namespace lamp
