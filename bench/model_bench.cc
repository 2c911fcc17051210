// Model speed (issue 4's targets) on a checkpoint made by `lamp model init`:
//   T5: greedy and beam-4 generation, batch 1 and 16, 256-token inputs, exactly 32 new tokens
//       (EOS forbidden until then), encoder included: generated tokens/s.
//   BERT: encoding of batch-16 inputs of 128 and 512 tokens: sequences/s.
// Baselines measured in the same run: the machine's fp32 GEMM rate through libtorch (each result
// is also given as the fraction of the FLOPs that rate would need), and for T5, decoding without
// the KV cache (the whole prefix re-run every step, as transformers with use_cache=False).
//
// --int8 runs the models with int8 linear layers (nn/linear.h), against the same fp32 baselines.
//
//   build/bench/model_bench --t5 DIR [--bert DIR] [--threads N] [--quick] [--int8]
// Make the models with:
//   lamp model init --config tests/fixtures/configs/flan-t5-base/config.json --out /tmp/t5-base
//   lamp model init --config BERT_BASE_CONFIG --out /tmp/bert-base
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "lamp/nn/bert.h"
#include "lamp/nn/generate.h"
#include "lamp/nn/runtime.h"
#include "lamp/nn/t5.h"
#include "torch_bench_util.h"

namespace {

using lamp::bench::Clock;
using lamp::bench::gemm_rate;
using lamp::bench::random_ids;
using lamp::bench::seconds_since;

// Greedy decoding that re-runs the decoder over the whole prefix at each step.
double uncached_greedy_seconds(const lamp::nn::T5Model& model, const at::Tensor& ids,
                               const at::Tensor& mask, int new_tokens) {
  c10::InferenceMode guard;
  auto start = Clock::now();
  at::Tensor states = model.encode(ids, mask);
  at::Tensor prefix = at::zeros({ids.size(0), 1}, at::kLong);
  for (int t = 0; t < new_tokens; ++t) {
    at::Tensor logits = model.decode(prefix, states, mask).select(1, -1);  // [B, V]
    prefix = at::cat({prefix, logits.argmax(-1, true)}, 1);
  }
  return seconds_since(start);
}

void bench_t5(const std::string& dir, double gflops, bool quick, bool int8) {
  const auto compute = int8 ? lamp::nn::ComputeType::kInt8 : lamp::nn::ComputeType::kFloat32;
  lamp::nn::T5Model model = lamp::nn::T5Model::load(dir, at::kFloat, compute);
  const auto& c = model.config();
  const int input = 256, new_tokens = 32;
  // Per generated token of one row, the decoder's weights (plus the LM head) do 2 FLOPs each; the
  // encoder's are amortised over the row's tokens.
  double decoder_params =
      static_cast<double>(c.num_decoder_layers) *
          (4 * c.d_model * c.num_heads * c.d_kv * 2 + (c.gated ? 3 : 2) * c.d_model * c.d_ff) +
      static_cast<double>(c.vocab_size) * c.d_model;
  double encoder_params =
      static_cast<double>(c.num_layers) *
      (4 * c.d_model * c.num_heads * c.d_kv + (c.gated ? 3 : 2) * c.d_model * c.d_ff);
  std::printf("T5 %s (%s): d_model %lld, %lld+%lld layers; 256-token inputs, 32 new tokens\n",
              dir.c_str(), int8 ? "int8" : "fp32", static_cast<long long>(c.d_model),
              static_cast<long long>(c.num_layers), static_cast<long long>(c.num_decoder_layers));
  for (int beams : {1, 4}) {
    for (int batch : {1, 16}) {
      if (quick && batch == 16 && beams == 4) continue;
      at::Tensor ids = random_ids(batch, input, c.vocab_size), mask = at::ones_like(ids);
      lamp::nn::GenerationOptions options{
          .num_beams = beams, .max_new_tokens = new_tokens, .min_new_tokens = new_tokens};
      lamp::nn::generate(model, ids.narrow(0, 0, 1).narrow(1, 0, 8),
                         mask.narrow(0, 0, 1).narrow(1, 0, 8),
                         {.num_beams = beams, .max_new_tokens = 2});  // warm-up
      auto start = Clock::now();
      {
        c10::InferenceMode guard;
        model.encode(ids, mask);
      }
      double encoder = seconds_since(start);
      start = Clock::now();
      lamp::nn::Generation g = lamp::nn::generate(model, ids, mask, options);
      double s = seconds_since(start);
      double tokens = static_cast<double>(batch) * new_tokens;
      double flops = 2.0 * (encoder_params * batch * input + decoder_params * tokens * beams);
      std::printf("  %s batch %2d: %6.2f s (encoder %5.2f s), %7.2f tokens/s, %4.0f%% of GEMM peak",
                  beams == 1 ? "greedy" : "beam-4", batch, s, encoder, tokens / s,
                  100.0 * flops / s / 1e9 / gflops);
      if (beams == 1 && !quick) {
        double base = uncached_greedy_seconds(model, ids, mask, new_tokens);
        std::printf("; without KV cache %6.2f s: %.2fx", base, base / s);
      }
      std::printf("\n");
      (void)g;
    }
  }
}

void bench_bert(const std::string& dir, double gflops, bool int8) {
  const auto compute = int8 ? lamp::nn::ComputeType::kInt8 : lamp::nn::ComputeType::kFloat32;
  lamp::nn::BertModel model = lamp::nn::BertModel::load(dir, at::kFloat, compute);
  const auto& c = model.config();
  double params = static_cast<double>(c.num_hidden_layers) *
                  (4.0 * c.hidden_size * c.hidden_size + 2.0 * c.hidden_size * c.intermediate_size);
  std::printf("BERT %s (%s): hidden %lld, %lld layers, batch 16\n", dir.c_str(),
              int8 ? "int8" : "fp32", static_cast<long long>(c.hidden_size),
              static_cast<long long>(c.num_hidden_layers));
  c10::InferenceMode guard;
  for (int length : {128, 512}) {
    at::Tensor ids = random_ids(16, length, c.vocab_size), mask = at::ones_like(ids);
    model.encode(ids.narrow(1, 0, 8), mask.narrow(1, 0, 8));  // warm-up
    auto start = Clock::now();
    at::Tensor h = lamp::nn::mean_pooling(model.encode(ids, mask), mask);
    double s = seconds_since(start);
    std::printf("  %3d tokens: %6.2f s, %6.2f sequences/s, %4.0f%% of GEMM peak\n", length, s,
                16 / s, 100.0 * 2.0 * params * 16 * length / s / 1e9 / gflops);
  }
}

}  // namespace

int main(int argc, char** argv) {
  lamp::bench::use_lamp_blas_kernels(argv);
  std::string t5, bert;
  int threads = 0;
  bool quick = false, int8 = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--t5" && i + 1 < argc)
      t5 = argv[++i];
    else if (a == "--bert" && i + 1 < argc)
      bert = argv[++i];
    else if (a == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (a == "--quick")
      quick = true;
    else if (a == "--int8")
      int8 = true;
    else {
      std::fprintf(stderr,
                   "usage: model_bench --t5 DIR [--bert DIR] [--threads N] [--quick] [--int8]\n");
      return 2;
    }
  }
  lamp::nn::set_threads(threads);
  at::manual_seed(0);
  double gflops = gemm_rate(2048, 768, 3072);
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  std::printf("GEMM 2048x768x3072 fp32: %.0f GFLOP/s with %d threads (OPENBLAS_CORETYPE %s)\n",
              gflops, at::get_num_threads(), core ? core : "unset");
  if (!t5.empty()) bench_t5(t5, gflops, quick, int8);
  if (!bert.empty()) bench_bert(bert, gflops, int8);
}
