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

std::string quoted_list(std::span<const std::string_view> items) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < 10; ++i) {
    out += fmt::format("{}\"{}\"", i ? ", " : "", items[i]);
  }
  if (items.size() > 10) out += fmt::format(", ... ({} in all)", items.size());
  return out;
}

Error::Error(const std::string& message) : std::runtime_error(message), message_(message) {}

Error::Error(Location where, const std::string& message)
    : std::runtime_error(describe(where) + message), where_(std::move(where)), message_(message) {}

Error Error::in_file(const std::string& file) const {
  Location where = where_;
  where.file = file;
  return Error(where, message_);
}

}  // namespace lamp
