// UTF-8 decoding for text that lamp has already validated (simdjson validates every input file).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lamp::text {

// Decodes the code point starting at text[pos] and advances pos past it. A malformed sequence
// yields U+FFFD and advances one byte.
char32_t next_code_point(std::string_view text, std::size_t& pos);

void append_utf8(std::string& out, char32_t cp);

}  // namespace lamp::text
