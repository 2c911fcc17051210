// Python's str semantics as the official evaluator and rank_profiles.py see them. Expected
// values come from CPython 3.11 (checked by hand: `"...".strip()`, `float("...")`).
#include "lamp/text/python_str.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lamp::text {
namespace {

TEST(PyIsspace, MatchesCPythonTable) {
  for (char32_t cp : {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0,
                      0x1680, 0x2000, 0x2005, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000}) {
    EXPECT_TRUE(py_isspace(cp)) << std::hex << static_cast<unsigned>(cp);
  }
  // Zero width space, word joiner, BOM and Mongolian vowel separator are not whitespace.
  for (char32_t cp : {0x200B, 0x2060, 0xFEFF, 0x180E, 0x61, 0x00, 0x1B}) {
    EXPECT_FALSE(py_isspace(cp)) << std::hex << static_cast<unsigned>(cp);
  }
}

TEST(PyStrip, StripsUnicodeWhitespaceBothEnds) {
  EXPECT_EQ(py_strip("  [1] \n"), "[1]");
  EXPECT_EQ(py_strip("[2]\x1f"), "[2]");
  EXPECT_EQ(py_strip("\xc2\xa0" "comedy" "\xe3\x80\x80"), "comedy");  // NBSP, ideographic space
  EXPECT_EQ(py_strip("\xe2\x80\x8b" "x"), "\xe2\x80\x8b" "x");          // ZWSP stays
  EXPECT_EQ(py_strip("a b"), "a b");
  EXPECT_EQ(py_strip(" \t "), "");
  EXPECT_EQ(py_strip(""), "");
  EXPECT_EQ(py_strip("\xc3\xa9\xe2\x80\x83"), "\xc3\xa9");  // é then EM SPACE
}

TEST(PySplit, SplitsOnRunsOfUnicodeWhitespace) {
  auto tokens = py_split("  alpha\xe2\x80\x83model \x1c x\n");
  ASSERT_EQ(tokens.size(), 3u);
  EXPECT_EQ(tokens[0], "alpha");
  EXPECT_EQ(tokens[1], "model");
  EXPECT_EQ(tokens[2], "x");
  EXPECT_TRUE(py_split("   ").empty());
  EXPECT_EQ(py_split("Case, kept.").size(), 2u);
}

TEST(PyFloat, AcceptsWhatPythonAccepts) {
  struct Case {
    const char* text;
    double value;
  };
  for (Case c : std::initializer_list<Case>{
           {"3", 3}, {"+2", 2}, {"-1", -1}, {".5", 0.5}, {"4.", 4}, {"1e0", 1}, {"1E+1", 10},
           {"2.5e-1", 0.25}, {"1_0", 10}, {"1_000.2_5", 1000.25}, {" 2\n", 2}, {"1e1_0", 1e10},
           {"\xef\xbc\x93", 3},           // fullwidth 3
           {"\xd9\xa3", 3},               // Arabic-Indic 3
           {"\xe0\xa5\xa8.\xe0\xa5\xab", 2.5},  // Devanagari 2.5
           {"\xf0\x9d\x9f\x97", 9},       // MATHEMATICAL BOLD DIGIT NINE (U+1D7D7)
           {"\xe2\x80\x83" "4\xc2\xa0", 4},  // Unicode spaces around
           {"3.3", 3.3}, {"00012", 12}, {"1e-400", 0}}) {
    std::optional<double> v = py_float(c.text);
    ASSERT_TRUE(v.has_value()) << c.text;
    EXPECT_EQ(*v, c.value) << c.text;
  }
  EXPECT_TRUE(std::isinf(*py_float("1e400")));
  EXPECT_TRUE(std::isinf(*py_float("-Infinity")));
  EXPECT_TRUE(std::isinf(*py_float("inf")));
  EXPECT_TRUE(std::isnan(*py_float("nan")));
  EXPECT_TRUE(std::isnan(*py_float("-NaN")));
}

TEST(PyFloat, RejectsWhatPythonRejects) {
  for (const char* text : {"", " ", "five", "1,5", "0x3", "[3]", "4 stars", "1__0", "_1", "1_",
                           "1_.5", "1._5", ".", "e5", "1e", "1e+", "+", "--1", "1 2", "infinit",
                           "nan1", "\xe2\x85\xa2" /* ROMAN NUMERAL THREE: No, not Nd */,
                           "\xc2\xb2" /* SUPERSCRIPT TWO */, "3\xe2\x80\x8b"}) {
    EXPECT_FALSE(py_float(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace lamp::text
