// numpy 1.24's np.argsort(kind="quicksort") for float64, ported so ties come out in exactly the
// order the official rank_profiles.py saw: introsort (median-of-three quicksort, insertion sort
// for partitions of 16 or fewer, heapsort when the recursion depth passes 2*floor(log2 n)).
// NaNs sort last, as in numpy. The algorithm is not stable; that instability is the point.
// Up to 256 values without ties (which any correct sort orders alike) are instead placed by
// counting the values below each: no data-dependent branches, twice as fast on BM25's scores.
#pragma once

#include <cstdint>
#include <span>

namespace lamp {

// Fills `order` (size == values.size()) with the indices that sort `values` ascending.
void numpy_argsort(std::span<const double> values, std::span<std::uint32_t> order);

}  // namespace lamp
