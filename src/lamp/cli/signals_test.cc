// Ctrl-C in the middle of writing an output leaves neither a partial output nor a temporary file.
#include <gtest/gtest.h>

#include <filesystem>

#include "lamp/core/test_util.h"

namespace lamp {
namespace {

TEST(Signals, InterruptedWriteLeavesNoFiles) {
  testing_util::TempDir dir;
  // Large enough to take seconds to write; interrupted after 0.5 s.
  auto r =
      testing_util::run_lamp("data synth --task LaMP-5 --samples 200000 --profile-size 100 --out " +
                                 (dir / "out").string(),
                             "timeout -s INT 0.5");
  EXPECT_NE(r.status, 0);
  std::size_t files = 0;
  if (std::filesystem::exists(dir / "out")) {
    for (const auto& entry : std::filesystem::directory_iterator(dir / "out")) {
      ADD_FAILURE() << "left behind: " << entry.path();
      ++files;
    }
  }
  EXPECT_EQ(files, 0u);
}

}  // namespace
}  // namespace lamp
