// Training speed (issue 5's target): updates of the trainer's own step (forward, backward,
// clip_grad_norm, AdamW) on a flan-t5-small-shaped checkpoint at batch 16, 256 input tokens and
// 16 target tokens: samples/s. Baseline measured in the same run: the machine's fp32 GEMM rate
// through libtorch; a step's matmul FLOPs (forward x 3 for the backward pass) over its time is
// reported as the fraction of that rate. The Hugging Face stack's 0.40 samples/s on this
// machine (transformers + PyTorch 1.13, 2 threads, the measurement) is printed beside.
//
//   build/bench/train_bench --model DIR [--threads 2] [--steps 3]
// Make the model with:
//   lamp model init --config tests/fixtures/configs/flan-t5-small/config.json --out /tmp/t5-small
#include <ATen/ATen.h>

#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>

#include "lamp/nn/runtime.h"
#include "lamp/nn/t5.h"
#include "lamp/train/optimizer.h"
#include "lamp/train/trainer.h"
#include "torch_bench_util.h"

namespace {

using lamp::bench::Clock;
using lamp::bench::seconds_since;

constexpr double kHuggingFaceSamplesPerSecond = 0.40;

// Matmul FLOPs of one forward pass (B rows, S input and T target tokens).
double forward_flops(const lamp::nn::T5Config& c, double B, double S, double T) {
  const double D = c.d_model, HK = static_cast<double>(c.num_heads) * c.d_kv, F = c.d_ff;
  const double ff = (c.gated ? 3 : 2) * 2 * D * F;
  const double encoder = c.num_layers * (B * S * (4 * 2 * D * HK + ff) + 2 * 2 * B * S * S * HK);
  const double decoder =
      c.num_decoder_layers *
      (B * T * (4 * 2 * D * HK + 2 * 2 * D * HK + ff) +  // self q k v o, cross q o
       B * S * 2 * 2 * D * HK +                          // cross k v
       2 * 2 * B * T * T * HK + 2 * 2 * B * T * S * HK);
  return encoder + decoder + 2 * B * T * D * c.vocab_size;  // + the LM head
}

}  // namespace

int main(int argc, char** argv) {
  lamp::bench::use_lamp_blas_kernels(argv);
  std::string model_dir;
  int threads = 2, steps = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) {
      model_dir = argv[++i];
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--steps" && i + 1 < argc) {
      steps = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: train_bench --model DIR [--threads N] [--steps N]\n");
      return 2;
    }
  }
  if (model_dir.empty()) {
    std::fprintf(stderr, "usage: train_bench --model DIR [--threads N] [--steps N]\n");
    return 2;
  }
  lamp::nn::set_threads(threads);
  const double gflops = lamp::bench::gemm_rate(2048, 512, 2048);
  std::printf("GEMM 2048x512x2048 fp32: %.0f GFLOP/s with %d threads\n", gflops, threads);

  lamp::nn::T5Model model = lamp::nn::T5Model::load(model_dir);
  const auto& c = model.config();
  const int batch = 16, input = 256, target = 16;
  at::manual_seed(0);
  at::Tensor inputs = lamp::bench::random_ids(batch, input, c.vocab_size);
  at::Tensor labels = lamp::bench::random_ids(batch, target, c.vocab_size);
  std::vector<lamp::train::TrainExample> examples(batch);
  for (int r = 0; r < batch; ++r) {
    auto in = inputs[r].contiguous(), out = labels[r].contiguous();
    examples[r].input_ids.assign(in.data_ptr<std::int64_t>(), in.data_ptr<std::int64_t>() + input);
    examples[r].labels.assign(out.data_ptr<std::int64_t>(), out.data_ptr<std::int64_t>() + target);
  }
  std::vector<std::size_t> rows(batch);
  std::iota(rows.begin(), rows.end(), 0);

  lamp::nn::NamedTensors params = model.named_tensors();
  for (auto& [name, t] : params) t.requires_grad_(true);
  lamp::train::TrainOptions options;
  lamp::train::AdamW optimizer(params, options);
  auto update = [&] {
    lamp::train::accumulate_gradients(model, examples, rows, /*train=*/true, 1.0);
    lamp::train::clip_grad_norm(params, options.max_grad_norm);
    optimizer.step(options.learning_rate);
    optimizer.zero_grad();
  };
  update();  // warm-up: allocations, the first AdamW state
  double best = 1e30, total = 0;
  for (int s = 0; s < steps; ++s) {
    auto start = Clock::now();
    update();
    const double t = seconds_since(start);
    best = std::min(best, t);
    total += t;
  }
  const double mean = total / steps;
  const double flops = 3 * forward_flops(c, batch, input, target);
  std::printf(
      "train step, batch %d x %d input + %d target tokens: %.2f s (best %.2f s), %.2f samples/s "
      "= %.1fx the Hugging Face stack's %.2f; %.1f GFLOP/s = %.0f%% of GEMM peak\n",
      batch, input, target, mean, best, batch / mean, batch / mean / kHuggingFaceSamplesPerSecond,
      kHuggingFaceSamplesPerSecond, flops / mean / 1e9, 100 * flops / mean / 1e9 / gflops);
  return 0;
}
