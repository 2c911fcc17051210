// Python 3 string semantics that the official LaMP code depends on, reproduced exactly:
// str.isspace() / str.strip() / str.split() and float(str).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace lamp::text {

// Python's str.isspace() for one character: bidirectional class WS, B or S, or category Zs.
// Includes \x1c-\x1f, U+0085, NBSP, U+2000-U+200A, U+3000; not U+200B (zero width space).
bool py_isspace(char32_t cp);

// str.strip() with no argument.
std::string_view py_strip(std::string_view text);

// str.split() with no argument: runs of py_isspace characters separate tokens; no empty tokens.
std::vector<std::string_view> py_split(std::string_view text);

// float(text) for a str: surrounding whitespace ignored; sign; digits with single underscores
// between digits; fraction; exponent; "inf", "infinity", "nan" in any case; any Unicode decimal
// digit (category Nd, e.g. fullwidth or Arabic-Indic) read as its ASCII value. nullopt where
// Python raises ValueError. The value is correctly rounded, as CPython's is.
std::optional<double> py_float(std::string_view text);

}  // namespace lamp::text
