#include "lamp/nn/blas_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace lamp::nn {
namespace {

TEST(BlasEnv, CoreTypeFollowsTheWidestVectors) {
  EXPECT_EQ(openblas_core_type({.avx2_fma = false, .avx512 = false}), nullptr);
  EXPECT_STREQ(openblas_core_type({.avx2_fma = true, .avx512 = false}), "Haswell");
  EXPECT_STREQ(openblas_core_type({.avx2_fma = true, .avx512 = true}), "SkylakeX");
}

// Restores OPENBLAS_CORETYPE as the test found it.
class SavedCoreType {
 public:
  SavedCoreType() {
    if (const char* value = std::getenv("OPENBLAS_CORETYPE")) saved_ = value;
  }
  ~SavedCoreType() {
    if (saved_)
      setenv("OPENBLAS_CORETYPE", saved_->c_str(), 1);
    else
      unsetenv("OPENBLAS_CORETYPE");
  }

 private:
  std::optional<std::string> saved_;
};

TEST(BlasEnv, SetsTheCoreTypeOnlyWhenUnset) {
  SavedCoreType saved;
  unsetenv("OPENBLAS_CORETYPE");
  const char* expected = openblas_core_type(cpu_features());
  EXPECT_EQ(set_openblas_core_type(), expected != nullptr);
  if (expected != nullptr) {
    ASSERT_NE(std::getenv("OPENBLAS_CORETYPE"), nullptr);
    EXPECT_STREQ(std::getenv("OPENBLAS_CORETYPE"), expected);
  } else {
    EXPECT_EQ(std::getenv("OPENBLAS_CORETYPE"), nullptr);
  }
  // The user's setting wins, whatever it names.
  setenv("OPENBLAS_CORETYPE", "Prescott", 1);
  EXPECT_FALSE(set_openblas_core_type());
  EXPECT_STREQ(std::getenv("OPENBLAS_CORETYPE"), "Prescott");
}

}  // namespace
}  // namespace lamp::nn
