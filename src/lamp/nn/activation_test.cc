#include "lamp/nn/activation.h"

#include <gtest/gtest.h>

namespace lamp::nn {
namespace {

// Inputs over the range that matters (around 0, the GELUs' bends, large magnitudes where erf and
// tanh saturate) and a length that leaves a tail after the 8-wide blocks.
at::Tensor inputs() {
  at::manual_seed(6);
  return at::cat({at::linspace(-12, 12, 2001), at::randn({3, 7}).view(-1) * 3,
                  at::tensor({0.0f, -0.0f, 1e-20f, -1e-20f, 40.0f, -40.0f})});
}

at::Tensor reference(const at::Tensor& x, Activation activation) {
  return activation == Activation::kRelu       ? at::relu(x)
         : activation == Activation::kGeluTanh ? at::gelu(x, "tanh")
                                               : at::gelu(x);
}

// Float32 inference (the fused pass where the CPU has AVX2) equals libtorch's ops to float
// rounding, alone and gated.
TEST(Activation, EqualsLibtorchOps) {
  c10::InferenceMode inference;
  const at::Tensor x = inputs(), times = at::randn(x.sizes());
  for (Activation activation : {Activation::kRelu, Activation::kGeluTanh, Activation::kGeluErf}) {
    const at::Tensor want = reference(x, activation);
    const at::Tensor got = activate(x.clone(), activation);
    EXPECT_LT((got - want).abs().max().item<float>(), 1e-6) << static_cast<int>(activation);
    const at::Tensor gated = gated_activate(x.clone(), times, activation);
    EXPECT_LT((gated - want * times).abs().max().item<float>(), 1e-5)
        << static_cast<int>(activation);
  }
}

// With autograd on it is libtorch's op, with gradients.
TEST(Activation, TrainingPathHasGradients) {
  at::Tensor x = inputs().requires_grad_();
  at::Tensor y = activate(x, Activation::kGeluErf);
  y.sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_TRUE(at::allclose(y.detach(), at::gelu(x.detach())));
}

}  // namespace
}  // namespace lamp::nn
