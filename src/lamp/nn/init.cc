#include "lamp/nn/init.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/nn/config.h"
#include "lamp/nn/weights.h"

namespace lamp::nn {
namespace {

class Init {
 public:
  explicit Init(std::uint64_t seed) : generator_(at::detail::createCPUGenerator(seed)) {}

  at::Tensor normal(std::vector<std::int64_t> shape, double std) {
    return at::normal(0.0, std, shape, generator_);
  }
  static at::Tensor ones(std::int64_t n) { return at::ones({n}); }
  static at::Tensor zeros(std::int64_t n) { return at::zeros({n}); }

 private:
  at::Generator generator_;
};

NamedTensors t5_tensors(const T5Config& c, Init& init) {
  const double d = static_cast<double>(c.d_model),
               inner = static_cast<double>(c.num_heads * c.d_kv);
  NamedTensors out;
  out.emplace_back("shared.weight", init.normal({c.vocab_size, c.d_model}, 1.0));
  auto stack = [&](const std::string& name, std::int64_t layers, bool decoder) {
    for (std::int64_t i = 0; i < layers; ++i) {
      std::string p = name + ".block." + std::to_string(i) + ".layer.";
      auto attention = [&](const std::string& a, bool relative) {
        out.emplace_back(a + ".q.weight",
                         init.normal({c.num_heads * c.d_kv, c.d_model},
                                     std::pow(d * static_cast<double>(c.d_kv), -0.5)));
        out.emplace_back(a + ".k.weight",
                         init.normal({c.num_heads * c.d_kv, c.d_model}, std::pow(d, -0.5)));
        out.emplace_back(a + ".v.weight",
                         init.normal({c.num_heads * c.d_kv, c.d_model}, std::pow(d, -0.5)));
        out.emplace_back(a + ".o.weight",
                         init.normal({c.d_model, c.num_heads * c.d_kv}, std::pow(inner, -0.5)));
        if (relative)
          out.emplace_back(
              a + ".relative_attention_bias.weight",
              init.normal({c.relative_attention_num_buckets, c.num_heads}, std::pow(d, -0.5)));
      };
      attention(p + "0.SelfAttention", i == 0);
      out.emplace_back(p + "0.layer_norm.weight", Init::ones(c.d_model));
      if (decoder) {
        attention(p + "1.EncDecAttention", false);
        out.emplace_back(p + "1.layer_norm.weight", Init::ones(c.d_model));
      }
      std::string ff = p + (decoder ? "2" : "1");
      for (const char* wi : c.gated ? std::vector{"wi_0", "wi_1"} : std::vector{"wi"})
        out.emplace_back(ff + ".DenseReluDense." + wi + ".weight",
                         init.normal({c.d_ff, c.d_model}, std::pow(d, -0.5)));
      out.emplace_back(
          ff + ".DenseReluDense.wo.weight",
          init.normal({c.d_model, c.d_ff}, std::pow(static_cast<double>(c.d_ff), -0.5)));
      out.emplace_back(ff + ".layer_norm.weight", Init::ones(c.d_model));
    }
    out.emplace_back(name + ".final_layer_norm.weight", Init::ones(c.d_model));
  };
  stack("encoder", c.num_layers, false);
  stack("decoder", c.num_decoder_layers, true);
  if (!c.tie_word_embeddings)
    out.emplace_back("lm_head.weight", init.normal({c.vocab_size, c.d_model}, 1.0));
  return out;
}

NamedTensors bert_tensors(const BertConfig& c, Init& init) {
  const std::int64_t d = c.hidden_size;
  const double std = c.initializer_range;
  NamedTensors out;
  auto linear = [&](const std::string& name, std::int64_t rows, std::int64_t cols) {
    out.emplace_back(name + ".weight", init.normal({rows, cols}, std));
    out.emplace_back(name + ".bias", Init::zeros(rows));
  };
  auto norm = [&](const std::string& name) {
    out.emplace_back(name + ".weight", Init::ones(d));
    out.emplace_back(name + ".bias", Init::zeros(d));
  };
  out.emplace_back("embeddings.word_embeddings.weight", init.normal({c.vocab_size, d}, std));
  out.emplace_back("embeddings.position_embeddings.weight",
                   init.normal({c.max_position_embeddings, d}, std));
  out.emplace_back("embeddings.token_type_embeddings.weight",
                   init.normal({c.type_vocab_size, d}, std));
  norm("embeddings.LayerNorm");
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
    std::string p = "encoder.layer." + std::to_string(i) + ".";
    for (const char* part : {"query", "key", "value"}) linear(p + "attention.self." + part, d, d);
    linear(p + "attention.output.dense", d, d);
    norm(p + "attention.output.LayerNorm");
    linear(p + "intermediate.dense", c.intermediate_size, d);
    linear(p + "output.dense", d, c.intermediate_size);
    norm(p + "output.LayerNorm");
  }
  linear("pooler.dense", d, d);
  return out;
}

}  // namespace

void init_model(const std::filesystem::path& config_json, std::uint64_t seed,
                const std::filesystem::path& out_dir) {
  std::string type = read_model_type(config_json);
  Init init(seed);
  NamedTensors tensors;
  if (type == "t5") {
    tensors = t5_tensors(read_t5_config(config_json), init);
  } else if (type == "bert") {
    tensors = bert_tensors(read_bert_config(config_json), init);
  } else {
    throw Error(Location{.file = config_json.string(), .field = "model_type"},
                "lamp can initialise t5 and bert models, not \"" + type + "\"");
  }
  std::filesystem::create_directories(out_dir);
  write_file_atomic(out_dir / "config.json", read_file(config_json));
  save_tensors(out_dir / "model.safetensors", tensors);
}

}  // namespace lamp::nn
