// Contriever-style text embedding with a BERT checkpoint: lamp's WordPiece tokenizer
// (vocab.txt), truncation at max_length tokens, the BERT encoder, mean pooling over the
// attention mask (LaMP's mean_pooling). Vectors are unnormalised; retrieval scores them with dot
// products (retrieval/dense.h).
#pragma once

#include <filesystem>
#include <memory>

#include "lamp/retrieval/text_embedder.h"

namespace lamp::nn {

struct EmbedderOptions {
  int threads = 0;       // torch intra-op threads; 0: all cores
  int batch_size = 16;   // texts per forward pass (the official code uses 16)
  int max_length = 512;  // tokens, [CLS] and [SEP] included
};

// `model_dir` holds config.json (model_type "bert"), vocab.txt and safetensors weights
// (nn/hub.h resolves hub ids to such a folder). lamp::Error when something is missing.
std::unique_ptr<TextEmbedder> load_bert_embedder(const std::filesystem::path& model_dir,
                                                 const EmbedderOptions& options);

}  // namespace lamp::nn
