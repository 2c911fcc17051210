// utils/merge_with_rank.py, in linear time and without its silent fallbacks: every profile is put
// in its ranking's order and every sample gets its gold output. The official script drops
// profile items missing from the ranking and reuses the previous sample's output when an id has
// none; here each of those is a lamp::Error naming the sample and the ids.
#pragma once

#include <string_view>
#include <vector>

#include "lamp/data/dataset.h"

namespace lamp {

// Reorders each profile of `questions` by `ranking`, which must list exactly the sample's
// profile ids for every sample (extra samples in the ranking are an error too).
void apply_ranking(Questions& questions, const Ranking& ranking);

// The output of each sample, in sample order. Every sample needs one; outputs for unknown
// samples are an error; for duplicate ids the last one counts.
std::vector<std::string_view> outputs_by_sample(const Questions& questions, const Outputs& outputs);

}  // namespace lamp
