// --compute-type float32|int8 for the commands that run a model (nn/linear.h says what int8
// changes): float32 (default) reproduces transformers; int8 is faster and close.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "lamp/nn/options.h"

namespace lamp::cli {

inline void add_compute_type_option(CLI::App& cmd, const std::string& name, nn::ComputeType& type,
                                    const std::string& model) {
  const std::map<std::string, nn::ComputeType> names{{"float32", nn::ComputeType::kFloat32},
                                                     {"int8", nn::ComputeType::kInt8}};
  cmd.add_option(name, type,
                 model +
                     ": float32 (exact to transformers) or int8 (int8 weights, faster, "
                     "close but not equal)")
      ->transform(CLI::CheckedTransformer(names))
      ->default_str("float32");
}

}  // namespace lamp::cli
