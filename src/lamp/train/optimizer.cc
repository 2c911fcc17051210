#include "lamp/train/optimizer.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>

namespace lamp::train {

bool decays(std::string_view name) {
  // T5's layer norms: "layer_norm.weight" and "final_layer_norm.weight"; BERT's "LayerNorm".
  return name.find("bias") == std::string_view::npos &&
         name.find("layer_norm") == std::string_view::npos &&
         name.find("LayerNorm") == std::string_view::npos;
}

double linear_schedule(std::int64_t step, std::int64_t warmup_steps, std::int64_t total_steps) {
  if (step < warmup_steps)
    return static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup_steps));
  return std::max(0.0,
                  static_cast<double>(total_steps - step) /
                      static_cast<double>(std::max<std::int64_t>(1, total_steps - warmup_steps)));
}

double clip_grad_norm(const nn::NamedTensors& parameters, double max_norm) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> norms;
  for (const auto& [name, p] : parameters)
    if (p.grad().defined()) norms.push_back(p.grad().norm());
  if (norms.empty()) return 0;
  const double total = at::stack(norms).norm().item<double>();
  if (max_norm > 0 && total > max_norm) {
    const double scale = max_norm / (total + 1e-6);
    for (const auto& [name, p] : parameters)
      if (p.grad().defined()) p.mutable_grad().mul_(scale);
  }
  return total;
}

AdamW::AdamW(nn::NamedTensors parameters, const TrainOptions& options)
    : beta1_(options.adam_beta1), beta2_(options.adam_beta2), eps_(options.adam_epsilon) {
  for (auto& [name, p] : parameters) {
    slots_.push_back(
        {name, p, at::zeros_like(p), at::zeros_like(p), decays(name) ? options.weight_decay : 0.0});
  }
}

void AdamW::step(double lr) {
  at::NoGradGuard no_grad;
  ++steps_;
  const double t = static_cast<double>(steps_);
  const double step_size = lr * std::sqrt(1 - std::pow(beta2_, t)) / (1 - std::pow(beta1_, t));
  for (Slot& s : slots_) {
    const at::Tensor& g = s.param.grad();
    if (!g.defined()) continue;
    s.exp_avg.mul_(beta1_).add_(g, 1 - beta1_);
    s.exp_avg_sq.mul_(beta2_).addcmul_(g, g, 1 - beta2_);
    at::Tensor denom = s.exp_avg_sq.sqrt().add_(eps_);
    s.param.addcdiv_(s.exp_avg, denom, -step_size);
    if (s.weight_decay > 0) s.param.add_(s.param, -lr * s.weight_decay);
  }
}

void AdamW::zero_grad() {
  for (Slot& s : slots_)
    if (s.param.grad().defined()) s.param.mutable_grad() = at::Tensor();
}

nn::NamedTensors AdamW::state() const {
  nn::NamedTensors out;
  for (const Slot& s : slots_) out.emplace_back("exp_avg." + s.name, s.exp_avg);
  for (const Slot& s : slots_) out.emplace_back("exp_avg_sq." + s.name, s.exp_avg_sq);
  return out;
}

void AdamW::load_state(const nn::WeightLoader& state, std::int64_t steps) {
  at::NoGradGuard no_grad;
  for (Slot& s : slots_) {
    s.exp_avg.copy_(state.get("exp_avg." + s.name, s.param.sizes().vec()));
    s.exp_avg_sq.copy_(state.get("exp_avg_sq." + s.name, s.param.sizes().vec()));
  }
  steps_ = steps;
}

}  // namespace lamp::train
