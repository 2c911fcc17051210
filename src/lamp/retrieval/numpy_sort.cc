#include "lamp/retrieval/numpy_sort.h"

#include <cassert>
#include <cstddef>
#include <utility>

namespace lamp {
namespace {

using Index = std::uint32_t;

// numpy's DOUBLE_LT: NaN is larger than everything.
bool less(double a, double b) { return a < b || (b != b && a == a); }

constexpr std::ptrdiff_t kSmallQuicksort =
    15;  // numpy: partitions of 16 or fewer are insertion-sorted
constexpr int kStack = 128;

int msb(std::size_t n) {
  int depth = 0;
  while (n >>= 1) ++depth;
  return depth;
}

// Moves `tmp` down from slot i of the 1-based heap a[1..n] to where it belongs.
void sift_down(const double* v, Index* a, Index tmp, std::ptrdiff_t i, std::ptrdiff_t n) {
  for (std::ptrdiff_t j = i << 1; j <= n; j += j) {
    if (j < n && less(v[a[j]], v[a[j + 1]])) ++j;
    if (!less(v[tmp], v[a[j]])) break;
    a[i] = a[j];
    i = j;
  }
  a[i] = tmp;
}

// numpy's aheapsort: build the heap, then pop the maximum to the end, n times.
void heapsort(const double* v, Index* tosort, std::ptrdiff_t n) {
  Index* a = tosort - 1;  // 1-based
  for (std::ptrdiff_t l = n >> 1; l > 0; --l) sift_down(v, a, a[l], l, n);
  while (n > 1) {
    Index tmp = a[n];
    a[n] = a[1];
    --n;
    sift_down(v, a, tmp, 1, n);
  }
}

}  // namespace

void numpy_argsort(std::span<const double> values, std::span<std::uint32_t> order) {
  assert(values.size() == order.size());
  const std::size_t num = values.size();
  for (std::size_t i = 0; i < num; ++i) order[i] = static_cast<Index>(i);
  if (num < 2) return;
  const double* v = values.data();
  Index* pl = order.data();
  Index* pr = pl + num - 1;
  Index* stack[kStack];
  Index** sptr = stack;
  int depth[kStack];
  int* psdepth = depth;
  int cdepth = msb(num) * 2;
  for (;;) {
    if (cdepth < 0) {
      heapsort(v, pl, pr - pl + 1);
    } else {
      while (pr - pl > kSmallQuicksort) {
        Index* pm = pl + ((pr - pl) >> 1);
        if (less(v[*pm], v[*pl])) std::swap(*pm, *pl);
        if (less(v[*pr], v[*pm])) std::swap(*pr, *pm);
        if (less(v[*pm], v[*pl])) std::swap(*pm, *pl);
        const double vp = v[*pm];
        Index* pi = pl;
        Index* pj = pr - 1;
        std::swap(*pm, *pj);
        for (;;) {
          do ++pi;
          while (less(v[*pi], vp));
          do --pj;
          while (less(vp, v[*pj]));
          if (pi >= pj) break;
          std::swap(*pi, *pj);
        }
        Index* pk = pr - 1;
        std::swap(*pi, *pk);
        // Push the larger partition, continue with the smaller one.
        if (pi - pl < pr - pi) {
          *sptr++ = pi + 1;
          *sptr++ = pr;
          pr = pi - 1;
        } else {
          *sptr++ = pl;
          *sptr++ = pi - 1;
          pl = pi + 1;
        }
        *psdepth++ = --cdepth;
      }
      // Insertion sort.
      for (Index* pi = pl + 1; pi <= pr; ++pi) {
        Index vi = *pi;
        const double vp = v[vi];
        Index* pj = pi;
        Index* pk = pi - 1;
        while (pj > pl && less(vp, v[*pk])) *pj-- = *pk--;
        *pj = vi;
      }
    }
    if (sptr == stack) break;
    pr = *(--sptr);
    pl = *(--sptr);
    cdepth = *(--psdepth);
  }
}

}  // namespace lamp
