// Splits the text of a JSON array into its elements' byte ranges without parsing them, so that
// each element can be parsed on its own as soon as it is found. Parsing a questions file as one
// document needs simdjson's structural index of the whole file first: 50 ms of one core for a
// 345 MB file, with the other cores waiting. Split, the file's samples are indexed and parsed one
// by one, and ranked while the rest is read.
//
// The splitter follows strings (escapes included) and bracket depth only. An element's own
// syntax, UTF-8 included, is for its parser to check; the array's own faults are errors here:
// a text that does not start with '[', an empty element ("[1,,2]", "[1,]"), a file that ends
// inside a string or before the array is closed, a closing '}' for the array, anything but
// whitespace after the array.
//
// Thread-safety: one object per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lamp/core/cpu.h"
#include "lamp/data/json_split_scan.h"

namespace lamp {

// JSON's whitespace: space, tab, line feed, carriage return.
inline bool is_json_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

class JsonArraySplitter {
 public:
  // `text` must be followed by kPadding readable bytes (their values do not matter).
  static constexpr std::size_t kPadding = 64;
  // avx512: scan with AVX-512BW, which needs a CPU that has it (has_avx512bw(), the
  // default); tests scan both ways.
  explicit JsonArraySplitter(std::string_view text, bool avx512 = has_avx512bw());

  // Whether the text's first character other than JSON whitespace is '['. When not, next()
  // throws.
  bool is_array() const { return start_ < text_.size() && text_[start_] == '['; }

  // The next element, without the whitespace around it; false once the array has ended.
  // Throws lamp::Error (with a byte offset, no file) when the array is malformed.
  bool next(std::string_view& element);

 private:
  std::string_view text_;
  std::size_t start_ = 0;    // the '[' (or the first other character)
  std::size_t element_ = 0;  // where the next element's text begins
  json_split::State scan_;
  bool avx512_;  // scan with next_delimiter_avx512
  bool ended_ = false;
};

}  // namespace lamp
