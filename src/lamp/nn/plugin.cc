// The plugin's implementation: the nn module's entry points behind NnPlugin.
#include "lamp/nn/plugin.h"

#include "lamp/nn/embedder.h"
#include "lamp/nn/init.h"
#include "lamp/nn/probe.h"
#include "lamp/nn/runtime.h"
#include "lamp/nn/seq2seq.h"
#include "lamp/train/trainer.h"

namespace lamp::nn {
namespace {

class Plugin final : public NnPlugin {
 public:
  void set_threads(int threads) const override { nn::set_threads(threads); }
  std::unique_ptr<TextEmbedder> load_bert_embedder(const std::filesystem::path& model_dir,
                                                   const EmbedderOptions& options) const override {
    return nn::load_bert_embedder(model_dir, options);
  }
  std::unique_ptr<TextGenerator> load_seq2seq(const std::filesystem::path& model_dir,
                                              const Seq2SeqOptions& options) const override {
    return std::make_unique<Seq2Seq>(model_dir, options);
  }
  std::string probe_model(const std::filesystem::path& model_dir,
                          std::string_view request_json) const override {
    return nn::probe_model(model_dir, request_json);
  }
  void init_model(const std::filesystem::path& config_json, std::uint64_t seed,
                  const std::filesystem::path& out_dir) const override {
    nn::init_model(config_json, seed, out_dir);
  }
  train::TrainResult train(const train::TrainJob& job) const override {
    return train::run_training(job);
  }
};

}  // namespace
}  // namespace lamp::nn

extern "C" const lamp::nn::NnPlugin* lamp_nn_plugin() {
  static const lamp::nn::Plugin plugin;
  return &plugin;
}
