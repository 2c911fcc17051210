// T5 (v1.0: relu, tied embeddings; v1.1 / Flan-T5: gated-gelu, untied) over libtorch, with
// Hugging Face transformers' numerics (see the spec's Models section): RMS layer norm with the
// variance in fp32, no 1/sqrt(d_kv) attention scaling, relative position buckets in block 0
// shared by later blocks, masks added as (1 - mask) * finfo.min, softmax in fp32.
//
// The weights are plain structs named after the checkpoint's tensors (whisper.cpp's way); the
// model is functions over them, so the same code serves inference (under at::InferenceMode) and
// training (tensors with requires_grad, autograd recording). Incremental decoding keeps one
// explicit KV cache: per decoder layer, self-attention keys/values grown one step at a time and
// cross-attention keys/values computed once from the encoder states.
//
// Shapes: B batch, S input length, T decoder length, D d_model, H heads, K d_kv, V vocab.
// Thread-safety: a T5Model may be shared by threads for inference; each needs its own cache.
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <vector>

#include "lamp/nn/config.h"
#include "lamp/nn/linear.h"
#include "lamp/nn/options.h"
#include "lamp/nn/weights.h"

namespace lamp::nn {

struct T5Attention {
  Linear q, k, v, o;                   // [H*K, D] (o: [D, H*K])
  at::Tensor relative_attention_bias;  // [buckets, H]; block 0 of each stack only
};

struct T5FeedForward {
  Linear wi;          // [d_ff, D] (relu)
  Linear wi_0, wi_1;  // [d_ff, D] (gated)
  Linear wo;          // [D, d_ff]
};

// encoder.block.N.layer.{0: self attention, 1: feed forward}
// decoder.block.N.layer.{0: self attention, 1: cross attention, 2: feed forward}
struct T5Block {
  at::Tensor self_attention_norm;
  T5Attention self_attention;
  at::Tensor cross_attention_norm;  // decoder only
  T5Attention cross_attention;      // decoder only (EncDecAttention)
  at::Tensor feed_forward_norm;
  T5FeedForward feed_forward;
};

struct T5Stack {
  std::vector<T5Block> block;
  at::Tensor final_layer_norm;
};

struct T5Weights {
  at::Tensor shared;  // [V, D]: both stacks' embed_tokens
  T5Stack encoder, decoder;
  Linear lm_head;  // [V, D]; the `shared` tensor itself when tied
};

// The decoder's incremental state for a batch of B rows.
struct T5DecoderCache {
  // Keys are kept transposed, as the attention products read them. Per layer, buffers of
  // [B, H, K, capacity] and [B, H, capacity, K] whose first `steps` positions are filled.
  std::vector<at::Tensor> self_k_t, self_v;
  // Per layer, contiguous; float16 in int8 models (start_decoding says why).
  std::vector<at::Tensor> cross_k_t;  // per layer [B, H, K, S]
  std::vector<at::Tensor> cross_v;    // per layer [B, H, S, K]
  at::Tensor cross_mask;              // [B, 1, 1, S] additive
  std::int64_t steps = 0;

  // Beam search's reordering: row r takes the self-attention state of row rows[r] ([B] int64).
  // Each row must come from a beam of the same input: those share one encoder output, so the
  // cross-attention state is the same for all of them and is left in place (transformers copies
  // it; at beam 4 x batch 16 that was 1.2 GB a step).
  void reorder_beams(const at::Tensor& rows);
};

class T5Model {
 public:
  // Reads DIR/config.json and the safetensors weights in DIR as `dtype`. kInt8: every linear
  // layer, the LM head included, is int8 (nn/linear.h; fp32 weights only), quantized as it is
  // read; the embeddings, norms and attention products stay fp32. For inference only.
  static T5Model load(const std::filesystem::path& dir, at::ScalarType dtype = at::kFloat,
                      ComputeType compute = ComputeType::kFloat32);
  T5Model(T5Config config, T5Weights weights);

  const T5Config& config() const { return config_; }
  const T5Weights& weights() const { return weights_; }
  // Every tensor under its checkpoint name (shared.weight once; lm_head.weight when untied).
  // fp32 models only (an int8 model has no fp32 linear weights to save or train).
  NamedTensors named_tensors() const;
  bool quantized() const { return weights_.lm_head.quantized(); }

  // Dropout (config.dropout_rate) is applied when `train` is true.
  // input_ids, mask: [B, S] int64 -> [B, S, D]
  at::Tensor encode(const at::Tensor& input_ids, const at::Tensor& mask, bool train = false) const;
  // Teacher forcing: decoder_input_ids [B, T], encoder states [B, S, D], mask [B, S] -> [B, T, V]
  at::Tensor decode(const at::Tensor& decoder_input_ids, const at::Tensor& encoder_states,
                    const at::Tensor& encoder_mask, bool train = false) const;

  // Teacher-forced pass over labels [B, T] (-100: ignored): decoder inputs are the labels shifted
  // right. Records autograd when the weights require grad.
  struct LabelledPass {
    at::Tensor encoder_states;  // [B, S, D]
    at::Tensor logits;          // [B, T, V]
    at::Tensor loss;            // scalar, t5_loss
  };
  LabelledPass forward(const at::Tensor& input_ids, const at::Tensor& mask,
                       const at::Tensor& labels, bool train = false) const;

  T5DecoderCache start_decoding(const at::Tensor& encoder_states,
                                const at::Tensor& encoder_mask) const;
  // One step for every row: tokens [B] int64 -> logits [B, V]; appends to the cache.
  at::Tensor decode_step(const at::Tensor& tokens, T5DecoderCache& cache) const;

 private:
  at::Tensor run_decoder(const at::Tensor& decoder_input_ids, const at::Tensor& encoder_states,
                         const at::Tensor& encoder_mask, T5DecoderCache* cache, bool train) const;
  at::Tensor position_bias(const T5Attention& attention, std::int64_t query_length,
                           std::int64_t key_length, std::int64_t query_offset,
                           bool bidirectional) const;
  at::Tensor lm_logits(const at::Tensor& decoder_states) const;

  T5Config config_;
  T5Weights weights_;
};

// labels [B, T] with -100 for ignored positions -> decoder_input_ids: shifted right, start token
// first, -100 -> pad.
at::Tensor shift_right(const at::Tensor& labels, std::int64_t start_token, std::int64_t pad_token);

// Token-level cross entropy over labels != -100 (logits [B, T, V], labels [B, T]) -> scalar.
at::Tensor t5_loss(const at::Tensor& logits, const at::Tensor& labels);
// Each row's mean over its own labels != -100 -> [B].
at::Tensor t5_per_example_loss(const at::Tensor& logits, const at::Tensor& labels);

}  // namespace lamp::nn
