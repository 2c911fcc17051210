#include "lamp/prompt/prompt.h"

#include <cassert>
#include <cmath>
#include <vector>

namespace lamp {
namespace {

// Python's // on integers: rounds toward negative infinity.
long floor_div(long a, long b) {
  long q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Replaces "{profile}" and "{input}" in one pass, so neither value is searched for placeholders.
std::string assemble(std::string_view pattern, std::string_view profile, std::string_view input) {
  std::string out;
  for (std::size_t pos = 0; pos < pattern.size();) {
    if (pattern.substr(pos).starts_with("{profile}")) {
      out += profile;
      pos += 9;
    } else if (pattern.substr(pos).starts_with("{input}")) {
      out += input;
      pos += 7;
    } else {
      out += pattern[pos++];
    }
  }
  return out;
}

}  // namespace

std::string fill_template(const TaskSpec& task, std::string_view pattern, const ProfileItem& item,
                          std::string_view text) {
  std::string out;
  for (std::size_t pos = 0; pos < pattern.size();) {
    std::size_t open = pattern.find('{', pos);
    std::size_t close = open == std::string_view::npos ? open : pattern.find('}', open);
    if (close == std::string_view::npos) {
      out += pattern.substr(pos);
      break;
    }
    out += pattern.substr(pos, open - pos);
    std::string_view name = pattern.substr(open + 1, close - open - 1);
    if (name.empty()) {
      out += text;
    } else {
      int field = profile_field_index(task, name);
      assert(field >= 0 && "registry templates name profile fields");
      out += item.fields[static_cast<std::size_t>(field)];
    }
    pos = close + 1;
  }
  return out;
}

PromptBuilder::PromptBuilder(const TaskSpec& task, const text::T5Tokenizer& tokenizer,
                             int max_length)
    : task_(task),
      tokenizer_(tokenizer),
      max_length_(max_length),
      text_field_(profile_field_index(task, task.prompt.text_field)),
      reserved_tokens_(task.prompt.reserved.empty() ? 0 : count_tokens(task.prompt.reserved)) {
  assert(text_field_ >= 0);
}

long PromptBuilder::count_tokens(std::string_view text) const {
  return static_cast<long>(tokenizer_.encode(text).size());
}

bool PromptBuilder::try_build(std::string_view input, std::span<const ProfileItem> selected,
                              long max_len_prompt, std::string& out) const {
  const PromptSpec& spec = task_.prompt;
  const long k = static_cast<long>(selected.size());
  if (k == 0) return false;  // ZeroDivisionError in the official code
  const long per_item =
      floor_div(max_len_prompt - (spec.reserve_eos ? 1 : 0) - 2 * (k - 1) - reserved_tokens_, k);
  long saved = 0;
  std::string joined;
  std::vector<int> ids;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const ProfileItem& item = selected[i];
    long cost = spec.budget.empty() ? spec.fixed_cost
                                    : count_tokens(fill_template(task_, spec.budget, item, " "));
    long limit = per_item + saved - cost;
    if (limit < 0) return false;  // the fast tokenizer rejects a negative max_length
    std::string_view text = item.fields[static_cast<std::size_t>(text_field_)];
    if (is_null_field(text)) return false;  // tokenizer(None) raises
    ids = tokenizer_.encode(text, limit == 0 ? -1 : static_cast<int>(limit));
    saved += per_item - static_cast<long>(ids.size()) - cost;
    if (i > 0) joined += ", and ";
    joined += fill_template(task_, spec.item, item,
                            tokenizer_.decode(ids, true, tokenizer_.clean_up_by_default()));
  }
  if (spec.assembly.empty()) {
    // add_string_after_title: after the first "title", or the input unchanged without one.
    std::size_t title = input.find("title");
    if (title == std::string_view::npos) {
      out = std::string(input);
    } else {
      out = std::string(input.substr(0, title + 5)) + ", and " + joined +
            std::string(input.substr(title + 5));
    }
    return true;
  }
  out = assemble(spec.assembly, joined, input);
  return true;
}

Prompt PromptBuilder::build(std::string_view input, std::span<const ProfileItem> selected) const {
  const long input_tokens = count_tokens(input);
  Prompt prompt;
  // The official loop: factor 0.6, 0.5, ..., in float arithmetic (the 7th try is 2.8e-17).
  for (double factor = 0.6; factor >= 0; factor -= 0.1) {
    long cap = static_cast<long>(factor * max_length_);  // int() truncates toward zero
    long max_len_prompt = max_length_ - std::min(input_tokens, cap);
    if (try_build(input, selected, max_len_prompt, prompt.text)) return prompt;
  }
  prompt.text = std::string(input);
  prompt.bare_input = true;
  return prompt;
}

}  // namespace lamp
