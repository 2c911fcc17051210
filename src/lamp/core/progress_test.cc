#include "lamp/core/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <string>

namespace lamp {
namespace {

TEST(Progress, FormatsBarCountsPercentAndTimeLeft) {
  EXPECT_EQ(format_progress("rank", 0, 40, 0.0), "rank [....................]  0/40   0%");
  // A quarter done after 30 s: 90 s left.
  EXPECT_EQ(format_progress("rank", 10, 40, 30.0),
            "rank [#####...............] 10/40  25%  1:30 left");
  EXPECT_EQ(format_progress("x", 1, 3, 7200.0), "x [######..............] 1/3  33%  4:00:00 left");
  EXPECT_EQ(format_progress("x", 3, 3, 9.0), "x [####################] 3/3 100%");
  EXPECT_EQ(format_progress("x", 0, 0, 0.0), "x [####################] 0/0 100%");
}

std::string drawn_by(const std::function<void(ProgressBar&)>& use, std::size_t total) {
  std::FILE* out = std::tmpfile();
  {
    ProgressBar bar("gen", total, out);
    use(bar);
  }
  std::rewind(out);
  std::string text;
  for (int c; (c = std::fgetc(out)) != EOF;) text.push_back(static_cast<char>(c));
  std::fclose(out);
  return text;
}

TEST(Progress, DrawsAndEndsTheLineOnce) {
  std::string text = drawn_by(
      [](ProgressBar& bar) {
        bar.advance(2);
        bar.advance(2);  // within 100 ms of the first draw: not drawn
        bar.finish();
        bar.finish();
      },
      4);
  EXPECT_EQ(text,
            "\rgen [##########..........] 2/4  50%  0:00 left\x1b[K"
            "\rgen [####################] 4/4 100%\x1b[K\n");
}

TEST(Progress, DrawsTheNoteAfterTheBar) {
  std::string text = drawn_by(
      [](ProgressBar& bar) {
        bar.set_note("loss 2.5");
        bar.finish();
      },
      1);
  EXPECT_EQ(text, "\rgen [....................] 0/1   0%  loss 2.5\x1b[K\n");
}

TEST(Progress, NullOutputDrawsNothingButCounts) {
  ProgressBar bar("quiet", 10, nullptr);
  bar.advance(3);
  bar.update(7);
  EXPECT_EQ(bar.done(), 7u);
  bar.finish();
}

}  // namespace
}  // namespace lamp
