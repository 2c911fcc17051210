#include "lamp/core/json_writer.h"

#include <array>
#include <cassert>
#include <charconv>
#include <cmath>

#include "lamp/core/files.h"

namespace lamp {

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  // Runs of bytes that need no escape (nearly all) are appended whole: a ranking file is
  // millions of short ids, and a push_back per byte was most of the time spent writing it.
  static constexpr auto kEscaped = [] {
    std::array<bool, 256> escaped{};
    for (int c = 0; c < 0x20; ++c) escaped[c] = true;
    escaped['"'] = escaped['\\'] = true;
    return escaped;
  }();
  std::size_t plain = 0;  // start of the bytes not yet appended
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    if (!kEscaped[u]) continue;
    out.append(text.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[u >> 4]);
        out.push_back(kHex[u & 15]);
    }
  }
  out.append(text.data() + plain, text.size() - plain);
  out.push_back('"');
}

std::string format_double(double number) {
  assert(std::isfinite(number) && "JSON has no NaN or infinity");
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, number);
  assert(ec == std::errc());
  std::string text(buf, end);
  if (text.find_first_of(".en") == std::string::npos) text += ".0";
  return text;
}

JsonWriter::JsonWriter(int indent) : indent_(indent) {}
JsonWriter::JsonWriter(AtomicFile& sink, int indent) : sink_(&sink), indent_(indent) {}

void JsonWriter::newline() {
  if (indent_ <= 0) return;
  out_.push_back('\n');
  out_.append(stack_.size() * static_cast<std::size_t>(indent_), ' ');
}

void JsonWriter::before_value() {
  if (stack_.empty()) return;
  Level& top = stack_.back();
  if (top.object) {
    assert(top.after_key && "a JSON object needs a key before each value");
    top.after_key = false;
    return;
  }
  if (!top.empty) out_ += indent_ > 0 ? "," : ", ";
  top.empty = false;
  newline();
}

void JsonWriter::maybe_flush() {
  if (sink_ != nullptr && out_.size() >= (1u << 20)) flush();
}

void JsonWriter::flush() {
  assert(sink_ != nullptr);
  sink_->write(out_);
  out_.clear();
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_.push_back('{');
  stack_.push_back({.object = true});
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_.push_back('[');
  stack_.push_back({.object = false});
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  assert(!stack_.empty() && stack_.back().object && !stack_.back().after_key);
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline();
  out_.push_back('}');
  maybe_flush();
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  assert(!stack_.empty() && !stack_.back().object);
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline();
  out_.push_back(']');
  maybe_flush();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  assert(!stack_.empty() && stack_.back().object && !stack_.back().after_key);
  Level& top = stack_.back();
  if (!top.empty) out_ += indent_ > 0 ? "," : ", ";
  top.empty = false;
  newline();
  append_json_string(out_, name);
  out_ += ": ";
  top.after_key = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  before_value();
  append_json_string(out_, text);
  maybe_flush();
  return *this;
}

JsonWriter& JsonWriter::value(double number) {
  before_value();
  out_ += format_double(number);
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t number) {
  before_value();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, number);
  out_.append(buf, end);
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
  before_value();
  out_ += flag ? "true" : "false";
  return *this;
}

}  // namespace lamp
