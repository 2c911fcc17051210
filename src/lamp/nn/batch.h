// Token id lists to the padded [B, L] tensors models take.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <span>
#include <vector>

namespace lamp::nn {

struct PaddedBatch {
  at::Tensor input_ids;       // [B, L] int64, right-padded with pad
  at::Tensor attention_mask;  // [B, L] int64, 1 on tokens, 0 on padding
};

// Indices of `ids` sorted by length (stably; the longest first when `longest_first`), so that
// consecutive rows padded together waste little.
std::vector<std::size_t> order_by_length(std::span<const std::vector<int>> ids, bool longest_first);

// Rows ids[order[0]], ids[order[1]], ... (order.size() rows); L is the longest row (at least 1).
PaddedBatch pad_batch(std::span<const std::vector<int>> ids, std::span<const std::size_t> order,
                      std::int64_t pad);

}  // namespace lamp::nn
