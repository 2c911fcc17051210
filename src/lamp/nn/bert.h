// BERT encoder (post-norm, absolute positions, token_type_ids 0) over libtorch with Hugging Face
// BertModel's numerics: erf GELU, LayerNorm eps from the config, attention scaled by 1/sqrt(K),
// masks added as (1 - mask) * finfo.min. Contriever is this encoder plus mean pooling.
// Weight names are BertModel's ("embeddings.word_embeddings.weight", "encoder.layer.N...."),
// with or without a "bert." prefix.
//
// Shapes: B batch, L length, D hidden, H heads, K = D / H.
// Thread-safety: a BertModel may be shared by threads (inference only).
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <vector>

#include "lamp/nn/config.h"
#include "lamp/nn/linear.h"
#include "lamp/nn/weights.h"

namespace lamp::nn {

struct BertLayerNorm {
  at::Tensor weight, bias;
};

struct BertLayer {
  Linear query, key, value;             // attention.self
  Linear attention_output;              // attention.output.dense
  BertLayerNorm attention_output_norm;  // attention.output.LayerNorm
  Linear intermediate;                  // intermediate.dense
  Linear output;                        // output.dense
  BertLayerNorm output_norm;            // output.LayerNorm
};

struct BertWeights {
  at::Tensor word_embeddings, position_embeddings, token_type_embeddings;
  BertLayerNorm embeddings_norm;
  std::vector<BertLayer> layer;
  Linear pooler;  // undefined when the checkpoint has none
};

class BertModel {
 public:
  // kInt8: the dense layers are int8 (nn/linear.h; fp32 weights only), quantized as they are
  // read; embeddings, norms and attention stay fp32.
  static BertModel load(const std::filesystem::path& dir, at::ScalarType dtype = at::kFloat,
                        ComputeType compute = ComputeType::kFloat32);
  BertModel(BertConfig config, BertWeights weights);

  const BertConfig& config() const { return config_; }
  // input_ids, mask: [B, L] int64 -> last hidden state [B, L, D]
  at::Tensor encode(const at::Tensor& input_ids, const at::Tensor& mask) const;
  bool has_pooler() const {
    return weights_.pooler.weight.defined() || weights_.pooler.quantized();
  }
  // tanh(dense(state of [CLS])) -> [B, D]; needs the pooler weights.
  at::Tensor pool(const at::Tensor& hidden) const;

 private:
  BertConfig config_;
  BertWeights weights_;
};

// LaMP's mean_pooling: the mean of the hidden states where mask is 1. [B, L, D], [B, L] -> [B, D]
at::Tensor mean_pooling(const at::Tensor& hidden, const at::Tensor& mask);

}  // namespace lamp::nn
