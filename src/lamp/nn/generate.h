// Generation from a T5Model with Hugging Face transformers' semantics (4.27-4.34), so the same
// checkpoint gives the same tokens:
//  - Greedy: argmax of the logits; a row that emitted EOS continues with pad; stops when every
//    row has finished or max_length is reached.
//  - Beam search: candidates are the top 2 * num_beams of (beam score + log_softmax) over all of a
//    row's beams; an EOS candidate ranked within the first num_beams closes a hypothesis scored
//    sum_logprobs / length ** length_penalty (length counts the start token, not the EOS); a row
//    is done when it holds num_beams hypotheses and (early_stopping, or the worst kept score is
//    >= the best running sum / current length ** length_penalty). At max_length every open beam
//    becomes a hypothesis.
//  - min_new_tokens: EOS is forbidden (logit -inf) until that many tokens were generated.
// Sequences are returned as generate() returns them: start token first, rows padded with pad to
// the longest, a finished beam hypothesis followed by EOS when shorter than the longest.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "lamp/nn/options.h"
#include "lamp/nn/t5.h"

namespace lamp::nn {

struct Generation {
  std::vector<std::vector<std::int64_t>> sequences;  // one per input row, equal lengths
  std::vector<double> scores;  // beam search: each returned hypothesis's score; greedy: empty
};

// input_ids, mask: [B, S] int64. Runs under at::InferenceMode.
Generation generate(const T5Model& model, const at::Tensor& input_ids, const at::Tensor& mask,
                    const GenerationOptions& options);

}  // namespace lamp::nn
