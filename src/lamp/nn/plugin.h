// The libtorch side of lamp as a plugin. libtorch's static initialisers cost over a second at
// every process start, so the lamp binary does not link it: commands that need a model
// (predict, model, Contriever ranking) load liblamp_nn_plugin.so on first use, through this
// torch-free interface. Everything else (rank, prompt, eval, data) starts in milliseconds.
//
// The plugin is found at $LAMP_NN_PLUGIN when set, else beside the running executable, else in
// ../lib/lamp relative to it (an installed layout). Failing to load it is a lamp::Error naming
// the paths tried and dlerror()'s reason. Exceptions (lamp::Error) cross the boundary as usual.
//
// Thread-safety: nn_plugin() may be called from any thread; the plugin is loaded once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lamp/nn/options.h"
#include "lamp/retrieval/text_embedder.h"
#include "lamp/text/t5_tokenizer.h"
#include "lamp/train/job.h"

namespace lamp::nn {

// Prompts in, generated texts out (nn/seq2seq.h).
class TextGenerator {
 public:
  virtual ~TextGenerator() = default;
  // One output per prompt, in order. `progress(done, total)` is called after each batch.
  virtual std::vector<std::string> generate(
      std::span<const std::string> prompts,
      const std::function<void(std::size_t, std::size_t)>& progress = {}) const = 0;
  virtual const text::T5Tokenizer& tokenizer() const = 0;
};

class NnPlugin {
 public:
  virtual ~NnPlugin() = default;
  // libtorch's intra-op threads (0: all cores) and OpenBLAS's to match (nn/runtime.h).
  virtual void set_threads(int threads) const = 0;
  // `model_dir`: a local folder (resolve hub ids with nn/hub.h first).
  virtual std::unique_ptr<TextEmbedder> load_bert_embedder(
      const std::filesystem::path& model_dir, const EmbedderOptions& options) const = 0;
  virtual std::unique_ptr<TextGenerator> load_seq2seq(const std::filesystem::path& model_dir,
                                                      const Seq2SeqOptions& options) const = 0;
  virtual std::string probe_model(const std::filesystem::path& model_dir,
                                  std::string_view request_json) const = 0;
  virtual void init_model(const std::filesystem::path& config_json, std::uint64_t seed,
                          const std::filesystem::path& out_dir) const = 0;
  // Fine-tuning (train/trainer.h; the train module is part of the plugin).
  virtual train::TrainResult train(const train::TrainJob& job) const = 0;
};

// Loads the plugin on first call.
const NnPlugin& nn_plugin();

}  // namespace lamp::nn

// The plugin's one exported symbol.
extern "C" const lamp::nn::NnPlugin* lamp_nn_plugin();
