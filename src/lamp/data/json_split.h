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

namespace lamp {

// JSON's whitespace: space, tab, line feed, carriage return.
inline bool is_json_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

class JsonArraySplitter {
 public:
  // `text` must be followed by kPadding readable bytes (their values do not matter).
  static constexpr std::size_t kPadding = 64;
  explicit JsonArraySplitter(std::string_view text);

  // Whether the text's first character other than JSON whitespace is '['. When not, next()
  // throws.
  bool is_array() const { return start_ < text_.size() && text_[start_] == '['; }

  // The next element, without the whitespace around it; false once the array has ended.
  // Throws lamp::Error (with a byte offset, no file) when the array is malformed.
  bool next(std::string_view& element);

 private:
  // Finds the next ',' at depth 1 or the ']' that closes the array, from where the scan is;
  // returns its offset.
  std::size_t next_delimiter();
  struct Scan;
  // Sets s.structural to the brackets and commas outside strings in the 64 bytes at s.block,
  // first moving s.block past blocks inside a string that hold no quote or backslash.
  static void scan_block(Scan& s);
  [[noreturn]] void fail(std::size_t offset, const char* message) const;

  std::string_view text_;
  std::size_t start_ = 0;              // the '[' (or the first other character)
  std::size_t element_ = 0;            // where the next element's text begins
  std::size_t block_ = 0;              // offset of the 64-byte block being scanned
  std::uint64_t structural_ = 0;       // bit i: text_[block_ + i] is structural, not yet seen
  std::uint64_t in_string_ = 0;        // all ones when the previous block ended inside a string
  std::uint64_t odd_backslashes_ = 0;  // 1 when it ended with an odd run of backslashes
  std::size_t depth_ = 0;
  bool scanned_ = false;  // block_ has been scanned
  bool ended_ = false;
};

}  // namespace lamp
