// int8 linear layers (nn/linear.h) against fp32: on random layers, and on the fixture models,
// whose int8 outputs must stay close to the fp32 ones that match transformers.
#include "lamp/nn/linear.h"

#include <gtest/gtest.h>

#include <vector>

#include <string>

#include "lamp/nn/bert.h"
#include "lamp/nn/generate.h"
#include "lamp/nn/t5.h"

namespace lamp::nn {
namespace {

const std::string kModels = std::string(LAMP_FIXTURES) + "/models";

// max |got - want| / max |want|
double relative_error(const at::Tensor& got, const at::Tensor& want) {
  return ((got - want).abs().max() / want.abs().max()).item<double>();
}

TEST(Int8Linear, CloseToFp32WithTheInputShapeKept) {
  c10::InferenceMode guard;
  at::manual_seed(1);
  Linear fp{at::randn({96, 64}) * 0.1, at::randn({96}), {}};
  fp.weight[3].zero_();  // an all-zero row must not divide by a zero scale
  Linear q = fp;
  quantize_int8(q);
  ASSERT_TRUE(q.quantized());
  EXPECT_FALSE(q.weight.defined());  // the fp32 copy is released
  EXPECT_FALSE(fp.quantized());
  at::Tensor x = at::randn({2, 5, 64});  // [B, L, in]
  at::Tensor want = linear(x, fp), got = linear(x, q);
  ASSERT_EQ(got.sizes(), want.sizes());
  const double error = relative_error(got, want);
  EXPECT_LT(error, 0.03);
  EXPECT_GT(error, 0.0);  // it did run in int8
  EXPECT_TRUE(at::allclose(got.select(-1, 3), fp.bias[3].expand({2, 5})));
}

// lamp's few-rows kernel is exact integer arithmetic: it must equal its definition computed with
// libtorch ops, for widths that are not multiples of its 32-column and 4-row blocks, with VNNI
// (where the CPU has it) and without.
class Int8FewRows : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { allow_int8_vnni(GetParam()); }
  void TearDown() override { allow_int8_vnni(true); }
};

TEST_P(Int8FewRows, KernelEqualsItsDefinition) {
  c10::InferenceMode guard;
  at::manual_seed(4);
  for (std::int64_t rows :
       {std::int64_t{1}, std::int64_t{2}, std::int64_t{3}, std::int64_t{5}, kFewRows}) {
    Linear layer{at::randn({10, 70}), at::randn({10}), {}};
    const at::Tensor w = layer.weight;
    quantize_int8(layer);
    at::Tensor x = at::randn({rows, 70});
    at::Tensor w_scale = w.abs().amax({1}) / 127.0;                         // [out]
    at::Tensor w_q = at::round(w / w_scale.unsqueeze(1)).clamp(-127, 127);  // [out, in]
    at::Tensor x_scale = x.abs().amax({1}, true) / 63.0;                    // [M, 1]
    at::Tensor x_q = at::round(x / x_scale);                                // [M, in]
    at::Tensor want = at::matmul(x_q.to(at::kDouble), w_q.to(at::kDouble).t()).to(at::kFloat) *
                          (x_scale * w_scale.unsqueeze(0)) +
                      layer.bias;  // [M, out]
    EXPECT_TRUE(at::allclose(linear(x, layer), want, 1e-5, 1e-5)) << rows << " rows";
  }
}

INSTANTIATE_TEST_SUITE_P(Vnni, Int8FewRows, ::testing::Bool());

// float32 inference with few rows takes lamp's kernel: equal to libtorch's GEMM to float
// rounding, for widths that are not multiples of its 8-column and 4-row blocks, with and without
// a bias; with autograd on, the GEMM (which carries gradients).
TEST(Fp32Linear, FewRowsKernelEqualsTheGemm) {
  at::manual_seed(7);
  for (bool with_bias : {true, false}) {
    Linear layer{at::randn({10, 70}), with_bias ? at::randn({10}) : at::Tensor(), {}};
    for (std::int64_t rows : {std::int64_t{1}, std::int64_t{2}, std::int64_t{3}, std::int64_t{5},
                              kFewRowsFloat32, kFewRowsFloat32 + 1}) {
      at::Tensor x = at::randn({rows, 70});
      const at::Tensor want = at::linear(x.to(at::kDouble), layer.weight.to(at::kDouble),
                                         with_bias ? layer.bias.to(at::kDouble) : at::Tensor());
      at::Tensor got;
      {
        c10::InferenceMode guard;
        got = linear(x.view({1, rows, 70}), layer);
      }
      ASSERT_EQ(got.sizes(), (std::vector<std::int64_t>{1, rows, 10}));
      EXPECT_LT((got.squeeze(0).to(at::kDouble) - want).abs().max().item<double>(), 1e-5)
          << rows << " rows, bias " << with_bias;
    }
  }
  Linear trained{at::randn({10, 70}).requires_grad_(), at::randn({10}), {}};
  EXPECT_TRUE(linear(at::randn({1, 70}), trained).requires_grad());
}

// More rows than kFewRows go through libtorch's quantized engine: close to fp32 as well.
TEST(Int8Linear, ManyRowsThroughTheEngine) {
  c10::InferenceMode guard;
  at::manual_seed(5);
  Linear fp{at::randn({48, 64}) * 0.1, at::randn({48}), {}};
  Linear q = fp;
  quantize_int8(q);
  at::Tensor x = at::randn({3, kFewRows, 64});
  const double error = relative_error(linear(x, q), linear(x, fp));
  EXPECT_LT(error, 0.03);
  EXPECT_GT(error, 0.0);
}

// The fixture T5 models (v1.1 gated and untied; v1.0 relu with the LM head tied to `shared`).
class Int8T5 : public ::testing::TestWithParam<const char*> {};

TEST_P(Int8T5, LogitsAndGreedyTokensCloseToFp32) {
  c10::InferenceMode guard;
  const std::string dir = kModels + "/" + GetParam();
  T5Model fp = T5Model::load(dir);
  T5Model q = T5Model::load(dir, at::kFloat, ComputeType::kInt8);
  EXPECT_TRUE(q.quantized());
  at::manual_seed(2);
  const std::int64_t vocab = fp.config().vocab_size;
  at::Tensor ids = at::randint(2, vocab, {3, 12}, at::kLong);
  at::Tensor mask = at::ones_like(ids);
  mask.index_put_({2, at::indexing::Slice(8, at::indexing::None)}, 0);
  at::Tensor labels = at::randint(2, vocab, {3, 6}, at::kLong);
  at::Tensor want = fp.forward(ids, mask, labels).logits, got = q.forward(ids, mask, labels).logits;
  const double error = relative_error(got, want);  // 0.054 and 0.022 with oneDNN
  EXPECT_LT(error, 0.1);
  EXPECT_GT(error, 0.0);
  GenerationOptions greedy{.num_beams = 1, .max_new_tokens = 8};
  Generation a = generate(fp, ids, mask, greedy), b = generate(q, ids, mask, greedy);
  std::size_t same = 0, total = 0;
  for (std::size_t r = 0; r < a.sequences.size(); ++r)
    for (std::size_t t = 0; t < a.sequences[r].size() && t < b.sequences[r].size(); ++t, ++total)
      same += a.sequences[r][t] == b.sequences[r][t];
  // All equal with oneDNN; another engine may round a near tie the other way.
  EXPECT_GE(same * 10, total * 9) << same << " of " << total;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Int8T5, ::testing::Values("t5", "t5-v1"));

TEST(Int8Bert, MeanPooledEmbeddingsCloseToFp32) {
  c10::InferenceMode guard;
  BertModel fp = BertModel::load(kModels + "/bert");
  BertModel q = BertModel::load(kModels + "/bert", at::kFloat, ComputeType::kInt8);
  at::manual_seed(3);
  at::Tensor ids = at::randint(5, fp.config().vocab_size, {4, 16}, at::kLong);
  at::Tensor mask = at::ones_like(ids);
  at::Tensor want = mean_pooling(fp.encode(ids, mask), mask);
  at::Tensor got = mean_pooling(q.encode(ids, mask), mask);
  at::Tensor cosine = at::cosine_similarity(got, want, 1);  // [B]
  EXPECT_GT(cosine.min().item<double>(), 0.99);
  EXPECT_LT(relative_error(got, want), 0.05);
}

}  // namespace
}  // namespace lamp::nn
