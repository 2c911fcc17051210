// `lamp model probe`: runs a checkpoint on given token ids and reports the numbers, to check a
// model against Hugging Face transformers (docs/model-probe.md has the format).
//
// T5 request:  {"input_ids": [[...]], "attention_mask": [[...]], "labels": [[...]] (optional,
//               -100 padded), "dtype": "float32" | "float64" (optional),
//               "generate": {"NAME": {"num_beams", "max_new_tokens" | "max_length",
//               "length_penalty", "min_new_tokens", "early_stopping", "do_sample": false}}}
// T5 result:   {"encoder_last_hidden_state", and with labels "logits", "loss",
//               "per_example_loss", "grad_global_norm", "grad_norm_per_param",
//               "generate": {"NAME": {"sequences", "sequences_scores" (beam search)}}}
// BERT request: {"input_ids", "attention_mask", "dtype"}; result: {"last_hidden_state",
//               "mean_pooled", "pooler_output" (when the checkpoint has a pooler)}.
// Gradients are those of the mean token loss in evaluation mode (no dropout).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace lamp::nn {

// The result as JSON text. lamp::Error for a malformed request (naming the key) or model.
std::string probe_model(const std::filesystem::path& model_dir, std::string_view request_json);

}  // namespace lamp::nn
