// Text in, text out with a T5 checkpoint: what evaluate_llm.py does with a Seq2SeqTrainer's
// predict_with_generate. Each prompt is tokenized with lamp's T5 tokenizer and truncated to
// max_input_length tokens, generated from (nn/generate.h) and decoded with special tokens skipped
// and the model's default clean-up. Prompts are grouped into batches of similar length to cut
// padding; a prompt's output does not depend on its batch beyond float rounding.
//
// Thread-safety: one Seq2Seq per thread (libtorch parallelises inside a batch).
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lamp/nn/generate.h"
#include "lamp/nn/options.h"
#include "lamp/nn/plugin.h"
#include "lamp/text/t5_tokenizer.h"

namespace lamp::nn {

class Seq2Seq final : public TextGenerator {
 public:
  // `model_dir` holds config.json, the weights and tokenizer.json; the model is loaded in
  // options.compute_type.
  Seq2Seq(const std::filesystem::path& model_dir, Seq2SeqOptions options);
  // A model already loaded (options.compute_type is not applied).
  Seq2Seq(std::shared_ptr<const T5Model> model, std::shared_ptr<const text::T5Tokenizer> tokenizer,
          Seq2SeqOptions options);

  // One output per prompt, in order. `progress(done, total)` is called after each batch.
  std::vector<std::string> generate(
      std::span<const std::string> prompts,
      const std::function<void(std::size_t, std::size_t)>& progress = {}) const override;

  const text::T5Tokenizer& tokenizer() const override { return *tokenizer_; }
  const T5Model& model() const { return *model_; }

 private:
  void check_options() const;

  std::shared_ptr<const T5Model> model_;
  std::shared_ptr<const text::T5Tokenizer> tokenizer_;
  Seq2SeqOptions options_;
};

}  // namespace lamp::nn
