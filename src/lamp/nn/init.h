// `lamp model init`: a randomly initialised checkpoint of any supported shape, for benchmarks of
// real model sizes without downloads. Initialisation follows transformers' _init_weights (T5:
// normal with the per-matrix standard deviations of T5PreTrainedModel, layer norms 1; BERT:
// normal(0, initializer_range), biases 0, layer norms 1), drawn from a seeded generator.
#pragma once

#include <cstdint>
#include <filesystem>

namespace lamp::nn {

// Writes OUT/config.json (the given config, as is) and OUT/model.safetensors, atomically each.
void init_model(const std::filesystem::path& config_json, std::uint64_t seed,
                const std::filesystem::path& out_dir);

}  // namespace lamp::nn
