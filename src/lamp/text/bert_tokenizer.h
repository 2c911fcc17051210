// The BERT WordPiece tokenizer, equal to Hugging Face transformers' slow `BertTokenizer` with the
// settings of bert-base-uncased and facebook/contriever (do_lower_case=True,
// tokenize_chinese_chars=True, strip_accents=None, which follows do_lower_case).
//
// tokenize() runs transformers' pipeline (PreTrainedTokenizer.tokenize, then BertTokenizer's
// BasicTokenizer and WordpieceTokenizer):
//  1. the special tokens [PAD] [UNK] [CLS] [SEP] [MASK], spelled exactly so, are split out of the
//     raw text first and kept whole ("a[UNK]b" is "a", "[UNK]", "b"; "[unk]" is not special);
//  2. the rest is lower-cased one character at a time (transformers lowers each character on its
//     own, so there is no final-sigma rule: "ΟΔΟΣ" gives "σ", not "ς");
//  3. clean-up: NUL, U+FFFD and every character of category C* other than \t \n \r are dropped;
//     those three, the space and category Zs become a space;
//  4. CJK ideographs (BERT's ranges) get a space on each side;
//  5. NFC, then Python's str.split() (so U+2028 and the like also separate words);
//  6. per word: lower-case, NFD, marks of category Mn dropped, then every punctuation character
//     (ASCII 33-47, 58-64, 91-96, 123-126, or category P*) becomes a word of its own;
//  7. WordPiece: greedy longest match first, continuations prefixed "##"; a word of more than 100
//     characters, or one that cannot be covered by pieces, becomes [UNK] as a whole.
// encode() adds [CLS] and [SEP] around the ids.
//
// Character properties come from utf8proc, so they follow its Unicode version, not that of the
// Python that runs transformers. They agreed on 10,000 random texts of characters assigned in both;
// a character assigned only in the newer one differs (the side that sees it as unassigned, category
// Cn, drops it; the other keeps it, usually making its word [UNK]). With utf8proc 2.8 (Unicode 15)
// against Python 3.11 (Unicode 14) that is e.g. Kawi or Cyrillic Extended-D. Text that is not valid
// UTF-8 is read with each bad byte as U+FFFD, which the clean-up drops (Python strings cannot hold
// such bytes).
//
// Thread-safety: a loaded BertTokenizer is immutable; its const methods may run concurrently from
// any number of threads.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lamp::text {

class BertTokenizer {
 public:
  // `vocab_txt_or_folder` is a vocab.txt (one piece a line, the id is the line number) or a folder
  // holding one. lamp::Error naming the path when it is missing or unreadable, or when it lacks
  // one of [UNK] [CLS] [SEP] [PAD] [MASK].
  static BertTokenizer load(const std::filesystem::path& vocab_txt_or_folder);

  // HF's `encode(text, max_length=max_length, truncation=True)`: [CLS], the ids of tokenize(text),
  // [SEP]. When the result is longer than max_length the content is cut so that it has max_length
  // ids, [CLS] and [SEP] kept. As in transformers, max_length <= 2 cannot fit any content and then
  // nothing is cut; max_length <= 0 means no truncation.
  std::vector<int> encode(std::string_view text, int max_length = 512) const;

  // The word pieces of `text`, no [CLS] / [SEP]: HF's `tokenize(text)`.
  std::vector<std::string> tokenize(std::string_view text) const;

  // Number of lines of vocab.txt (30522 for bert-base-uncased).
  int vocab_size() const { return static_cast<int>(id_to_token_.size()); }
  // The id of a piece; nullopt when it is not in the vocabulary.
  std::optional<int> token_to_id(std::string_view token) const;
  // The piece of `id`; empty when `id` is out of range.
  std::string_view id_to_token(int id) const;
  int unk_id() const { return unk_id_; }
  int cls_id() const { return cls_id_; }
  int sep_id() const { return sep_id_; }
  int pad_id() const { return pad_id_; }
  int mask_id() const { return mask_id_; }

 private:
  // Heterogeneous lookup, so string_views find pieces without a copy.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Vocab = std::unordered_map<std::string, int, Hash, std::equal_to<>>;

  // Steps 2-6 on text holding no special token, appending the words to `words`.
  void basic_tokenize(std::string_view text, std::vector<std::string>& words) const;
  // Step 7 on one word, appending its pieces.
  void wordpiece(std::string_view word, std::vector<std::string>& pieces) const;

  Vocab vocab_;
  std::vector<std::string> id_to_token_;
  int unk_id_ = 0;
  int cls_id_ = 0;
  int sep_id_ = 0;
  int pad_id_ = 0;
  int mask_id_ = 0;
};

}  // namespace lamp::text
