#include "lamp/retrieval/numpy_sort.h"

#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace lamp {
namespace {

// The sort moves each value with its index: comparisons then read the values beside the
// indices instead of through them (the same comparisons and moves as numpy's, so the same order).
struct Item {
  double value;
  std::uint32_t index;
};

// numpy's DOUBLE_LT: NaN is larger than everything.
bool less(double a, double b) { return a < b || (b != b && a == a); }
bool less(const Item& a, const Item& b) { return less(a.value, b.value); }

constexpr std::ptrdiff_t kSmallQuicksort =
    15;  // numpy: partitions of 16 or fewer are insertion-sorted
constexpr int kStack = 128;

int msb(std::size_t n) {
  int depth = 0;
  while (n >>= 1) ++depth;
  return depth;
}

// Moves `tmp` down from slot i of the 1-based heap a[1..n] to where it belongs.
void sift_down(Item* a, Item tmp, std::ptrdiff_t i, std::ptrdiff_t n) {
  for (std::ptrdiff_t j = i << 1; j <= n; j += j) {
    if (j < n && less(a[j], a[j + 1])) ++j;
    if (!less(tmp, a[j])) break;
    a[i] = a[j];
    i = j;
  }
  a[i] = tmp;
}

// numpy's aheapsort: build the heap, then pop the maximum to the end, n times.
void heapsort(Item* tosort, std::ptrdiff_t n) {
  Item* a = tosort - 1;  // 1-based
  for (std::ptrdiff_t l = n >> 1; l > 0; --l) sift_down(a, a[l], l, n);
  while (n > 1) {
    Item tmp = a[n];
    a[n] = a[1];
    --n;
    sift_down(a, tmp, 1, n);
  }
}

// numpy's aquicksort on the items.
void introsort(Item* items, std::size_t num) {
  Item* pl = items;
  Item* pr = pl + num - 1;
  Item* stack[kStack];
  Item** sptr = stack;
  int depth[kStack];
  int* psdepth = depth;
  int cdepth = msb(num) * 2;
  for (;;) {
    if (cdepth < 0) {
      heapsort(pl, pr - pl + 1);
    } else {
      while (pr - pl > kSmallQuicksort) {
        Item* pm = pl + ((pr - pl) >> 1);
        if (less(*pm, *pl)) std::swap(*pm, *pl);
        if (less(*pr, *pm)) std::swap(*pr, *pm);
        if (less(*pm, *pl)) std::swap(*pm, *pl);
        const double vp = pm->value;
        Item* pi = pl;
        Item* pj = pr - 1;
        std::swap(*pm, *pj);
        for (;;) {
          do ++pi;
          while (less(pi->value, vp));
          do --pj;
          while (less(vp, pj->value));
          if (pi >= pj) break;
          std::swap(*pi, *pj);
        }
        Item* pk = pr - 1;
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
      for (Item* pi = pl + 1; pi <= pr; ++pi) {
        const Item vi = *pi;
        Item* pj = pi;
        Item* pk = pi - 1;
        while (pj > pl && less(vi, *pk)) *pj-- = *pk--;
        *pj = vi;
      }
    }
    if (sptr == stack) break;
    pr = *(--sptr);
    pl = *(--sptr);
    cdepth = *(--psdepth);
  }
}

}  // namespace

void numpy_argsort(std::span<const double> values, std::span<std::uint32_t> order) {
  assert(values.size() == order.size());
  const std::size_t num = values.size();
  thread_local std::vector<Item> items;  // scratch, reused across calls
  items.resize(num);
  for (std::size_t i = 0; i < num; ++i) items[i] = {values[i], static_cast<std::uint32_t>(i)};
  if (num >= 2) introsort(items.data(), num);
  for (std::size_t i = 0; i < num; ++i) order[i] = items[i].index;
}

}  // namespace lamp
