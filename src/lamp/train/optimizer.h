// The Hugging Face Trainer's optimisation recipe (transformers 4.27, as train_llm.py runs it):
// transformers' own AdamW ("adamw_hf", the Trainer's default there), the linear schedule with
// warmup and clip_grad_norm_.
//
// AdamW, per parameter p with gradient g at update t (1-based), learning rate lr:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
//   p -= lr * wd * p    (after the Adam step, decoupled; wd 0 for excluded parameters)
// Note eps is added to sqrt(v) before the bias correction (torch.optim.AdamW adds it after).
//
// Thread-safety: none; one optimizer per training loop.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string_view>

#include "lamp/nn/weights.h"
#include "lamp/train/job.h"

namespace lamp::train {

// The Trainer's weight-decay rule: every parameter but layer norms' and those whose name
// contains "bias" (which in T5 includes relative_attention_bias).
bool decays(std::string_view parameter_name);

// The learning-rate factor of get_linear_schedule_with_warmup for update `step` (0-based, as
// the scheduler has stepped `step` times): step / warmup during warmup, then linear to 0.
double linear_schedule(std::int64_t step, std::int64_t warmup_steps, std::int64_t total_steps);

// clip_grad_norm_: the 2-norm of all gradients' 2-norms; when it exceeds max_norm the gradients
// are scaled by max_norm / (norm + 1e-6). Returns the norm before clipping.
double clip_grad_norm(const nn::NamedTensors& parameters, double max_norm);

class AdamW {
 public:
  // `parameters` are the model's tensors (updated in place); their gradients are read.
  AdamW(nn::NamedTensors parameters, const TrainOptions& options);

  // One update with learning rate `lr`; parameters without a gradient are skipped.
  void step(double lr);
  void zero_grad();
  std::int64_t steps() const { return steps_; }

  // State for a checkpoint: "exp_avg.<name>", "exp_avg_sq.<name>" per parameter.
  nn::NamedTensors state() const;
  // Restores state() as saved after `steps` updates; lamp::Error naming the tensor when one is
  // missing or mis-shaped.
  void load_state(const nn::WeightLoader& state, std::int64_t steps);

 private:
  struct Slot {
    std::string name;
    at::Tensor param, exp_avg, exp_avg_sq;
    double weight_decay;
  };
  std::vector<Slot> slots_;
  double beta1_, beta2_, eps_;
  std::int64_t steps_ = 0;
};

}  // namespace lamp::train
