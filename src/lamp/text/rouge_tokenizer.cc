#include "lamp/text/rouge_tokenizer.h"

#include "lamp/text/utf8.h"

namespace lamp::text {
namespace {

// What Python's lower() of one character contributes to [a-z0-9]: the ASCII character, or 0
// for a separator. Only two non-ASCII characters lower to ASCII letters (checked over all of
// Unicode): U+0130 (to "i" + a combining dot, which then separates) and U+212A KELVIN SIGN.
char lowered_ascii(char32_t cp, bool& separator_after) {
  separator_after = false;
  if (cp >= 'a' && cp <= 'z') return static_cast<char>(cp);
  if (cp >= '0' && cp <= '9') return static_cast<char>(cp);
  if (cp >= 'A' && cp <= 'Z') return static_cast<char>(cp - 'A' + 'a');
  if (cp == 0x212A) return 'k';
  if (cp == 0x130) {
    separator_after = true;
    return 'i';
  }
  return 0;
}

}  // namespace

void rouge_tokenize(std::string_view text, std::vector<std::string>& tokens) {
  tokens.clear();
  std::string current;
  auto finish = [&] {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  };
  for (std::size_t pos = 0; pos < text.size();) {
    unsigned char b = static_cast<unsigned char>(text[pos]);
    char32_t cp = b < 0x80 ? (++pos, b) : next_code_point(text, pos);
    bool separator_after = false;
    char c = lowered_ascii(cp, separator_after);
    if (c == 0) {
      finish();
      continue;
    }
    current.push_back(c);
    if (separator_after) finish();
  }
  finish();
}

}  // namespace lamp::text
