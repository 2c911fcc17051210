#include "lamp/cli/run_models.h"

#include <fmt/format.h>

#include <chrono>
#include <system_error>

#include "lamp/cli/compute_type_flag.h"
#include "lamp/core/error.h"
#include "lamp/nn/hub.h"
#include "lamp/nn/plugin.h"
#include "lamp/pipeline/baselines.h"
#include "lamp/pipeline/openai_client.h"

namespace lamp::cli {
namespace {

std::vector<std::string> prompt_strings(std::span<const PredictItem> items) {
  std::vector<std::string> prompts;
  prompts.reserve(items.size());
  for (const PredictItem& item : items) prompts.emplace_back(item.prompt);
  return prompts;
}

class T5Model : public Predictor {
 public:
  T5Model(std::filesystem::path dir, const RunModelFlags& flags)
      : dir_(std::move(dir)), flags_(flags) {}

  std::string identity() const override {
    const nn::GenerationOptions& g = flags_.seq2seq.generation;
    // The batch size only changes float rounding (nn/seq2seq.h), so it is left out.
    return fmt::format(
        "t5|{}|num_beams={}|max_length={}|max_new_tokens={}|length_penalty={}|"
        "max_input_length={}{}",
        model_files_identity(dir_), g.num_beams, g.max_length, g.max_new_tokens, g.length_penalty,
        flags_.seq2seq.max_input_length, nn::compute_type_key(flags_.seq2seq.compute_type, '|'));
  }
  PredictorReads reads() const override { return PredictorReads::kPrompts; }
  std::size_t chunk_size() const override { return 64; }
  std::vector<std::string> predict(const TaskSpec&, std::span<const PredictItem> items,
                                   const PredictProgress& progress) override {
    if (!model_) {
      const nn::NnPlugin& plugin = nn::nn_plugin();
      plugin.set_threads(flags_.threads);
      model_ = plugin.load_seq2seq(dir_, flags_.seq2seq);
    }
    return model_->generate(prompt_strings(items), [&](std::size_t done, std::size_t) {
      if (progress) progress(done);
    });
  }

 private:
  std::filesystem::path dir_;
  const RunModelFlags& flags_;
  std::unique_ptr<nn::TextGenerator> model_;
};

class OpenAiModel : public Predictor {
 public:
  explicit OpenAiModel(OpenAiOptions options) : options_(options), client_(std::move(options)) {}

  std::string identity() const override {
    return fmt::format("openai|{}|{}|temperature={}|max_tokens={}", options_.base_url,
                       options_.model, options_.temperature, options_.max_tokens);
  }
  PredictorReads reads() const override { return PredictorReads::kPrompts; }
  std::size_t chunk_size() const override { return 64; }
  std::vector<std::string> predict(const TaskSpec& task, std::span<const PredictItem> items,
                                   const PredictProgress& progress) override {
    std::vector<std::string> answers =
        client_.complete(prompt_strings(items), [&](std::size_t done, std::size_t) {
          if (progress) progress(done);
        });
    for (std::string& a : answers) a = postprocess_answer(task, a);
    return answers;
  }

 private:
  OpenAiOptions options_;
  OpenAiClient client_;
};

}  // namespace

void add_run_model_flags(CLI::App& cmd, RunModelFlags& flags) {
  cmd.add_option("--model", flags.model,
                 "profile-vote, majority, openai:NAME, or a T5 model folder or hub id");
  nn::GenerationOptions& g = flags.seq2seq.generation;
  cmd.add_option("--num-beams", g.num_beams, "T5: beams (1: greedy)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--max-length", g.max_length, "T5: output length in tokens, start included")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--max-input-length", flags.seq2seq.max_input_length,
                 "Prompt budget in tokens (and T5 input truncation)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--batch-size", flags.seq2seq.batch_size, "T5: prompts per generation batch")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  add_compute_type_option(cmd, "--compute-type", flags.seq2seq.compute_type, "T5");
  cmd.add_option("--base-url", flags.base_url,
                 fmt::format("openai: the API's base URL (default {})", kDefaultOpenAiBaseUrl));
  cmd.add_option("--concurrency", flags.concurrency, "openai: requests in flight")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

std::string model_files_identity(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(dir, ec);
  std::string id = (ec ? dir : canonical).string();
  for (const char* name :
       {"config.json", "generation_config.json", "model.safetensors",
        "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"}) {
    std::filesystem::path file = dir / name;
    if (!std::filesystem::exists(file, ec)) continue;
    auto size = std::filesystem::file_size(file, ec);
    auto time = std::filesystem::last_write_time(file, ec).time_since_epoch();
    id += fmt::format("|{}:{}:{}", name, size,
                      std::chrono::duration_cast<std::chrono::nanoseconds>(time).count());
  }
  return id;
}

RunModel make_run_model(const RunModelFlags& flags) {
  if (flags.model.empty())
    throw Error("choose a model: --model profile-vote|majority|openai:NAME|DIR_OR_HUB_ID");
  if (std::unique_ptr<Predictor> baseline = make_baseline(flags.model, flags.threads))
    return {std::move(baseline), {}};
  constexpr std::string_view kOpenAi = "openai:";
  if (flags.model.starts_with(kOpenAi)) {
    OpenAiOptions options;
    options.model = flags.model.substr(kOpenAi.size());
    if (options.model.empty()) throw Error("--model openai:NAME needs the model's name");
    if (!flags.base_url.empty()) options.base_url = flags.base_url;
    while (options.base_url.ends_with('/')) options.base_url.pop_back();
    options.api_key = openai_api_key();
    options.concurrency = flags.concurrency;
    options.cache_dir = flags.cache_dir;
    options.log = stderr;
    return {std::make_unique<OpenAiModel>(std::move(options)), {}};
  }
  std::filesystem::path dir = nn::resolve_model(flags.model);
  return {std::make_unique<T5Model>(dir, flags), dir};
}

}  // namespace lamp::cli
