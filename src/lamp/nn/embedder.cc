#include "lamp/nn/embedder.h"

#include <algorithm>
#include <cstring>

#include "lamp/core/error.h"
#include "lamp/core/threads.h"
#include "lamp/nn/batch.h"
#include "lamp/nn/bert.h"
#include "lamp/nn/runtime.h"
#include "lamp/text/bert_tokenizer.h"

namespace lamp::nn {
namespace {

// The folder and the size and modification time of its config and weights: a changed file
// changes the key (hub snapshots also carry the commit in their path).
std::string model_key(const std::filesystem::path& dir) {
  std::filesystem::path folder = std::filesystem::canonical(dir);
  std::vector<std::string> parts;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    std::string name = entry.path().filename().string();
    if (name != "config.json" && name != "vocab.txt" && !name.ends_with(".safetensors")) continue;
    auto stamp = std::filesystem::last_write_time(entry.path()).time_since_epoch().count();
    parts.push_back(name + ":" + std::to_string(std::filesystem::file_size(entry.path())) + ":" +
                    std::to_string(stamp));
  }
  std::sort(parts.begin(), parts.end());
  std::string key = "bert;" + folder.string();
  for (const std::string& p : parts) key += ";" + p;
  return key;
}

class BertEmbedder final : public TextEmbedder {
 public:
  BertEmbedder(const std::filesystem::path& dir, const EmbedderOptions& options)
      : options_(options),
        tokenizer_(text::BertTokenizer::load(dir)),
        model_(BertModel::load(dir, at::kFloat, options.compute_type)),
        // Texts are cut to the model's positions too (a small model may have fewer than 512).
        max_length_(static_cast<int>(
            std::min<std::int64_t>(options.max_length, model_.config().max_position_embeddings))),
        key_(model_key(dir) + ";max_length=" + std::to_string(max_length_) +
             compute_type_key(options.compute_type, ';')) {
    if (options.batch_size < 1) throw Error("--batch-size must be at least 1");
    set_threads(options.threads);
  }

  std::string cache_key() const override { return key_; }
  int dim() const override { return static_cast<int>(model_.config().hidden_size); }

  // Texts are encoded in batches of similar length (sorted by token count) to cut padding;
  // padding changes a vector only by float rounding.
  void embed(std::span<const std::string_view> texts, std::span<float> out) override {
    const std::size_t n = texts.size(), d = static_cast<std::size_t>(dim());
    if (out.size() != n * d) throw Error("embed: output size mismatch");
    std::vector<std::vector<int>> ids(n);
    parallel_for(n, options_.threads,
                 [&](std::size_t i, int) { ids[i] = tokenizer_.encode(texts[i], max_length_); });
    const std::vector<std::size_t> order = order_by_length(ids, /*longest_first=*/false);
    c10::InferenceMode guard;
    const std::size_t batch = static_cast<std::size_t>(options_.batch_size);
    for (std::size_t start = 0; start < n; start += batch) {
      const std::size_t rows = std::min(batch, n - start);
      PaddedBatch input =
          pad_batch(ids, std::span(order).subspan(start, rows), tokenizer_.pad_id());
      at::Tensor pooled =
          mean_pooling(model_.encode(input.input_ids, input.attention_mask), input.attention_mask)
              .to(at::kFloat)
              .contiguous();  // [rows, D]
      const float* p = pooled.data_ptr<float>();
      for (std::size_t r = 0; r < rows; ++r)
        std::memcpy(&out[order[start + r] * d], p + r * d, d * sizeof(float));
    }
  }

 private:
  EmbedderOptions options_;
  text::BertTokenizer tokenizer_;
  BertModel model_;
  int max_length_;
  std::string key_;
};

}  // namespace

std::unique_ptr<TextEmbedder> load_bert_embedder(const std::filesystem::path& model_dir,
                                                 const EmbedderOptions& options) {
  return std::make_unique<BertEmbedder>(model_dir, options);
}

}  // namespace lamp::nn
