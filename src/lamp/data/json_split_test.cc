// JsonArraySplitter against a byte-at-a-time reference on random arrays (strings with escapes,
// brackets and commas, backslash runs across 64-byte blocks), and its errors; with each of its
// scans the CPU runs (SSE2 always, AVX-512BW where the CPU has it).
#include "lamp/data/json_split.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "lamp/core/error.h"

namespace lamp {
namespace {

// The elements of a well-formed JSON array, one byte at a time.
std::vector<std::string> reference_split(const std::string& text) {
  std::vector<std::string> elements;
  std::string current;
  bool in_string = false, escaped = false;
  int depth = 0;
  for (char c : text) {
    if (depth >= 1 && !(depth == 1 && !in_string && (c == ',' || c == ']'))) current += c;
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
    if ((c == ',' && depth == 1) || (c == ']' && depth == 0)) {
      auto begin = current.find_first_not_of(" \t\r\n");
      auto end = current.find_last_not_of(" \t\r\n");
      if (begin != std::string::npos) elements.push_back(current.substr(begin, end - begin + 1));
      current.clear();
    }
  }
  return elements;
}

// The scans to test: false for SSE2, true for AVX-512BW.
std::vector<bool> scans() {
  return has_avx512bw() ? std::vector<bool>{false, true} : std::vector<bool>{false};
}

std::vector<std::string> split(const std::string& text, bool avx512) {
  std::string padded = text + std::string(JsonArraySplitter::kPadding, '"');  // any bytes
  JsonArraySplitter splitter(std::string_view(padded.data(), text.size()), avx512);
  EXPECT_TRUE(splitter.is_array());
  std::vector<std::string> elements;
  std::string_view element;
  while (splitter.next(element)) elements.emplace_back(element);
  EXPECT_FALSE(splitter.next(element));
  return elements;
}

// A random JSON value: strings favour the characters the splitter must see through.
void random_value(std::mt19937& rng, int depth, std::string& out) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const int kind = depth > 3 ? 2 + pick(2) : pick(4);
  if (kind == 0 || kind == 1) {
    const bool object = kind == 0;
    out += object ? '{' : '[';
    const int n = pick(4);
    for (int i = 0; i < n; ++i) {
      if (i > 0) out += pick(2) ? "," : " ,\n ";
      if (object) {
        random_value(rng, 99, out);  // depth > 3: a string or a number
        out += ": ";
      }
      random_value(rng, depth + 1, out);
    }
    out += object ? '}' : ']';
  } else if (kind == 2) {
    out += '"';
    const int n = pick(3) == 0 ? 60 + pick(140) : pick(12);
    static const char* const kPieces[] = {"a",        " ",   "x y",     ",",    "[",
                                          "]",        "{",   "}",       "\\\"", "\\\\",
                                          "\\\\\\\"", "\\n", "\\u00e9", "é",    ":"};
    for (int i = 0; i < n; ++i) out += kPieces[pick(15)];
    // Runs of escaped backslashes long enough to cross a block boundary.
    if (pick(4) == 0) out += std::string(2 * (1 + pick(40)), '\\');
    out += '"';
  } else {
    out += std::to_string(pick(100000));
  }
}

TEST(JsonSplit, EqualsByteAtATimeReferenceOnRandomArrays) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string text = round % 3 == 0 ? " \n[" : "[";
    const int n = static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      if (i > 0) text += rng() % 2 ? "," : "\n, ";
      random_value(rng, 0, text);
    }
    text += round % 2 ? "]" : "] \n";
    std::vector<std::string> expected = reference_split(text);
    ASSERT_EQ(expected.size(), static_cast<std::size_t>(n)) << text;  // the reference itself
    for (bool avx512 : scans()) ASSERT_EQ(split(text, avx512), expected) << avx512 << text;
  }
}

TEST(JsonSplit, EmptyArraysAndNonArrays) {
  for (bool avx512 : scans()) {
    EXPECT_TRUE(split("[]", avx512).empty());
    EXPECT_TRUE(split(" [ \n ] ", avx512).empty());
    EXPECT_EQ(split(R"([{"a": "]"}, 5 , "x,y"])", avx512),
              (std::vector<std::string>{R"({"a": "]"})", "5", R"("x,y")"}));
  }
  std::string padded = std::string(R"({"a": 1})") + std::string(64, ' ');
  EXPECT_FALSE(JsonArraySplitter(std::string_view(padded.data(), 8)).is_array());
  EXPECT_FALSE(JsonArraySplitter(std::string_view(padded.data(), 0)).is_array());
}

// The message and byte offset of the error splitting `text` throws.
std::string split_error(const std::string& text, bool avx512) {
  std::string padded = text + std::string(JsonArraySplitter::kPadding, ' ');
  JsonArraySplitter splitter(std::string_view(padded.data(), text.size()), avx512);
  std::string_view element;
  try {
    while (splitter.next(element)) {
    }
  } catch (const Error& e) {
    return std::to_string(e.where().byte_offset.value_or(9999)) + " " + e.message();
  }
  ADD_FAILURE() << "no error for " << text;
  return "";
}

TEST(JsonSplit, MalformedArraysAreErrorsWithOffsets) {
  for (bool avx512 : scans()) {
    EXPECT_EQ(split_error("[1,,2]", avx512), "3 not valid JSON (a value is missing before ',')");
    EXPECT_EQ(split_error("[1, ]", avx512), "4 not valid JSON (a value is missing before ']')");
    EXPECT_EQ(split_error("[1, \"abc]", avx512),
              "9 not valid JSON (the file ends inside a string)");
    EXPECT_EQ(split_error("[1, [2]", avx512), "7 not valid JSON (the array is not closed)");
    EXPECT_EQ(split_error("[1, 2} ", avx512), "5 not valid JSON (the array ends with '}')");
    EXPECT_EQ(split_error("[1] x", avx512), "4 not valid JSON (text after the array)");
    EXPECT_EQ(split_error("[\"a\\\"]", avx512), "6 not valid JSON (the file ends inside a string)");
    EXPECT_EQ(split_error(" {}", avx512), "1 not valid JSON (expected an array)");
  }
}

}  // namespace
}  // namespace lamp
