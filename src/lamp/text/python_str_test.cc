// Python's str semantics as the official evaluator and rank_profiles.py see them. Expected
// values come from CPython 3.11 (checked by hand: `"...".strip()`, `float("...")`).
#include "lamp/text/python_str.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

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

// Random texts from pieces that exercise every path of py_split_each: ASCII words and spaces,
// the other ASCII whitespace, controls that are not whitespace, multi-byte whitespace (NBSP, NEL,
// EM SPACE, ideographic space) and non-whitespace (e acute, ZWSP, an emoji), at lengths around
// the 64-byte blocks and across split_batch_avx512's batches.
std::vector<std::string> split_test_texts() {
  using namespace std::string_view_literals;
  const std::string_view pieces[] = {"a"sv,
                                     "word"sv,
                                     "longerword"sv,
                                     " "sv,
                                     " "sv,
                                     " "sv,
                                     "  "sv,
                                     "\t"sv,
                                     "\n"sv,
                                     "\x0b"sv,
                                     "\x0c"sv,
                                     "\r"sv,
                                     "\x1c"sv,
                                     "\x1f"sv,
                                     "\x0e"sv,
                                     "\x1b"sv,
                                     "\0"sv,
                                     "\xc2\xa0"sv,
                                     "\xc2\x85"sv,
                                     "\xe2\x80\x83"sv,
                                     "\xe3\x80\x80"sv,
                                     "\xc3\xa9"sv,
                                     "\xe2\x80\x8b"sv,
                                     "\xf0\x9f\x98\x80"sv};
  std::vector<std::string> texts = {"",
                                    " ",
                                    "a",
                                    std::string(63, 'x'),
                                    std::string(64, 'x'),
                                    std::string(65, 'x'),
                                    std::string(63, ' ') + "x",
                                    std::string(64, ' ') + "x",
                                    std::string(128, 'y') + " z"};
  std::string dense;  // "a a a ...": 32 tokens per block, several batches
  for (int i = 0; i < 1500; ++i) dense += "a ";
  texts.push_back(dense);
  texts.push_back(dense.substr(1));
  std::mt19937 rng(7);
  for (int t = 0; t < 400; ++t) {
    const std::size_t length = rng() % 3000;
    // Mostly words and spaces, as real texts are; every third text is all ASCII.
    const std::size_t kinds = t % 3 == 0 ? 16 : std::size(pieces);
    std::string text;
    while (text.size() < length) text += pieces[rng() % 4 == 0 ? rng() % kinds : rng() % 6];
    texts.push_back(text);
  }
  return texts;
}

// str.split() one code point at a time: the reference for the fast forms.
std::vector<std::pair<std::size_t, std::size_t>> split_reference(std::string_view text) {
  std::vector<std::pair<std::size_t, std::size_t>> tokens;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = pos;
    if (detail::next_is_space(text, pos)) continue;
    if (tokens.empty() || tokens.back().second != start) tokens.emplace_back(start, pos);
    tokens.back().second = pos;
  }
  return tokens;
}

TEST(PySplit, FastFormsMatchCodePointReference) {
  for (const std::string& text : split_test_texts()) {
    const auto expected = split_reference(text);
    std::vector<std::pair<std::size_t, std::size_t>> dispatched, portable;
    py_split_each(text, [&](std::size_t b, std::size_t e) { dispatched.emplace_back(b, e); });
    detail::split_each_portable(text,
                                [&](std::size_t b, std::size_t e) { portable.emplace_back(b, e); });
    EXPECT_EQ(dispatched, expected) << testing::PrintToString(text);
    EXPECT_EQ(portable, expected) << testing::PrintToString(text);
  }
}

#if defined(__x86_64__)  // split_batch_avx512 exists there only
TEST(PySplit, Avx512BatchesStayInTheirArrays) {
  if (!has_avx512_vbmi2()) GTEST_SKIP() << "no AVX-512 VBMI2 on this CPU";
  constexpr std::size_t kSlots = detail::kSplitBatch + detail::kSplitBatchSlack;
  constexpr std::uint32_t kCanary = 0xdeadbeef;
  for (const std::string& text : split_test_texts()) {
    const auto expected = split_reference(text);
    std::vector<std::pair<std::size_t, std::size_t>> tokens;
    std::vector<std::uint32_t> begins(kSlots + 64, kCanary), ends(kSlots + 64, kCanary);
    detail::SplitCursor cursor;
    do {
      const std::size_t count =
          detail::split_batch_avx512(text, cursor, begins.data(), ends.data());
      for (std::size_t i = 0; i < count; ++i) tokens.emplace_back(begins[i], ends[i]);
      if (cursor.pos < text.size()) {
        EXPECT_GE(count, detail::kSplitBatch);
      }
      for (std::size_t i = kSlots; i < kSlots + 64; ++i) {
        ASSERT_EQ(begins[i], kCanary) << i;
        ASSERT_EQ(ends[i], kCanary) << i;
      }
    } while (cursor.pos < text.size());
    EXPECT_EQ(cursor.pos, text.size());
    EXPECT_EQ(tokens, expected) << testing::PrintToString(text);
  }
}
#endif

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
