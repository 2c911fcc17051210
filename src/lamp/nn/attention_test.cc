#include "lamp/nn/attention.h"
#include "lamp/nn/attention_kernel.h"
#include "lamp/nn/cpu.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

namespace lamp::nn {
namespace {

// Brute force in double: softmax(scale * q_h k_h^T + bias) v_h for every row and head.
at::Tensor brute_force(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                       const at::Tensor& bias, std::int64_t heads, double scale) {
  const std::int64_t batch = q.size(0), queries = q.size(1), keys = k.size(1);
  const std::int64_t head_size = q.size(2) / heads;
  auto qa = q.to(at::kDouble).contiguous(), ka = k.to(at::kDouble).contiguous(),
       va = v.to(at::kDouble).contiguous();
  auto ba = bias.to(at::kDouble).expand({batch, heads, queries, keys}).contiguous();
  auto qd = qa.accessor<double, 3>(), kd = ka.accessor<double, 3>(), vd = va.accessor<double, 3>();
  auto bd = ba.accessor<double, 4>();
  at::Tensor out = at::zeros({batch, queries, heads * head_size}, at::kDouble);
  auto od = out.accessor<double, 3>();
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t h = 0; h < heads; ++h)
      for (std::int64_t i = 0; i < queries; ++i) {
        std::vector<double> x(static_cast<std::size_t>(keys));
        double top = -std::numeric_limits<double>::infinity(), total = 0;
        for (std::int64_t j = 0; j < keys; ++j) {
          double dot = 0;
          for (std::int64_t d = 0; d < head_size; ++d)
            dot += qd[b][i][h * head_size + d] * kd[b][j][h * head_size + d];
          x[j] = dot * scale + bd[b][h][i][j];
          top = std::max(top, x[j]);
        }
        for (double& e : x) total += e = std::exp(e - top);
        for (std::int64_t j = 0; j < keys; ++j)
          for (std::int64_t d = 0; d < head_size; ++d)
            od[b][i][h * head_size + d] += x[j] / total * vd[b][j][h * head_size + d];
      }
  return out;
}

struct Shape {
  std::int64_t batch, heads, head_size, queries, keys;
};

// Inference in float32 (the fused kernel where the CPU has AVX2 and K is a multiple of 16, the
// reference otherwise) and the reference path both equal the brute force to float rounding
// (scores of unscaled randn rows reach +-30; float's rounding of them shows at 1e-5 after exp).
TEST(Attention, FusedAndReferenceEqualBruteForce) {
  c10::InferenceMode inference;
  at::manual_seed(3);
  const float lowest = std::numeric_limits<float>::lowest();
  for (const Shape& s : std::vector<Shape>{{1, 1, 16, 1, 1},
                                           {2, 4, 16, 5, 17},
                                           {3, 2, 32, 7, 130},
                                           {2, 12, 64, 128, 128},
                                           {1, 3, 8, 6, 9},  // K = 8: reference
                                           {2, 2, 48, 33, 31}}) {
    SCOPED_TRACE(testing::Message() << "batch " << s.batch << " heads " << s.heads << " K "
                                    << s.head_size << " Lq " << s.queries << " Lk " << s.keys);
    const std::int64_t width = s.heads * s.head_size;
    // q's rows are a slice of wider rows (row stride != H*K), as a fused projection would give.
    at::Tensor q = at::randn({s.batch, s.queries, width + 8}).narrow(2, 4, width);
    at::Tensor k = at::randn({s.batch, s.keys, width});
    at::Tensor v = at::randn({s.batch, s.keys, width});
    // Padding masks (the last keys of row 0 masked) and position-bias-like terms.
    at::Tensor mask = at::zeros({s.batch, 1, 1, s.keys});
    if (s.keys > 2) mask[0].narrow(-1, s.keys - 2, 2).fill_(lowest);
    at::Tensor position = at::randn({1, s.heads, s.queries, s.keys});
    for (const at::Tensor& bias : {mask, position, mask + position}) {
      for (double scale : {1.0, 1.0 / std::sqrt(static_cast<double>(s.head_size))}) {
        const at::Tensor want = brute_force(q, k, v, bias, s.heads, scale);
        const at::Tensor got = attention(q, k, v, bias, s.heads, {.scale = scale});
        ASSERT_EQ(got.sizes(), want.sizes());
        EXPECT_LT((got.to(at::kDouble) - want).abs().max().item<double>(), 3e-5);
        const at::Tensor reference = attend_heads(
            q.view({s.batch, s.queries, s.heads, -1}).transpose(1, 2),
            k.view({s.batch, s.keys, s.heads, -1}).permute({0, 2, 3, 1}),
            v.view({s.batch, s.keys, s.heads, -1}).transpose(1, 2), bias, {.scale = scale});
        EXPECT_LT((reference.to(at::kDouble) - want).abs().max().item<double>(), 3e-5);
      }
    }
  }
}

// Each form of the fused kernel that this CPU runs (attention() takes only the widest one for
// most head sizes) equals the brute force on one (row, head) pair, with strided rows.
TEST(Attention, EachKernelFormEqualsBruteForce) {
  c10::InferenceMode inference;
  at::manual_seed(6);
  std::vector<std::pair<const char*, kernel::AttendPair>> forms;
  if (has_avx2()) forms.emplace_back("avx2", kernel::attend_pair_avx2);
  if (has_avx512()) forms.emplace_back("avx512", kernel::attend_pair_avx512);
  if (forms.empty()) GTEST_SKIP() << "no AVX2 on this CPU";
  for (auto [queries, keys, head_size] : std::vector<std::array<std::int64_t, 3>>{
           {1, 1, 32}, {7, 130, 32}, {33, 31, 64}, {128, 128, 64}}) {
    at::Tensor q = at::randn({1, queries, head_size + 8}).narrow(2, 4, head_size);
    at::Tensor k = at::randn({1, keys, head_size}), v = at::randn({1, keys, head_size});
    at::Tensor bias = at::randn({1, 1, queries, keys});
    const at::Tensor want = brute_force(q, k, v, bias, 1, 0.125);
    for (auto [name, attend] : forms) {
      SCOPED_TRACE(testing::Message()
                   << name << " Lq " << queries << " Lk " << keys << " K " << head_size);
      at::Tensor out = at::empty({1, queries, head_size});
      const std::int64_t padded =
          (keys + kernel::kMaxKeyBlock - 1) / kernel::kMaxKeyBlock * kernel::kMaxKeyBlock;
      std::vector<float> keys_t(static_cast<std::size_t>(head_size * padded));
      std::vector<float> scores(static_cast<std::size_t>(kernel::kQueryRows * padded));
      const kernel::AttentionPair pair{
          q.data_ptr<float>(),   k.data_ptr<float>(), v.data_ptr<float>(), bias.data_ptr<float>(),
          out.data_ptr<float>(), q.stride(1),         k.stride(1),         v.stride(1),
          bias.stride(2),        out.stride(1)};
      attend(pair, queries, keys, head_size, 0.125f, keys_t.data(), scores.data());
      EXPECT_LT((out.to(at::kDouble) - want).abs().max().item<double>(), 3e-5);
    }
  }
}

// A row whose keys are all masked gets uniform weights, as softmax gives them.
TEST(Attention, AllKeysMaskedGivesTheMeanOfTheValues) {
  c10::InferenceMode inference;
  at::manual_seed(4);
  at::Tensor q = at::randn({1, 3, 32}), k = at::randn({1, 9, 32}), v = at::randn({1, 9, 32});
  at::Tensor bias = at::full({1, 1, 1, 9}, std::numeric_limits<float>::lowest());
  at::Tensor got = attention(q, k, v, bias, 2, {});
  at::Tensor mean = v.mean(1, /*keepdim=*/true).expand({1, 3, 32});
  EXPECT_LT((got - mean).abs().max().item<float>(), 1e-6);
}

// With autograd on, the result carries gradients (the reference path) and equals inference's.
TEST(Attention, TrainingPathHasGradientsAndTheSameValues) {
  at::manual_seed(5);
  at::Tensor q = at::randn({2, 4, 32}).requires_grad_(), k = at::randn({2, 6, 32}),
             v = at::randn({2, 6, 32});
  at::Tensor bias = at::randn({1, 2, 4, 6});
  at::Tensor trained = attention(q, k, v, bias, 2, {.scale = 0.25});
  trained.sum().backward();
  ASSERT_TRUE(q.grad().defined());
  EXPECT_GT(q.grad().abs().sum().item<float>(), 0);
  c10::InferenceMode inference;
  at::Tensor inferred = attention(q.detach(), k, v, bias, 2, {.scale = 0.25});
  EXPECT_LT((trained.detach() - inferred).abs().max().item<float>(), 2e-6);
}

// nn's kernels split work with at::parallel_for, an OpenMP region inlined from libtorch's
// headers: built without OpenMP, it silently runs on one thread.
TEST(Attention, KernelsRunOnSeveralThreads) {
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  std::mutex mutex;
  std::set<int> seen;
  at::parallel_for(0, 64, 1, [&](std::int64_t, std::int64_t) {
    std::lock_guard<std::mutex> lock(mutex);
    seen.insert(at::get_thread_num());
  });
  at::set_num_threads(threads);
  EXPECT_EQ(seen.size(), 2u);
}

}  // namespace
}  // namespace lamp::nn
