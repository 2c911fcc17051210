// The tokenizer of rouge_score 0.1.2 (default, no stemming), which the official ROUGE uses:
// Unicode lower(), then every run of characters outside [a-z0-9] separates tokens.
// Consequences kept on purpose: "naïve" -> "na", "ve"; "İstanbul" -> "i", "stanbul" (Python
// lowers U+0130 to "i" + U+0307); the Kelvin sign lowers to "k"; non-Latin text has no tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lamp::text {

// Replaces `tokens` with the tokens of `text`.
void rouge_tokenize(std::string_view text, std::vector<std::string>& tokens);

}  // namespace lamp::text
