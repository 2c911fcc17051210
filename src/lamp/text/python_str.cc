#include "lamp/text/python_str.h"

#include <utf8proc.h>

#include <charconv>
#include <cstdlib>
#include <limits>
#include <string>

#include "lamp/text/utf8.h"

namespace lamp::text {
namespace {

// Start of the code point that ends at text[end - 1].
std::size_t previous_code_point_start(std::string_view text, std::size_t end) {
  std::size_t i = end - 1;
  while (i > 0 && end - i < 4 && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) --i;
  return i;
}

bool is_decimal_digit(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_ND;
}

// Unicode encodes every decimal digit set as a contiguous, aligned run of ten (0..9), so the
// value is the distance from the start of the run of Nd characters, modulo 10.
int decimal_value(char32_t cp) {
  char32_t first = cp;
  while (first > 0 && is_decimal_digit(first - 1)) --first;
  return static_cast<int>((cp - first) % 10);
}

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

// Consumes digit (["_"] digit)* at s[i]; appends the digits to out. False if none.
bool digit_part(std::string_view s, std::size_t& i, std::string& out) {
  if (i >= s.size() || !is_ascii_digit(s[i])) return false;
  out.push_back(s[i++]);
  while (i < s.size()) {
    if (is_ascii_digit(s[i])) {
      out.push_back(s[i++]);
    } else if (s[i] == '_' && i + 1 < s.size() && is_ascii_digit(s[i + 1])) {
      ++i;
    } else {
      break;
    }
  }
  return true;
}

}  // namespace

bool py_isspace(char32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

std::string_view py_strip(std::string_view text) {
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t next = begin;
    if (!py_isspace(next_code_point(text, next))) break;
    begin = next;
  }
  std::size_t end = text.size();
  while (end > begin) {
    std::size_t start = previous_code_point_start(text, end);
    std::size_t pos = start;
    if (!py_isspace(next_code_point(text, pos))) break;
    end = start;
  }
  return text.substr(begin, end - begin);
}

namespace detail {

bool next_is_space(std::string_view text, std::size_t& pos) {
  return py_isspace(next_code_point(text, pos));
}

}  // namespace detail

void py_split_into(std::string_view text, std::vector<std::string_view>& tokens) {
  py_split_each(text, [&](std::size_t begin, std::size_t end) {
    tokens.push_back(text.substr(begin, end - begin));
  });
}

std::vector<std::string_view> py_split(std::string_view text) {
  std::vector<std::string_view> tokens;
  py_split_into(text, tokens);
  return tokens;
}

std::optional<double> py_float(std::string_view text) {
  // CPython first maps Unicode digits to ASCII and Unicode whitespace to spaces; any other
  // non-ASCII character makes the string invalid.
  std::string ascii;
  ascii.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp = next_code_point(text, pos);
    if (cp < 0x80) {
      ascii.push_back(static_cast<char>(cp));
    } else if (py_isspace(cp)) {
      ascii.push_back(' ');
    } else if (is_decimal_digit(cp)) {
      ascii.push_back(static_cast<char>('0' + decimal_value(cp)));
    } else {
      return std::nullopt;
    }
  }
  std::string_view s = py_strip(ascii);
  bool negative = false;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::string_view rest = s.substr(i);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (iequals(rest, "inf") || iequals(rest, "infinity")) return negative ? -kInf : kInf;
  if (iequals(rest, "nan")) return std::numeric_limits<double>::quiet_NaN();

  std::string number;
  bool int_digits = digit_part(s, i, number);
  bool frac_digits = false;
  if (i < s.size() && s[i] == '.') {
    number.push_back(s[i++]);
    frac_digits = digit_part(s, i, number);
  }
  if (!int_digits && !frac_digits) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    number.push_back(s[i++]);
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) number.push_back(s[i++]);
    if (!digit_part(s, i, number)) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec == std::errc::result_out_of_range) {
    // from_chars reports overflow and underflow without a value; strtod gives Python's (inf, 0).
    value = std::strtod(number.c_str(), nullptr);
  } else if (ec != std::errc() || end != number.data() + number.size()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

}  // namespace lamp::text
