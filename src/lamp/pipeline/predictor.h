// What lamp run asks of a model: one prediction per sample of a grid cell. A Predictor says what
// it reads (the prompts, the ranked profile, or only the profile), which decides what its cached
// outputs are keyed by (pipeline/run.h), and gives an identity string (name, weights, generation
// settings) that is part of every key, so a changed model or setting never reuses outputs.
// Implementations: the baselines (pipeline/baselines.h), T5 checkpoints through the nn plugin and
// OpenAI-compatible servers (cli/run_models.h).
//
// Thread-safety: a Predictor is used from one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lamp/data/dataset.h"
#include "lamp/data/task.h"

namespace lamp {

enum class PredictorReads {
  kPrompts,  // only the prompt strings
  kRanking,  // the sample, its profile and which items were retrieved (baselines)
  kProfile,  // the sample and its whole profile, whatever the retriever and k
};

struct PredictItem {
  const Sample* sample = nullptr;
  std::span<const ProfileItem> profile;      // in file order
  std::span<const std::uint32_t> retrieved;  // indices into profile, best first; empty: none
  std::string_view prompt;
};

using PredictProgress = std::function<void(std::size_t done)>;

class Predictor {
 public:
  virtual ~Predictor() = default;
  // Everything the outputs depend on besides the inputs (model files, settings).
  virtual std::string identity() const = 0;
  virtual PredictorReads reads() const = 0;
  // Samples per cached chunk of outputs (kPrompts only): an interrupted cell resumes from the
  // last whole chunk.
  virtual std::size_t chunk_size() const { return std::numeric_limits<std::size_t>::max(); }
  // One output per item, in order; `progress` (may be empty) after each one or batch.
  virtual std::vector<std::string> predict(const TaskSpec& task, std::span<const PredictItem> items,
                                           const PredictProgress& progress) = 0;
};

}  // namespace lamp
