// Model configurations read from a Hugging Face config.json, with transformers' defaults for
// absent keys. Torch-free. Unknown or unsupported settings (another model_type, an activation
// lamp does not implement) are lamp::Errors naming the file and key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace lamp::nn {

enum class Activation { kRelu, kGeluTanh, kGeluErf };

// T5 v1.0 ("relu", tied embeddings) and v1.1 / Flan-T5 ("gated-gelu", untied).
struct T5Config {
  std::int64_t vocab_size = 32128;
  std::int64_t d_model = 512;
  std::int64_t d_kv = 64;
  std::int64_t d_ff = 2048;
  std::int64_t num_layers = 6;
  std::int64_t num_decoder_layers = 6;  // config default: num_layers
  std::int64_t num_heads = 8;
  std::int64_t relative_attention_num_buckets = 32;
  std::int64_t relative_attention_max_distance = 128;
  double dropout_rate = 0.1;
  double layer_norm_epsilon = 1e-6;
  Activation activation = Activation::kRelu;  // from feed_forward_proj
  bool gated = false;                         // "gated-*": wo(act(wi_0 x) * wi_1 x)
  bool tie_word_embeddings = true;
  std::int64_t decoder_start_token_id = 0;
  std::int64_t eos_token_id = 1;
  std::int64_t pad_token_id = 0;
  std::string feed_forward_proj = "relu";  // as written, for saving
};

struct BertConfig {
  std::int64_t vocab_size = 30522;
  std::int64_t hidden_size = 768;
  std::int64_t num_hidden_layers = 12;
  std::int64_t num_attention_heads = 12;
  std::int64_t intermediate_size = 3072;
  std::int64_t max_position_embeddings = 512;
  std::int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  Activation activation = Activation::kGeluErf;  // hidden_act
  std::int64_t pad_token_id = 0;
  double initializer_range = 0.02;
};

// The "model_type" of a config.json ("t5", "bert", ...).
std::string read_model_type(const std::filesystem::path& config_json);
T5Config read_t5_config(const std::filesystem::path& config_json);
BertConfig read_bert_config(const std::filesystem::path& config_json);

// A config.json that transformers' from_pretrained loads as T5ForConditionalGeneration.
std::string t5_config_json(const T5Config& config);

}  // namespace lamp::nn
