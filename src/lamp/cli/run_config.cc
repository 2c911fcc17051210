#include "lamp/cli/run_config.h"

#include <fmt/format.h>

#include <cctype>

#include "lamp/core/error.h"

namespace lamp::cli {
namespace {

class LineParser {
 public:
  LineParser(std::string_view line, const std::string& file, int number)
      : s_(line), file_(file), number_(number) {}

  [[noreturn]] void fail(const std::string& message) const {
    throw Error(Location{.file = file_, .field = fmt::format("line {}", number_)}, message);
  }

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  bool at_end() {
    skip_space();
    return pos_ == s_.size() || s_[pos_] == '#';
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::string key() {
    skip_space();
    std::size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                s_[pos_] == '_' || s_[pos_] == '-'))
      ++pos_;
    if (pos_ == start) fail("expected `key = value`");
    std::string k(s_.substr(start, pos_ - start));
    for (char& c : k)
      if (c == '_') c = '-';
    return k;
  }

  std::string scalar() {
    skip_space();
    if (pos_ == s_.size()) fail("expected a value");
    char open = s_[pos_];
    if (open == '"' || open == '\'') return quoted(open);
    std::size_t start = pos_;
    while (pos_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[pos_])) &&
           s_[pos_] != ',' && s_[pos_] != ']' && s_[pos_] != '#')
      ++pos_;
    std::string value(s_.substr(start, pos_ - start));
    if (value.empty()) fail("expected a value");
    for (char c : value) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+' &&
          c != '_')
        fail(fmt::format("`{}` is not a TOML value (quote strings)", value));
    }
    return value;
  }

  std::vector<std::string> value() {
    if (!eat('[')) return {scalar()};
    std::vector<std::string> values;
    if (eat(']')) return values;
    do {
      values.push_back(scalar());
    } while (eat(','));
    if (!eat(']')) fail("an array must end with ] on the same line");
    return values;
  }

 private:
  std::string quoted(char open) {
    ++pos_;
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != open) {
      char c = s_[pos_++];
      if (c == '\\' && open == '"') {
        if (pos_ == s_.size()) break;
        char e = s_[pos_++];
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          default:
            fail(fmt::format("unsupported escape \\{}", e));
        }
      } else {
        out += c;
      }
    }
    if (pos_ == s_.size()) fail("unterminated string");
    ++pos_;
    return out;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  const std::string& file_;
  int number_;
};

}  // namespace

std::vector<ConfigEntry> parse_run_config(std::string_view text, const std::string& file) {
  std::vector<ConfigEntry> entries;
  int number = 0;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    LineParser p(line, file, number);
    if (p.at_end()) continue;
    if (p.eat('[')) p.fail("tables ([section]) are not supported: write `key = value` lines");
    ConfigEntry entry{.key = p.key(), .line = number};
    if (!p.eat('=')) p.fail("expected `key = value`");
    entry.values = p.value();
    if (!p.at_end()) p.fail("unexpected text after the value");
    for (const ConfigEntry& e : entries)
      if (e.key == entry.key) p.fail(fmt::format("`{}` is set twice", entry.key));
    entries.push_back(std::move(entry));
  }
  return entries;
}

void apply_run_config(CLI::App& cmd, const std::vector<ConfigEntry>& entries,
                      const std::string& file) {
  for (const ConfigEntry& entry : entries) {
    Location where{.file = file, .field = fmt::format("line {}", entry.line)};
    CLI::Option* option = nullptr;
    try {
      option = cmd.get_option("--" + entry.key);
    } catch (const CLI::OptionNotFound&) {
    }
    if (option == nullptr || entry.key == "config")
      throw Error(where, fmt::format("`{}` is not a setting of lamp run", entry.key));
    if (option->count() > 0) continue;  // the command line wins
    try {
      option->add_result(entry.values);
      option->run_callback();
    } catch (const CLI::Error& e) {
      throw Error(where, fmt::format("`{}`: {}", entry.key, e.what()));
    }
  }
}

}  // namespace lamp::cli
