#include "lamp/nn/config.h"

#include <simdjson.h>

#include "lamp/core/error.h"
#include "lamp/core/json_writer.h"

namespace lamp::nn {
namespace {

// config.json parsed once; typed lookups with defaults and errors naming the key.
class ConfigFile {
 public:
  explicit ConfigFile(const std::filesystem::path& path) : path_(path.string()) {
    simdjson::padded_string text;
    if (simdjson::padded_string::load(path_).get(text) != simdjson::SUCCESS)
      throw Error(Location{.file = path_}, "cannot read the model config");
    text_ = std::move(text);
    if (parser_.parse(text_).get(root_) != simdjson::SUCCESS || !root_.is_object())
      throw Error(Location{.file = path_}, "not a JSON object");
  }

  bool has(const char* key) const {
    simdjson::dom::element e;
    return root_.at_key(key).get(e) == simdjson::SUCCESS && !e.is_null();
  }
  std::int64_t integer(const char* key, std::int64_t fallback) const {
    if (!has(key)) return fallback;
    std::int64_t v;
    if (root_[key].get_int64().get(v) != simdjson::SUCCESS) bad(key, "an integer");
    return v;
  }
  double number(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    double v;
    if (root_[key].get_double().get(v) != simdjson::SUCCESS) bad(key, "a number");
    return v;
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    bool v;
    if (root_[key].get_bool().get(v) != simdjson::SUCCESS) bad(key, "true or false");
    return v;
  }
  std::string string(const char* key, std::string_view fallback) const {
    if (!has(key)) return std::string(fallback);
    std::string_view v;
    if (root_[key].get_string().get(v) != simdjson::SUCCESS) bad(key, "a string");
    return std::string(v);
  }
  [[noreturn]] void bad(const char* key, std::string_view what) const {
    throw error(key, "expected " + std::string(what));
  }
  Error error(const char* key, const std::string& message) const {
    return Error(Location{.file = path_, .field = key}, message);
  }

 private:
  std::string path_;
  simdjson::padded_string text_;
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
};

Activation parse_activation(const ConfigFile& config, const char* key, const std::string& name) {
  if (name == "relu") return Activation::kRelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::kGeluTanh;
  if (name == "gelu") return Activation::kGeluErf;
  throw config.error(key,
                     "unsupported activation \"" + name + "\" (lamp has relu, gelu, gelu_new)");
}

void expect_model_type(const ConfigFile& config, std::string_view want) {
  std::string type = config.string("model_type", "");
  if (type != want)
    throw config.error("model_type",
                       "expected a " + std::string(want) + " model, found \"" + type + "\"");
}

}  // namespace

std::string read_model_type(const std::filesystem::path& config_json) {
  return ConfigFile(config_json).string("model_type", "");
}

T5Config read_t5_config(const std::filesystem::path& config_json) {
  ConfigFile c(config_json);
  expect_model_type(c, "t5");
  T5Config t;
  t.vocab_size = c.integer("vocab_size", t.vocab_size);
  t.d_model = c.integer("d_model", t.d_model);
  t.d_kv = c.integer("d_kv", t.d_kv);
  t.d_ff = c.integer("d_ff", t.d_ff);
  t.num_layers = c.integer("num_layers", t.num_layers);
  t.num_decoder_layers = c.integer("num_decoder_layers", t.num_layers);
  t.num_heads = c.integer("num_heads", t.num_heads);
  t.relative_attention_num_buckets =
      c.integer("relative_attention_num_buckets", t.relative_attention_num_buckets);
  t.relative_attention_max_distance =
      c.integer("relative_attention_max_distance", t.relative_attention_max_distance);
  t.dropout_rate = c.number("dropout_rate", t.dropout_rate);
  t.layer_norm_epsilon = c.number("layer_norm_epsilon", t.layer_norm_epsilon);
  t.tie_word_embeddings = c.boolean("tie_word_embeddings", t.tie_word_embeddings);
  t.decoder_start_token_id = c.integer("decoder_start_token_id", t.decoder_start_token_id);
  t.eos_token_id = c.integer("eos_token_id", t.eos_token_id);
  t.pad_token_id = c.integer("pad_token_id", t.pad_token_id);
  // transformers' T5Config: "gated-gelu" means gated gelu_new; otherwise "[gated-]ACT".
  t.feed_forward_proj = c.string("feed_forward_proj", t.feed_forward_proj);
  std::string act = t.feed_forward_proj;
  t.gated = act.starts_with("gated-");
  if (t.gated) act = act.substr(6);
  if (act.find('-') != std::string::npos)
    throw c.error("feed_forward_proj",
                  "expected \"ACT\" or \"gated-ACT\", found \"" + t.feed_forward_proj + "\"");
  t.activation = t.feed_forward_proj == "gated-gelu"
                     ? Activation::kGeluTanh
                     : parse_activation(c, "feed_forward_proj", act);
  if (t.d_model <= 0 || t.d_kv <= 0 || t.num_heads <= 0 || t.vocab_size <= 0)
    throw c.error("d_model", "model sizes must be positive");
  return t;
}

BertConfig read_bert_config(const std::filesystem::path& config_json) {
  ConfigFile c(config_json);
  expect_model_type(c, "bert");
  BertConfig b;
  b.vocab_size = c.integer("vocab_size", b.vocab_size);
  b.hidden_size = c.integer("hidden_size", b.hidden_size);
  b.num_hidden_layers = c.integer("num_hidden_layers", b.num_hidden_layers);
  b.num_attention_heads = c.integer("num_attention_heads", b.num_attention_heads);
  b.intermediate_size = c.integer("intermediate_size", b.intermediate_size);
  b.max_position_embeddings = c.integer("max_position_embeddings", b.max_position_embeddings);
  b.type_vocab_size = c.integer("type_vocab_size", b.type_vocab_size);
  b.layer_norm_eps = c.number("layer_norm_eps", b.layer_norm_eps);
  b.hidden_dropout_prob = c.number("hidden_dropout_prob", b.hidden_dropout_prob);
  b.attention_probs_dropout_prob =
      c.number("attention_probs_dropout_prob", b.attention_probs_dropout_prob);
  b.activation = parse_activation(c, "hidden_act", c.string("hidden_act", "gelu"));
  b.pad_token_id = c.integer("pad_token_id", b.pad_token_id);
  b.initializer_range = c.number("initializer_range", b.initializer_range);
  std::string positions = c.string("position_embedding_type", "absolute");
  if (positions != "absolute")
    throw c.error("position_embedding_type", "lamp supports absolute positions only");
  if (b.hidden_size % b.num_attention_heads != 0)
    throw c.error("hidden_size", "hidden_size must be a multiple of num_attention_heads");
  return b;
}

std::string t5_config_json(const T5Config& t) {
  JsonWriter w(2);
  w.begin_object();
  w.key("architectures").begin_array().value("T5ForConditionalGeneration").end_array();
  w.key("d_ff").value(t.d_ff);
  w.key("d_kv").value(t.d_kv);
  w.key("d_model").value(t.d_model);
  w.key("decoder_start_token_id").value(t.decoder_start_token_id);
  w.key("dropout_rate").value(t.dropout_rate);
  w.key("eos_token_id").value(t.eos_token_id);
  w.key("feed_forward_proj").value(t.feed_forward_proj);
  w.key("is_encoder_decoder").value(true);
  w.key("layer_norm_epsilon").value(t.layer_norm_epsilon);
  w.key("model_type").value("t5");
  w.key("num_decoder_layers").value(t.num_decoder_layers);
  w.key("num_heads").value(t.num_heads);
  w.key("num_layers").value(t.num_layers);
  w.key("pad_token_id").value(t.pad_token_id);
  w.key("relative_attention_max_distance").value(t.relative_attention_max_distance);
  w.key("relative_attention_num_buckets").value(t.relative_attention_num_buckets);
  w.key("tie_word_embeddings").value(t.tie_word_embeddings);
  w.key("vocab_size").value(t.vocab_size);
  w.end_object();
  return w.str() + "\n";
}

}  // namespace lamp::nn
