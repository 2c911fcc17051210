// Checkpoint tensors as libtorch tensors, looked up by their Hugging Face names (CTranslate2's
// way: the checkpoint's names are the schema), and the reverse for saving.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lamp/nn/safetensors.h"

namespace lamp::nn {

// A named list of tensors, in checkpoint order: what a model saves and an optimizer updates.
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

class WeightLoader {
 public:
  // Tensors come out as `dtype` (f16/bf16/f32/f64 sources converted), contiguous, CPU, copied
  // out of the mapping so the checkpoint may close.
  WeightLoader(const Checkpoint& checkpoint, at::ScalarType dtype = at::kFloat);

  bool has(std::string_view name) const;
  // lamp::Error naming the tensor when it is missing or its shape is not `shape` (both shapes
  // in the message).
  at::Tensor get(const std::string& name, std::vector<std::int64_t> shape) const;

 private:
  const Checkpoint& checkpoint_;
  at::ScalarType dtype_;
};

// Writes tensors (any floating dtype, saved as stored) to a safetensors file, atomically.
void save_tensors(const std::filesystem::path& path, const NamedTensors& tensors);

// The torch dtype named by --dtype style strings: "float32", "float64", "bfloat16", "float16".
at::ScalarType parse_dtype(std::string_view name);

}  // namespace lamp::nn
