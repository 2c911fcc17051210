#include "lamp/nn/seq2seq.h"

#include <algorithm>

#include "lamp/core/error.h"
#include "lamp/nn/batch.h"

namespace lamp::nn {

// Members initialise in declaration order: the model (and its config's checks) first.
Seq2Seq::Seq2Seq(const std::filesystem::path& model_dir, Seq2SeqOptions options)
    : model_(std::make_shared<const T5Model>(
          T5Model::load(model_dir, at::kFloat, options.compute_type))),
      tokenizer_(std::make_shared<const text::T5Tokenizer>(text::T5Tokenizer::load(model_dir))),
      options_(options) {
  check_options();
}

Seq2Seq::Seq2Seq(std::shared_ptr<const T5Model> model,
                 std::shared_ptr<const text::T5Tokenizer> tokenizer, Seq2SeqOptions options)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), options_(options) {
  check_options();
}

void Seq2Seq::check_options() const {
  if (options_.batch_size < 1) throw Error("--batch-size must be at least 1");
  if (options_.max_input_length < 1) throw Error("--max-input-length must be at least 1");
}

std::vector<std::string> Seq2Seq::generate(
    std::span<const std::string> prompts,
    const std::function<void(std::size_t, std::size_t)>& progress) const {
  const std::size_t n = prompts.size();
  std::vector<std::vector<int>> ids(n);
  for (std::size_t i = 0; i < n; ++i)
    ids[i] = tokenizer_->encode(prompts[i], options_.max_input_length);
  // Longest first: the slowest batches start early and similar lengths share a batch.
  const std::vector<std::size_t> order = order_by_length(ids, /*longest_first=*/true);
  std::vector<std::string> outputs(n);
  const std::size_t batch = static_cast<std::size_t>(options_.batch_size);
  const bool clean_up = tokenizer_->clean_up_by_default();
  for (std::size_t start = 0; start < n; start += batch) {
    const std::size_t rows = std::min(batch, n - start);
    PaddedBatch input =
        pad_batch(ids, std::span(order).subspan(start, rows), model_->config().pad_token_id);
    Generation g =
        nn::generate(*model_, input.input_ids, input.attention_mask, options_.generation);
    for (std::size_t r = 0; r < rows; ++r) {
      std::vector<int> tokens(g.sequences[r].begin(), g.sequences[r].end());
      outputs[order[start + r]] = tokenizer_->decode(tokens, true, clean_up);
    }
    if (progress) progress(start + rows, n);
  }
  return outputs;
}

}  // namespace lamp::nn
