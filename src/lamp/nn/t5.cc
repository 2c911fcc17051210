#include "lamp/nn/t5.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "lamp/core/error.h"
#include "lamp/nn/activation.h"
#include "lamp/nn/attention.h"
#include "lamp/nn/cpu.h"
#include "lamp/nn/norm.h"
#include "lamp/nn/runtime.h"

namespace lamp::nn {
namespace {

using at::indexing::Slice;

constexpr std::int64_t kFirstCacheCapacity = 32;  // decoder positions

at::Tensor drop(const at::Tensor& x, double p, bool train) {
  return train && p > 0 ? at::dropout(x, p, true) : x;
}

// transformers' T5Attention._relative_position_bucket, in the same dtypes (the float32 log decides
// bucket edges, so it is computed as there). relative_position: int64 -> int64, same shape.
at::Tensor relative_position_bucket(at::Tensor relative_position, bool bidirectional,
                                    std::int64_t num_buckets, std::int64_t max_distance) {
  at::Tensor buckets = at::zeros_like(relative_position);
  if (bidirectional) {
    num_buckets /= 2;
    buckets = buckets + (relative_position > 0).to(at::kLong) * num_buckets;
    relative_position = relative_position.abs();
  } else {
    relative_position = -at::minimum(relative_position, at::zeros_like(relative_position));
  }
  std::int64_t max_exact = num_buckets / 2;
  at::Tensor is_small = relative_position < max_exact;
  at::Tensor large =
      max_exact + (at::log(relative_position.to(at::kFloat) / static_cast<double>(max_exact)) /
                   std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)) *
                   static_cast<double>(num_buckets - max_exact))
                      .to(at::kLong);
  large = at::minimum(large, at::full_like(large, num_buckets - 1));
  return buckets + at::where(is_small, relative_position, large);
}

// T5's attention: no 1/sqrt(K) scaling, the softmax in float32 (transformers' T5Attention).
AttentionOptions t5_attention(const T5Config& c, bool train) {
  return {.float32_softmax = true, .dropout_rate = c.dropout_rate, .train = train};
}

// The decoder cache's attention (no 1/sqrt(K) scaling in T5): q [B, H, Lq, K], k_t [B, H, K, Lk],
// v [B, H, Lk, K], bias broadcastable to [B, H, Lq, Lk] -> [B, Lq, H*K].
at::Tensor attend_cached(const at::Tensor& q, const at::Tensor& k_t, const at::Tensor& v,
                         const at::Tensor& bias) {
  if (one_query_attention_applies(q, k_t, v)) return attend_one_query(q, k_t, v, bias);
  return attend_heads(q, k_t.to(q.scalar_type()), v.to(q.scalar_type()), bias,
                      {.float32_softmax = true});
}

// Writes `part` at positions [start, start + part.size(dim)) of dimension `dim` of a cache buffer
// and returns the view of positions [0, start + part.size(dim)). The buffer doubles when it is
// full, so a step copies only its own keys and values (concatenating copied the whole cache every
// step: a tenth of a batch-16 decoding step at 32 tokens).
at::Tensor append(at::Tensor& buffer, const at::Tensor& part, std::int64_t dim,
                  std::int64_t start) {
  const std::int64_t length = start + part.size(dim);
  if (!buffer.defined() || buffer.size(dim) < length) {
    std::vector<std::int64_t> shape = part.sizes().vec();
    shape[dim] = std::max<std::int64_t>(
        {length, 2 * (buffer.defined() ? buffer.size(dim) : 0), kFirstCacheCapacity});
    at::Tensor grown = at::empty(shape, part.options());
    if (start > 0) grown.narrow(dim, 0, start).copy_(buffer.narrow(dim, 0, start));
    buffer = std::move(grown);
  }
  buffer.narrow(dim, start, part.size(dim)).copy_(part);
  return buffer.narrow(dim, 0, length);
}

at::Tensor feed_forward(const T5FeedForward& ff, const T5Config& config, const at::Tensor& x,
                        bool train) {
  at::Tensor h = config.gated
                     ? gated_activate(linear(x, ff.wi_0), linear(x, ff.wi_1), config.activation)
                     : activate(linear(x, ff.wi), config.activation);  // [B, L, d_ff]
  return linear(drop(h, config.dropout_rate, train), ff.wo);           // [B, L, D]
}

std::string block_prefix(const char* stack, std::size_t i) {
  return std::string(stack) + ".block." + std::to_string(i) + ".layer.";
}

T5Attention load_attention(const WeightLoader& w, const T5Config& c, const std::string& prefix,
                           bool relative_bias, ComputeType compute) {
  std::int64_t inner = c.num_heads * c.d_kv;
  T5Attention a;
  a.q.weight = w.get(prefix + ".q.weight", {inner, c.d_model});
  a.k.weight = w.get(prefix + ".k.weight", {inner, c.d_model});
  a.v.weight = w.get(prefix + ".v.weight", {inner, c.d_model});
  a.o.weight = w.get(prefix + ".o.weight", {c.d_model, inner});
  if (relative_bias)
    a.relative_attention_bias = w.get(prefix + ".relative_attention_bias.weight",
                                      {c.relative_attention_num_buckets, c.num_heads});
  quantize_layers(compute, {&a.q, &a.k, &a.v, &a.o});
  return a;
}

T5FeedForward load_feed_forward(const WeightLoader& w, const T5Config& c, const std::string& prefix,
                                ComputeType compute) {
  T5FeedForward f;
  if (c.gated) {
    f.wi_0.weight = w.get(prefix + ".wi_0.weight", {c.d_ff, c.d_model});
    f.wi_1.weight = w.get(prefix + ".wi_1.weight", {c.d_ff, c.d_model});
  } else {
    f.wi.weight = w.get(prefix + ".wi.weight", {c.d_ff, c.d_model});
  }
  f.wo.weight = w.get(prefix + ".wo.weight", {c.d_model, c.d_ff});
  quantize_layers(compute, {&f.wi, &f.wi_0, &f.wi_1, &f.wo});
  return f;
}

T5Stack load_stack(const WeightLoader& w, const T5Config& c, bool decoder, ComputeType compute) {
  const char* name = decoder ? "decoder" : "encoder";
  std::int64_t layers = decoder ? c.num_decoder_layers : c.num_layers;
  T5Stack stack;
  for (std::int64_t i = 0; i < layers; ++i) {
    std::string p = block_prefix(name, i);
    T5Block b;
    b.self_attention = load_attention(w, c, p + "0.SelfAttention", i == 0, compute);
    b.self_attention_norm = w.get(p + "0.layer_norm.weight", {c.d_model});
    std::string ff = p + (decoder ? "2" : "1");
    if (decoder) {
      b.cross_attention = load_attention(w, c, p + "1.EncDecAttention", false, compute);
      b.cross_attention_norm = w.get(p + "1.layer_norm.weight", {c.d_model});
    }
    b.feed_forward = load_feed_forward(w, c, ff + ".DenseReluDense", compute);
    b.feed_forward_norm = w.get(ff + ".layer_norm.weight", {c.d_model});
    stack.block.push_back(std::move(b));
  }
  stack.final_layer_norm = w.get(std::string(name) + ".final_layer_norm.weight", {c.d_model});
  return stack;
}

void add_attention(NamedTensors& out, const std::string& prefix, const T5Attention& a) {
  out.emplace_back(prefix + ".q.weight", a.q.weight);
  out.emplace_back(prefix + ".k.weight", a.k.weight);
  out.emplace_back(prefix + ".v.weight", a.v.weight);
  out.emplace_back(prefix + ".o.weight", a.o.weight);
  if (a.relative_attention_bias.defined())
    out.emplace_back(prefix + ".relative_attention_bias.weight", a.relative_attention_bias);
}

void add_stack(NamedTensors& out, const char* name, const T5Stack& stack, bool decoder) {
  for (std::size_t i = 0; i < stack.block.size(); ++i) {
    const T5Block& b = stack.block[i];
    std::string p = block_prefix(name, i);
    add_attention(out, p + "0.SelfAttention", b.self_attention);
    out.emplace_back(p + "0.layer_norm.weight", b.self_attention_norm);
    if (decoder) {
      add_attention(out, p + "1.EncDecAttention", b.cross_attention);
      out.emplace_back(p + "1.layer_norm.weight", b.cross_attention_norm);
    }
    std::string ff = p + (decoder ? "2" : "1");
    const T5FeedForward& f = b.feed_forward;
    if (f.wi.weight.defined()) out.emplace_back(ff + ".DenseReluDense.wi.weight", f.wi.weight);
    if (f.wi_0.weight.defined()) {
      out.emplace_back(ff + ".DenseReluDense.wi_0.weight", f.wi_0.weight);
      out.emplace_back(ff + ".DenseReluDense.wi_1.weight", f.wi_1.weight);
    }
    out.emplace_back(ff + ".DenseReluDense.wo.weight", f.wo.weight);
    out.emplace_back(ff + ".layer_norm.weight", b.feed_forward_norm);
  }
  out.emplace_back(std::string(name) + ".final_layer_norm.weight", stack.final_layer_norm);
}

}  // namespace

void T5DecoderCache::reorder_beams(const at::Tensor& rows) {
  for (auto* list : {&self_k_t, &self_v})
    for (at::Tensor& t : *list) t = t.index_select(0, rows);
}

T5Model T5Model::load(const std::filesystem::path& dir, at::ScalarType dtype, ComputeType compute) {
  T5Config config = read_t5_config(dir / "config.json");
  Checkpoint checkpoint = Checkpoint::open(dir);
  WeightLoader w(checkpoint, dtype);
  T5Weights weights;
  weights.shared = w.get("shared.weight", {config.vocab_size, config.d_model});
  weights.encoder = load_stack(w, config, false, compute);
  weights.decoder = load_stack(w, config, true, compute);
  weights.lm_head.weight = config.tie_word_embeddings
                               ? weights.shared
                               : w.get("lm_head.weight", {config.vocab_size, config.d_model});
  quantize_layers(compute, {&weights.lm_head});  // a quantized copy of `shared` when tied
  keep_freed_blocks();
  return T5Model(std::move(config), std::move(weights));
}

T5Model::T5Model(T5Config config, T5Weights weights)
    : config_(std::move(config)), weights_(std::move(weights)) {}

NamedTensors T5Model::named_tensors() const {
  assert(!quantized());
  NamedTensors out;
  out.emplace_back("shared.weight", weights_.shared);
  add_stack(out, "encoder", weights_.encoder, false);
  add_stack(out, "decoder", weights_.decoder, true);
  if (!config_.tie_word_embeddings) out.emplace_back("lm_head.weight", weights_.lm_head.weight);
  return out;
}

T5Model::LabelledPass T5Model::forward(const at::Tensor& input_ids, const at::Tensor& mask,
                                       const at::Tensor& labels, bool train) const {
  LabelledPass pass;
  pass.encoder_states = encode(input_ids, mask, train);
  pass.logits = decode(shift_right(labels, config_.decoder_start_token_id, config_.pad_token_id),
                       pass.encoder_states, mask, train);
  pass.loss = t5_loss(pass.logits, labels);
  return pass;
}

// [1, H, Lq, Lk]: the learned bias of the bucket of (key position - query position).
at::Tensor T5Model::position_bias(const T5Attention& attention, std::int64_t query_length,
                                  std::int64_t key_length, std::int64_t query_offset,
                                  bool bidirectional) const {
  at::TensorOptions longs = at::TensorOptions().dtype(at::kLong);
  at::Tensor context = at::arange(query_offset, query_offset + query_length, longs).unsqueeze(1);
  at::Tensor memory = at::arange(key_length, longs).unsqueeze(0);
  at::Tensor buckets = relative_position_bucket(memory - context, bidirectional,
                                                config_.relative_attention_num_buckets,
                                                config_.relative_attention_max_distance);
  return at::embedding(attention.relative_attention_bias, buckets)  // [Lq, Lk, H]
      .permute({2, 0, 1})
      .unsqueeze(0);
}

at::Tensor T5Model::encode(const at::Tensor& input_ids, const at::Tensor& mask, bool train) const {
  const T5Config& c = config_;
  const std::int64_t length = input_ids.size(1);
  at::Tensor h = drop(at::embedding(weights_.shared, input_ids), c.dropout_rate, train);  // [B,S,D]
  const AttentionOptions attention_options = t5_attention(c, train);
  // Block 0's relative bias plus the padding mask, shared by every block: [B, H, S, S]
  at::Tensor bias =
      position_bias(weights_.encoder.block[0].self_attention, length, length, 0, true) +
      additive_mask(mask, h.scalar_type()).view({mask.size(0), 1, 1, length});
  for (const T5Block& b : weights_.encoder.block) {
    at::Tensor x = rms_norm(h, b.self_attention_norm, c.layer_norm_epsilon);
    const T5Attention& a = b.self_attention;
    at::Tensor attended = attention(linear(x, a.q), linear(x, a.k), linear(x, a.v), bias,
                                    c.num_heads, attention_options);  // [B, S, H*K]
    h = h + drop(linear(attended, a.o), c.dropout_rate, train);
    x = rms_norm(h, b.feed_forward_norm, c.layer_norm_epsilon);
    h = h + drop(feed_forward(b.feed_forward, c, x, train), c.dropout_rate, train);
  }
  h = rms_norm(h, weights_.encoder.final_layer_norm, c.layer_norm_epsilon);
  return drop(h, c.dropout_rate, train);
}

at::Tensor T5Model::run_decoder(const at::Tensor& decoder_input_ids,
                                const at::Tensor& encoder_states, const at::Tensor& encoder_mask,
                                T5DecoderCache* cache, bool train) const {
  const T5Config& c = config_;
  const std::int64_t length = decoder_input_ids.size(1);
  const std::int64_t offset = cache ? cache->steps : 0;
  const AttentionOptions attention_options = t5_attention(c, train);
  at::Tensor h =
      drop(at::embedding(weights_.shared, decoder_input_ids), c.dropout_rate, train);  // [B,T,D]
  at::Tensor self_bias = position_bias(weights_.decoder.block[0].self_attention, length,
                                       offset + length, offset, false);  // [1, H, T, t+T]
  if (!cache) {
    // Causal: query i sees keys <= i.
    at::Tensor causal = at::ones({length, length}, at::TensorOptions().dtype(at::kLong)).tril();
    self_bias = self_bias + additive_mask(causal, h.scalar_type()).view({1, 1, length, length});
  }
  at::Tensor cross_mask =
      cache ? cache->cross_mask
            : additive_mask(encoder_mask, h.scalar_type())
                  .view({encoder_mask.size(0), 1, 1, encoder_mask.size(1)});  // [B, 1, 1, S]
  for (std::size_t i = 0; i < weights_.decoder.block.size(); ++i) {
    const T5Block& b = weights_.decoder.block[i];
    at::Tensor x = rms_norm(h, b.self_attention_norm, c.layer_norm_epsilon);
    const T5Attention& a = b.self_attention;
    at::Tensor q = linear(x, a.q), k = linear(x, a.k), v = linear(x, a.v);  // [B, T, H*K]
    at::Tensor attended;                                                    // [B, T, H*K]
    if (cache) {
      at::Tensor k_t = split_heads(k, c.num_heads).transpose(2, 3);          // [B, H, K, T]
      k_t = append(cache->self_k_t[i], k_t, 3, offset);                      // [B, H, K, t+T]
      v = append(cache->self_v[i], split_heads(v, c.num_heads), 2, offset);  // [B, H, t+T, K]
      attended = attend_cached(split_heads(q, c.num_heads), k_t, v, self_bias);
    } else {
      attended = attention(q, k, v, self_bias, c.num_heads, attention_options);
    }
    h = h + drop(linear(attended, a.o), c.dropout_rate, train);

    x = rms_norm(h, b.cross_attention_norm, c.layer_norm_epsilon);
    const T5Attention& ca = b.cross_attention;
    attended =
        cache ? attend_cached(split_heads(linear(x, ca.q), c.num_heads), cache->cross_k_t[i],
                              cache->cross_v[i], cross_mask)
              : attention(linear(x, ca.q), linear(encoder_states, ca.k),
                          linear(encoder_states, ca.v), cross_mask, c.num_heads, attention_options);
    h = h + drop(linear(attended, ca.o), c.dropout_rate, train);

    x = rms_norm(h, b.feed_forward_norm, c.layer_norm_epsilon);
    h = h + drop(feed_forward(b.feed_forward, c, x, train), c.dropout_rate, train);
  }
  if (cache) cache->steps += length;
  h = rms_norm(h, weights_.decoder.final_layer_norm, c.layer_norm_epsilon);
  return lm_logits(drop(h, c.dropout_rate, train));
}

at::Tensor T5Model::lm_logits(const at::Tensor& decoder_states) const {
  if (!config_.tie_word_embeddings) return linear(decoder_states, weights_.lm_head);
  // Tied embeddings: T5 v1.0 rescales before sharing the input embedding.
  return linear(decoder_states * std::pow(static_cast<double>(config_.d_model), -0.5),
                weights_.lm_head);
}

at::Tensor T5Model::decode(const at::Tensor& decoder_input_ids, const at::Tensor& encoder_states,
                           const at::Tensor& encoder_mask, bool train) const {
  return run_decoder(decoder_input_ids, encoder_states, encoder_mask, nullptr, train);
}

T5DecoderCache T5Model::start_decoding(const at::Tensor& encoder_states,
                                       const at::Tensor& encoder_mask) const {
  T5DecoderCache cache;
  const std::size_t layers = weights_.decoder.block.size();
  cache.self_k_t.resize(layers);
  cache.self_v.resize(layers);
  // Contiguous, or every step's attention product would copy it (12 MB a layer at batch 16).
  // Float16 in int8 models: each step reads all of it (300 MB at batch 16 x 256 tokens in
  // float32), at memory speed, and float16's rounding is far below int8's.
  const at::ScalarType stored =
      quantized() && has_avx2() ? at::kHalf : encoder_states.scalar_type();
  auto store = [&](const at::Tensor& t) {
    return at::empty(t.sizes(), t.options().dtype(stored)).copy_(t);
  };
  for (const T5Block& b : weights_.decoder.block) {
    cache.cross_k_t.push_back(
        store(split_heads(linear(encoder_states, b.cross_attention.k), config_.num_heads)
                  .transpose(2, 3)));
    cache.cross_v.push_back(
        store(split_heads(linear(encoder_states, b.cross_attention.v), config_.num_heads)));
  }
  cache.cross_mask = additive_mask(encoder_mask, encoder_states.scalar_type())
                         .view({encoder_mask.size(0), 1, 1, encoder_mask.size(1)});
  return cache;
}

at::Tensor T5Model::decode_step(const at::Tensor& tokens, T5DecoderCache& cache) const {
  at::Tensor logits = run_decoder(tokens.view({-1, 1}), at::Tensor(), at::Tensor(), &cache, false);
  return logits.select(1, 0);  // [B, V]
}

at::Tensor shift_right(const at::Tensor& labels, std::int64_t start_token, std::int64_t pad_token) {
  at::Tensor shifted = at::full_like(labels, start_token);
  shifted.index_put_({Slice(), Slice(1, at::indexing::None)},
                     labels.index({Slice(), Slice(at::indexing::None, -1)}));
  return shifted.masked_fill(shifted == -100, pad_token);
}

at::Tensor t5_loss(const at::Tensor& logits, const at::Tensor& labels) {
  return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), labels.reshape({-1}),
                                /*weight=*/{}, at::Reduction::Mean, /*ignore_index=*/-100);
}

at::Tensor t5_per_example_loss(const at::Tensor& logits, const at::Tensor& labels) {
  at::Tensor tokens = at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}),
                                             labels.reshape({-1}), {}, at::Reduction::None, -100)
                          .view(labels.sizes());  // [B, T], 0 at ignored positions
  at::Tensor counts = (labels != -100).sum(1).clamp_min(1).to(tokens.scalar_type());
  return tokens.sum(1) / counts;
}

}  // namespace lamp::nn
