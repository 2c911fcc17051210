#include "lamp/retrieval/numpy_sort.h"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
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

using Doubles4 = double __attribute__((vector_size(32)));
using Counts4 = long __attribute__((vector_size(32)));  // what comparing Doubles4 gives

// Without ties every correct sort gives numpy's order. Counting the values below each value
// places it with no branch on the data, where quicksort's comparisons mispredict about every
// other time: O(n^2) compares, vectorized, cheaper than the sort up to a few hundred values.
// Returns false, leaving `order` unspecified, where two values tie (or one is NaN: nothing is
// below it, as nothing is below the smallest value, so two land on the same place).
[[gnu::target_clones("arch=x86-64-v3", "default")]] bool argsort_distinct(
    std::span<const double> values, std::span<std::uint32_t> order) {
  const std::size_t n = values.size();
  // 16 values are counted at once, in four vectors, in one pass over all values: padded with
  // NaNs, which nothing is below (their counts are not used).
  thread_local std::vector<double> padded;
  padded.assign(values.begin(), values.end());
  padded.resize((n + 15) / 16 * 16, std::numeric_limits<double>::quiet_NaN());
  std::fill(order.begin(), order.end(), UINT32_MAX);
  for (std::size_t i = 0; i < n; i += 16) {
    Doubles4 x[4];
    std::memcpy(x, padded.data() + i, sizeof(x));
    Counts4 below[4] = {};
    for (std::size_t j = 0; j < n; ++j) {
      const Doubles4 y = {values[j], values[j], values[j], values[j]};
      for (int k = 0; k < 4; ++k) below[k] -= y < x[k];  // -1 where below
    }
    for (std::size_t k = 0; k < 16 && i + k < n; ++k) {
      const auto place = static_cast<std::size_t>(below[k / 4][k % 4]);
      if (order[place] != UINT32_MAX) return false;
      order[place] = static_cast<std::uint32_t>(i + k);
    }
  }
  return true;
}

constexpr std::size_t kCountingSortMax = 256;

}  // namespace

void numpy_argsort(std::span<const double> values, std::span<std::uint32_t> order) {
  assert(values.size() == order.size());
  const std::size_t num = values.size();
  if (num <= kCountingSortMax && argsort_distinct(values, order)) return;
  thread_local std::vector<Item> items;  // scratch, reused across calls
  items.resize(num);
  for (std::size_t i = 0; i < num; ++i) items[i] = {values[i], static_cast<std::uint32_t>(i)};
  if (num >= 2) introsort(items.data(), num);
  for (std::size_t i = 0; i < num; ++i) order[i] = items[i].index;
}

}  // namespace lamp
