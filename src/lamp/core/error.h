// lamp::Error: the one exception type for problems in what the user gave lamp (files, flags,
// records). Its message names the file, the record (index and id) and the field, so the CLI can
// print it as one line and exit non-zero. Broken invariants inside lamp are bugs: they assert.
//
// Thread-safety: an Error is an immutable value.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lamp {

// Where in the user's input a problem is. Every member is optional; empty means unknown.
struct Location {
  std::string file;
  std::optional<std::size_t> byte_offset;  // for syntax errors
  std::optional<std::size_t> record;       // index of the record in its top-level array
  std::string record_id;                   // the record's "id" when known
  std::string field;                       // a path inside the record, e.g. "profile[3].text"
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
  Error(Location where, const std::string& message);

  const Location& where() const { return where_; }
  // The same error located in `file`, for errors raised where the file name was not known.
  Error in_file(const std::string& file) const;
  const std::string& message() const { return message_; }

 private:
  Location where_;
  std::string message_;
};

// "file: byte 12: record 3 (id \"x\"): field \"profile[0].text\": " for the parts that are set.
std::string describe(const Location& where);

// Runs fn() and returns its result; a lamp::Error from it that names no file is rethrown as
// located in `file` (for library code that works on data without knowing where it came from).
template <typename Fn>
auto locate_errors_in(const std::string& file, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    if (!e.where().file.empty()) throw;
    throw e.in_file(file);
  }
}

// The first ten items for an error message, quoted and comma-separated, then
// ", ... (N in all)" when there are more.
std::string quoted_list(std::span<const std::string_view> items);

}  // namespace lamp
