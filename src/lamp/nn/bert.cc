#include "lamp/nn/bert.h"

#include <cmath>

#include "lamp/core/error.h"
#include "lamp/nn/activation.h"
#include "lamp/nn/attention.h"
#include "lamp/nn/runtime.h"

namespace lamp::nn {
namespace {

class BertLoader {
 public:
  BertLoader(const WeightLoader& w, const BertConfig& c, ComputeType compute)
      : w_(w),
        c_(c),
        compute_(compute),
        prefix_(w.has("bert.embeddings.word_embeddings.weight") ? "bert." : "") {}

  at::Tensor get(const std::string& name, std::vector<std::int64_t> shape) const {
    return w_.get(prefix_ + name, std::move(shape));
  }
  bool has(const std::string& name) const { return w_.has(prefix_ + name); }
  Linear linear(const std::string& name, std::int64_t out, std::int64_t in) const {
    Linear layer{get(name + ".weight", {out, in}), get(name + ".bias", {out}), {}};
    quantize_layers(compute_, {&layer});
    return layer;
  }
  BertLayerNorm norm(const std::string& name) const {
    return {get(name + ".weight", {c_.hidden_size}), get(name + ".bias", {c_.hidden_size})};
  }

 private:
  const WeightLoader& w_;
  const BertConfig& c_;
  ComputeType compute_;
  std::string prefix_;
};

at::Tensor apply(const BertLayerNorm& n, const at::Tensor& x, double eps) {
  return at::layer_norm(x, {x.size(-1)}, n.weight, n.bias, eps);
}

}  // namespace

BertModel BertModel::load(const std::filesystem::path& dir, at::ScalarType dtype,
                          ComputeType compute) {
  BertConfig c = read_bert_config(dir / "config.json");
  Checkpoint checkpoint = Checkpoint::open(dir);
  WeightLoader w(checkpoint, dtype);
  BertLoader l(w, c, compute);
  const std::int64_t d = c.hidden_size;
  BertWeights weights;
  weights.word_embeddings = l.get("embeddings.word_embeddings.weight", {c.vocab_size, d});
  weights.position_embeddings =
      l.get("embeddings.position_embeddings.weight", {c.max_position_embeddings, d});
  weights.token_type_embeddings =
      l.get("embeddings.token_type_embeddings.weight", {c.type_vocab_size, d});
  weights.embeddings_norm = l.norm("embeddings.LayerNorm");
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
    std::string p = "encoder.layer." + std::to_string(i) + ".";
    BertLayer layer;
    layer.query = l.linear(p + "attention.self.query", d, d);
    layer.key = l.linear(p + "attention.self.key", d, d);
    layer.value = l.linear(p + "attention.self.value", d, d);
    layer.attention_output = l.linear(p + "attention.output.dense", d, d);
    layer.attention_output_norm = l.norm(p + "attention.output.LayerNorm");
    layer.intermediate = l.linear(p + "intermediate.dense", c.intermediate_size, d);
    layer.output = l.linear(p + "output.dense", d, c.intermediate_size);
    layer.output_norm = l.norm(p + "output.LayerNorm");
    weights.layer.push_back(std::move(layer));
  }
  if (l.has("pooler.dense.weight")) weights.pooler = l.linear("pooler.dense", d, d);
  keep_freed_blocks();
  return BertModel(std::move(c), std::move(weights));
}

BertModel::BertModel(BertConfig config, BertWeights weights)
    : config_(std::move(config)), weights_(std::move(weights)) {}

at::Tensor BertModel::encode(const at::Tensor& input_ids, const at::Tensor& mask) const {
  const BertConfig& c = config_;
  const std::int64_t batch = input_ids.size(0), length = input_ids.size(1);
  const std::int64_t heads = c.num_attention_heads, head_size = c.hidden_size / heads;
  if (length > c.max_position_embeddings)
    throw Error("BERT input of " + std::to_string(length) + " tokens exceeds the model's " +
                std::to_string(c.max_position_embeddings) + " positions");
  const BertWeights& w = weights_;
  at::Tensor h = at::embedding(w.word_embeddings, input_ids) +
                 w.position_embeddings.narrow(0, 0, length).unsqueeze(0) +
                 w.token_type_embeddings[0];  // [B, L, D]
  h = apply(w.embeddings_norm, h, c.layer_norm_eps);
  const at::Tensor bias = additive_mask(mask, h.scalar_type()).view({batch, 1, 1, length});
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_size));
  for (const BertLayer& layer : w.layer) {
    at::Tensor context = attention(linear(h, layer.query), linear(h, layer.key),
                                   linear(h, layer.value), bias, heads, {.scale = scale});
    h = apply(layer.attention_output_norm, linear(context, layer.attention_output) + h,
              c.layer_norm_eps);
    at::Tensor inner = activate(linear(h, layer.intermediate), c.activation);  // [B, L, I]
    h = apply(layer.output_norm, linear(inner, layer.output) + h, c.layer_norm_eps);
  }
  return h;
}

at::Tensor BertModel::pool(const at::Tensor& hidden) const {
  if (!has_pooler()) throw Error("this BERT checkpoint has no pooler");
  return at::tanh(linear(hidden.select(1, 0), weights_.pooler));
}

at::Tensor mean_pooling(const at::Tensor& hidden, const at::Tensor& mask) {
  at::Tensor keep = mask.to(at::kBool).unsqueeze(-1);                      // [B, L, 1]
  at::Tensor summed = hidden.masked_fill(keep.logical_not(), 0.0).sum(1);  // [B, D]
  return summed / mask.sum(1).unsqueeze(-1).to(hidden.scalar_type());
}

}  // namespace lamp::nn
