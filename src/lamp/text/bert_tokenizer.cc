#include "lamp/text/bert_tokenizer.h"

#include <utf8proc.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <system_error>

#include "lamp/core/error.h"
#include "lamp/text/python_str.h"
#include "lamp/text/utf8.h"

namespace lamp::text {

namespace {

// transformers' all_special_tokens for BertTokenizer, in the order it lists them.
constexpr std::array<std::string_view, 5> kSpecialTokens = {"[UNK]", "[SEP]", "[PAD]", "[CLS]",
                                                            "[MASK]"};

// WordpieceTokenizer's max_input_chars_per_word: longer words are [UNK] without a search.
constexpr std::size_t kMaxCharsPerWord = 100;

utf8proc_category_t category(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

// Python's str.lower() for one character. Its full case mapping differs from the simple one that
// utf8proc gives only for U+0130, which lowers to "i" + combining dot above.
void append_lower(std::string& out, char32_t cp) {
  if (cp == 0x130) {
    append_utf8(out, U'i');
    append_utf8(out, 0x307);
    return;
  }
  append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
}

// BasicTokenizer's _is_control: any category C* except the three whitespace controls.
bool is_control(char32_t cp) {
  if (cp == U'\t' || cp == U'\n' || cp == U'\r') return false;
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
      return true;
    default:
      return false;
  }
}

// BasicTokenizer's _is_whitespace (narrower than str.isspace()).
bool is_whitespace(char32_t cp) {
  return cp == U' ' || cp == U'\t' || cp == U'\n' || cp == U'\r' ||
         category(cp) == UTF8PROC_CATEGORY_ZS;
}

// BasicTokenizer's _is_chinese_char: the CJK Unified Ideographs blocks and their compatibility
// blocks, not Hangul, kana or CJK punctuation.
bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// BasicTokenizer's _is_punctuation: all non-alphanumeric ASCII (so $, +, ^ and ` count though
// they are symbols in Unicode) plus category P*.
bool is_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

// unicodedata.normalize for NFC / NFD. utf8proc returns a malloc'd string.
std::string normalize(const std::string& text, bool compose) {
  const auto* in = reinterpret_cast<const utf8proc_uint8_t*>(text.c_str());
  utf8proc_uint8_t* raw = compose ? utf8proc_NFC(in) : utf8proc_NFD(in);
  // The input is valid UTF-8 (built with append_utf8) and holds no NUL, so only allocation fails.
  if (raw == nullptr) throw std::bad_alloc();
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(raw, &std::free);
  return std::string(reinterpret_cast<const char*>(raw));
}

}  // namespace

BertTokenizer BertTokenizer::load(const std::filesystem::path& vocab_txt_or_folder) {
  std::filesystem::path file = vocab_txt_or_folder;
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) file = file / "vocab.txt";
  const std::string name = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(Location{.file = name}, "cannot read the WordPiece vocabulary");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(Location{.file = name}, "cannot read the WordPiece vocabulary");

  BertTokenizer t;
  // transformers reads the file in text mode, so \n, \r\n and a lone \r all end a line; a last
  // line without an end still counts. A piece listed twice keeps its last id, as in its dict.
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::size_t end = bytes.find_first_of("\r\n", pos);
    if (end == std::string::npos) end = bytes.size();
    std::string token = bytes.substr(pos, end - pos);
    pos = end;
    if (pos < bytes.size())
      pos += (bytes[pos] == '\r' && pos + 1 < bytes.size() && bytes[pos + 1] == '\n') ? 2 : 1;
    t.vocab_[token] = static_cast<int>(t.id_to_token_.size());
    t.id_to_token_.push_back(std::move(token));
  }
  auto special = [&](std::string_view token) {
    std::optional<int> id = t.token_to_id(token);
    if (!id) {
      throw Error(Location{.file = name},
                  "the WordPiece vocabulary has no \"" + std::string(token) + "\"");
    }
    return *id;
  };
  t.unk_id_ = special("[UNK]");
  t.cls_id_ = special("[CLS]");
  t.sep_id_ = special("[SEP]");
  t.pad_id_ = special("[PAD]");
  t.mask_id_ = special("[MASK]");
  return t;
}

std::optional<int> BertTokenizer::token_to_id(std::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

std::string_view BertTokenizer::id_to_token(int id) const {
  if (id < 0 || id >= vocab_size()) return {};
  return id_to_token_[static_cast<std::size_t>(id)];
}

std::vector<std::string> BertTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> words;
  std::vector<std::string> pieces;
  // Step 1: split out the special tokens (leftmost first; none is a prefix of another).
  std::size_t start = 0;
  std::size_t pos = 0;
  while ((pos = text.find('[', pos)) != std::string_view::npos) {
    std::string_view matched;
    for (std::string_view s : kSpecialTokens) {
      if (text.substr(pos, s.size()) == s) matched = s;
    }
    if (matched.empty()) {
      ++pos;
      continue;
    }
    words.clear();
    basic_tokenize(text.substr(start, pos - start), words);
    for (const std::string& w : words) wordpiece(w, pieces);
    pieces.emplace_back(matched);
    pos += matched.size();
    start = pos;
  }
  words.clear();
  basic_tokenize(text.substr(start), words);
  for (const std::string& w : words) wordpiece(w, pieces);
  return pieces;
}

void BertTokenizer::basic_tokenize(std::string_view text, std::vector<std::string>& words) const {
  // Steps 2-4 in one pass: lower-case each character, clean up, space out CJK ideographs. The
  // clean-up after lower-casing is what transformers does too (lowering keeps categories C* and
  // Zs as they are).
  std::string lowered;
  lowered.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp = next_code_point(text, pos);
    if (cp == 0 || cp == 0xFFFD || is_control(cp)) continue;
    if (is_whitespace(cp)) {
      lowered.push_back(' ');
    } else if (is_cjk(cp)) {
      lowered.push_back(' ');
      append_lower(lowered, cp);
      lowered.push_back(' ');
    } else {
      append_lower(lowered, cp);
    }
  }
  // Step 5.
  const std::string composed = normalize(lowered, true);
  std::string word;
  std::string stripped;
  py_split_each(composed, [&](std::size_t begin, std::size_t end) {
    // Step 6: lower-case again (NFC can bring back nothing upper-case in practice, but this is
    // what BasicTokenizer does per word), strip accents, split on punctuation.
    std::string_view token = std::string_view(composed).substr(begin, end - begin);
    word.clear();
    for (std::size_t pos = 0; pos < token.size();) append_lower(word, next_code_point(token, pos));
    stripped = normalize(word, false);
    std::string current;
    bool open = false;  // whether `current` is a word in progress
    std::string_view s = stripped;
    for (std::size_t pos = 0; pos < s.size();) {
      std::size_t at = pos;
      char32_t cp = next_code_point(s, pos);
      if (category(cp) == UTF8PROC_CATEGORY_MN) continue;
      if (is_punctuation(cp)) {
        if (open) words.push_back(std::move(current));
        current.clear();
        open = false;
        words.emplace_back(s.substr(at, pos - at));
      } else {
        current.append(s.substr(at, pos - at));
        open = true;
      }
    }
    if (open) words.push_back(std::move(current));
  });
}

void BertTokenizer::wordpiece(std::string_view word, std::vector<std::string>& pieces) const {
  // Byte offsets of the characters; the limit counts characters, as Python's len() does.
  std::vector<std::size_t> offsets;
  for (std::size_t pos = 0; pos < word.size();) {
    offsets.push_back(pos);
    next_code_point(word, pos);
  }
  const std::size_t n = offsets.size();
  if (n == 0) return;
  offsets.push_back(word.size());
  if (n > kMaxCharsPerWord) {
    pieces.emplace_back(id_to_token(unk_id_));
    return;
  }
  const std::size_t first = pieces.size();
  std::string candidate;
  for (std::size_t start = 0; start < n;) {
    std::size_t found = 0;
    for (std::size_t end = n; end > start; --end) {
      candidate.assign(start > 0 ? "##" : "");
      candidate.append(word.substr(offsets[start], offsets[end] - offsets[start]));
      if (vocab_.find(std::string_view(candidate)) != vocab_.end()) {
        found = end;
        break;
      }
    }
    if (found == 0) {
      // One uncovered character makes the whole word unknown, pieces found so far included.
      pieces.resize(first);
      pieces.emplace_back(id_to_token(unk_id_));
      return;
    }
    pieces.push_back(candidate);
    start = found;
  }
}

std::vector<int> BertTokenizer::encode(std::string_view text, int max_length) const {
  std::vector<std::string> pieces = tokenize(text);
  std::vector<int> ids;
  ids.reserve(pieces.size() + 2);
  ids.push_back(cls_id_);
  for (const std::string& p : pieces) ids.push_back(token_to_id(p).value_or(unk_id_));
  // transformers removes len + 2 - max_length ids only when fewer than len ids must go; with
  // max_length <= 2 it logs an error and cuts nothing.
  const std::size_t content = ids.size() - 1;
  if (max_length > 2 && content + 2 > static_cast<std::size_t>(max_length)) {
    ids.resize(static_cast<std::size_t>(max_length) - 1);
  }
  ids.push_back(sep_id_);
  return ids;
}

}  // namespace lamp::text
