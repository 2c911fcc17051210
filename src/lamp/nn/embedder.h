// Contriever-style text embedding with a BERT checkpoint: lamp's WordPiece tokenizer
// (vocab.txt), truncation at max_length tokens, the BERT encoder, mean pooling over the
// attention mask (LaMP's mean_pooling). Vectors are unnormalised; retrieval scores them with dot
// products (retrieval/dense.h).
#pragma once

#include <filesystem>
#include <memory>

#include "lamp/nn/options.h"
#include "lamp/retrieval/text_embedder.h"

namespace lamp::nn {

// `model_dir` holds config.json (model_type "bert"), vocab.txt and safetensors weights
// (nn/hub.h resolves hub ids to such a folder). lamp::Error when something is missing.
std::unique_ptr<TextEmbedder> load_bert_embedder(const std::filesystem::path& model_dir,
                                                 const EmbedderOptions& options);

}  // namespace lamp::nn
