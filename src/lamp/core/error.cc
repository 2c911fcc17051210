#include "lamp/core/error.h"

#include <fmt/format.h>

namespace lamp {

std::string describe(const Location& w) {
  std::string out;
  if (!w.file.empty()) out += w.file + ": ";
  if (w.byte_offset) out += fmt::format("byte {}: ", *w.byte_offset);
  if (w.record) {
    out += fmt::format("record {}", *w.record);
    if (!w.record_id.empty()) out += fmt::format(" (id \"{}\")", w.record_id);
    out += ": ";
  } else if (!w.record_id.empty()) {
    out += fmt::format("id \"{}\": ", w.record_id);
  }
  if (!w.field.empty()) out += fmt::format("field \"{}\": ", w.field);
  return out;
}

Error::Error(const std::string& message) : std::runtime_error(message), message_(message) {}

Error::Error(Location where, const std::string& message)
    : std::runtime_error(describe(where) + message),
      where_(std::move(where)),
      message_(message) {}

}  // namespace lamp
