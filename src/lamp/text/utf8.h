// UTF-8 decoding for text that lamp has already validated (simdjson validates every input file),
// and cleaning and normalising text from elsewhere (e-mails).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lamp::text {

// Decodes the code point starting at text[pos] and advances pos past it. A malformed sequence
// yields U+FFFD and advances one byte.
char32_t next_code_point(std::string_view text, std::size_t& pos);

void append_utf8(std::string& out, char32_t cp);

// `bytes` without the bytes that are not part of a valid UTF-8 sequence (overlong forms and
// surrogates included): Python's bytes.decode("utf-8", errors="ignore").
std::string drop_invalid_utf8(std::string_view bytes);

// Unicode normalisation form C of valid UTF-8 text (Python's unicodedata.normalize("NFC", ...)).
std::string nfc(std::string_view text);

}  // namespace lamp::text
