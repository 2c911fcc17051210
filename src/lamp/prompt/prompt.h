// Personalized prompts (phi_p) exactly as the official prompts.py builds them, from the task's
// PromptSpec (data/task.h) and the model's tokenizer:
//   max_len_prompt = max_length - min(len(tok(input)), int(factor * max_length)), factor = 0.6;
//   per item budget = (max_len_prompt - reserve_eos - 2 * (k - 1) - len(tok(reserved))) // k;
//   each item's text is cut by tokenizing it with max_length = budget + saved - cost and
//   decoding without special tokens; unused budget carries over to later items (`saved`).
// Token counts include </s>. When an item's max_length comes out negative the tokenizer raises
// (Hugging Face's fast tokenizer, which the official runs used, rejects it) and the official
// loop retries with factor - 0.1; a max_length of 0 means no truncation, as in the fast
// tokenizer. Cut texts are decoded as transformers' batch_decode(skip_special_tokens=True) does for
// the model, clean-up per its tokenizer_config.json. When factor drops below 0 the official code
// silently returns the bare input: lamp returns the same string and flags it, so callers can count
// and report it.
//
// Thread-safety: build() is const and may run concurrently.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "lamp/data/dataset.h"
#include "lamp/data/task.h"
#include "lamp/text/t5_tokenizer.h"

namespace lamp {

struct Prompt {
  std::string text;
  bool bare_input = false;  // the budget loop gave up: the input without any profile
};

class PromptBuilder {
 public:
  PromptBuilder(const TaskSpec& task, const text::T5Tokenizer& tokenizer, int max_length);

  // `selected` are the retrieved items in prompt order (the first k of a ranking).
  Prompt build(std::string_view input, std::span<const ProfileItem> selected) const;

 private:
  // One try of the official function for a given max_len_prompt; false where it would raise.
  bool try_build(std::string_view input, std::span<const ProfileItem> selected, long max_len_prompt,
                 std::string& out) const;
  long count_tokens(std::string_view text) const;

  const TaskSpec& task_;
  const text::T5Tokenizer& tokenizer_;
  int max_length_;
  int text_field_;
  long reserved_tokens_;
};

// Fills "{field}" placeholders from the item and "{}" with `text`.
std::string fill_template(const TaskSpec& task, std::string_view pattern, const ProfileItem& item,
                          std::string_view text);

}  // namespace lamp
