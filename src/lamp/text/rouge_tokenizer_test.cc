#include "lamp/text/rouge_tokenizer.h"

#include <gtest/gtest.h>

namespace lamp::text {
namespace {

std::vector<std::string> tokens(std::string_view text) {
  std::vector<std::string> out;
  rouge_tokenize(text, out);
  return out;
}

using V = std::vector<std::string>;

TEST(RougeTokenize, LowersAndSplitsOnNonAlphanumerics) {
  EXPECT_EQ(tokens("State-of-the-art 2023 results!"),
            (V{"state", "of", "the", "art", "2023", "results"}));
  EXPECT_EQ(tokens("UPPER lower"), (V{"upper", "lower"}));
  EXPECT_EQ(tokens("don't"), (V{"don", "t"}));
  EXPECT_EQ(tokens("line one\nline\ttwo\r\n"), (V{"line", "one", "line", "two"}));
  EXPECT_TRUE(tokens("!!! ???").empty());
  EXPECT_TRUE(tokens("").empty());
}

TEST(RougeTokenize, NonAsciiLettersSeparateTokens) {
  EXPECT_EQ(tokens("na\xc3\xafve approach"), (V{"na", "ve", "approach"}));          // naïve
  EXPECT_TRUE(tokens("\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82").empty());  // привет
  EXPECT_EQ(tokens("caf\xc3\x89!"), (V{"caf"}));  // CAFÉ lowers to café: é is no a-z
  EXPECT_EQ(tokens("\xef\xbc\x93 3"), (V{"3"}));  // fullwidth digit is not [0-9]
}

TEST(RougeTokenize, PythonLowerSpecialCases) {
  // "İ".lower() is "i" + U+0307 COMBINING DOT ABOVE, which then separates.
  EXPECT_EQ(tokens("\xc4\xb0stanbul is big"), (V{"i", "stanbul", "is", "big"}));
  // KELVIN SIGN lowers to ASCII k.
  EXPECT_EQ(tokens("\xe2\x84\xaa marks kelvin"), (V{"k", "marks", "kelvin"}));
  EXPECT_EQ(tokens("5\xe2\x84\xaa"), (V{"5k"}));
}

}  // namespace
}  // namespace lamp::text
