#include "lamp/nn/batch.h"

#include <algorithm>
#include <numeric>

namespace lamp::nn {

std::vector<std::size_t> order_by_length(std::span<const std::vector<int>> ids,
                                         bool longest_first) {
  std::vector<std::size_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return longest_first ? ids[a].size() > ids[b].size() : ids[a].size() < ids[b].size();
  });
  return order;
}

PaddedBatch pad_batch(std::span<const std::vector<int>> ids, std::span<const std::size_t> order,
                      std::int64_t pad) {
  std::size_t length = 1;
  for (std::size_t i : order) length = std::max(length, ids[i].size());
  const auto rows = static_cast<std::int64_t>(order.size());
  PaddedBatch batch{at::full({rows, static_cast<std::int64_t>(length)}, pad, at::kLong),
                    at::zeros({rows, static_cast<std::int64_t>(length)}, at::kLong)};
  auto input = batch.input_ids.accessor<std::int64_t, 2>();
  auto mask = batch.attention_mask.accessor<std::int64_t, 2>();
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::vector<int>& row = ids[order[r]];
    for (std::size_t j = 0; j < row.size(); ++j) {
      input[r][j] = row[j];
      mask[r][j] = 1;
    }
  }
  return batch;
}

}  // namespace lamp::nn
