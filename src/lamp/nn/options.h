// Settings of the nn module's entry points, torch-free so that code outside nn (the CLI) can
// fill them without compiling libtorch's headers.
#pragma once

#include <string>

namespace lamp::nn {

// How linear layers compute (nn/linear.h): fp32, exact to transformers, or int8 weights with
// dynamically quantized inputs, faster and close but not equal.
enum class ComputeType { kFloat32, kInt8 };

// What cache keys and model identities append for a compute type after `separator`: nothing for
// float32, so keys made before int8 existed (and their cached outputs) stay valid.
inline std::string compute_type_key(ComputeType type, char separator) {
  return type == ComputeType::kInt8 ? std::string(1, separator) + "compute_type=int8" : "";
}

// Generation with transformers' semantics (nn/generate.h).
struct GenerationOptions {
  int num_beams = 1;
  // Total length including the start token (transformers' default 20); max_new_tokens, when
  // >= 0, overrides it as max_new_tokens + 1.
  int max_length = 20;
  int max_new_tokens = -1;
  int min_new_tokens = 0;
  double length_penalty = 1.0;
  bool early_stopping = false;
};

// Text to text with a T5 checkpoint (nn/seq2seq.h); the defaults are the LaMP runs'.
struct Seq2SeqOptions {
  GenerationOptions generation{.num_beams = 4, .max_length = 128};
  int max_input_length = 256;
  int batch_size = 16;
  ComputeType compute_type = ComputeType::kFloat32;
};

// Contriever-style embedding (nn/embedder.h).
struct EmbedderOptions {
  int threads = 0;       // torch intra-op threads; 0: all cores
  int batch_size = 16;   // texts per forward pass (the official code uses 16)
  int max_length = 512;  // tokens, [CLS] and [SEP] included
  ComputeType compute_type = ComputeType::kFloat32;
};

}  // namespace lamp::nn
