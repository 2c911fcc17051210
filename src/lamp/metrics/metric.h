// What every metric scores: one prediction beside its gold, matched by id.
#pragma once

#include <string_view>

namespace lamp {

struct ScoredPair {
  std::string_view id;
  std::string_view prediction;
  std::string_view gold;
};

// A bootstrap percentile interval of a mean: low 2.5 %, mid 50 %, high 97.5 %.
struct Interval {
  double low = 0, mid = 0, high = 0;
};

}  // namespace lamp
