#include "lamp/nn/norm.h"

#include <gtest/gtest.h>

namespace lamp::nn {
namespace {

at::Tensor reference(const at::Tensor& x, const at::Tensor& w, double eps) {
  return w * (x * at::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps));
}

// Float32 inference (fused where the CPU has AVX2) equals transformers' formula to float
// rounding, for widths with and without a tail after the 8-wide blocks, tiny rows included.
TEST(RmsNorm, EqualsTheFormula) {
  c10::InferenceMode inference;
  at::manual_seed(7);
  for (std::int64_t width : {768, 70, 5}) {
    at::Tensor x = at::randn({3, 4, width}) * 3, w = at::randn({width});
    x[0][0].mul_(1e-4);  // a row whose mean square is near eps
    const at::Tensor want = reference(x, w, 1e-6);
    EXPECT_TRUE(at::allclose(rms_norm(x, w, 1e-6), want, 1e-5, 1e-6)) << width;
    // A non-contiguous input gives the same.
    at::Tensor strided = at::randn({width, 6}).t();
    EXPECT_TRUE(at::allclose(rms_norm(strided, w, 1e-6), reference(strided, w, 1e-6), 1e-5, 1e-6));
  }
}

TEST(RmsNorm, TrainingPathHasGradients) {
  at::Tensor x = at::randn({2, 16}).requires_grad_(), w = at::randn({16});
  rms_norm(x, w, 1e-6).sum().backward();
  EXPECT_TRUE(x.grad().defined());
}

}  // namespace
}  // namespace lamp::nn
