// JsonWriter: streaming JSON output with correct string escaping and shortest round-trip numbers
// (like Python's repr), into a string or, in 1 MB pieces, into an AtomicFile. Non-ASCII text is
// written as UTF-8 (json.dump(..., ensure_ascii=False)); readers of the official files accept both.
//
// Usage: w.begin_object().key("task").value("LaMP_1").key("golds").begin_array()...end_object();
// Misuse (a value where a key is due, unbalanced ends, a non-finite number) is a bug: it asserts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lamp {

class AtomicFile;

class JsonWriter {
 public:
  // indent 0: one line with ", " and ": " separators; indent > 0: pretty, like
  // json.dumps(indent=N).
  explicit JsonWriter(int indent = 0);
  explicit JsonWriter(AtomicFile& sink, int indent = 0);

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(double number);
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(bool flag);
  JsonWriter& null();

  // Writes any buffered output to the sink. Call once at the end when writing to an AtomicFile.
  void flush();
  // The text written so far (string mode only).
  const std::string& str() const { return out_; }

 private:
  void before_value();
  void newline();
  void maybe_flush();

  AtomicFile* sink_ = nullptr;
  int indent_ = 0;
  std::string out_;
  struct Level {
    bool object;
    bool empty = true;
    bool after_key = false;
  };
  std::vector<Level> stack_;
};

// Appends `text` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view text);
// Shortest text that reads back as the same double; "1.0" style for integral values.
std::string format_double(double number);

}  // namespace lamp
