// The T5 / Flan-T5 tokenizer, equal to Hugging Face's fast tokenizer (the `tokenizers` library)
// as its tokenizer.json defines it, with no SentencePiece or Python at run time.
//
// encode() runs the tokenizers pipeline:
//  1. added tokens (<pad>, </s>, <unk>, <extra_id_N>) are matched in the raw text first, leftmost
//     longest, honouring their lstrip / rstrip / single_word flags; the text between them is
//     tokenized on its own (so "a</s>b" is "▁a", "</s>", "▁b");
//  2. the Precompiled normalizer: SentencePiece's nmt_nfkc charsmap (a darts-clone double-array
//     trie over UTF-8 plus a table of replacement strings). As in the tokenizers crate, each
//     extended grapheme cluster shorter than 6 bytes is looked up whole, and the *shortest*
//     charsmap key that prefixes it replaces the whole cluster ("A\u0302\u0300" -> "Â", the grave
//     accent is lost; this is what HF does); otherwise each character is looked up alone and kept
//     when it has no entry;
//  3. Replace(" {2,}" -> " "): runs of ASCII spaces collapse;
//  4. Metaspace: spaces become "▁", "▁" is prepended when the piece does not start with one, and
//     the text splits before every "▁";
//  5. Unigram Viterbi per pre-token over a trie of all 32100 pieces, with unknown characters
//     scored min_score - 10 and consecutive unknowns fused into one <unk>;
//  6. truncation to max_length counting the appended </s> (HF's `truncation=True`), then </s>.
// decode() is HF's decode plus transformers' clean_up_tokenization.
//
// Text that is not valid UTF-8 is read with each bad byte as U+FFFD (Python strings cannot hold
// such bytes, so HF never sees them).
//
// Thread-safety: a loaded T5Tokenizer is immutable; its const methods may run concurrently from
// any number of threads (each thread keeps its own scratch buffers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lamp::text {

namespace t5_detail {

// A byte trie mapping strings to ids, edges stored per node in sorted runs.
struct Trie {
  struct Node {
    std::uint32_t first = 0;  // index of the first edge in labels / children
    std::uint32_t count = 0;  // number of edges, labels ascending
    std::int32_t value = -1;  // id of the string ending here, or -1
    std::uint32_t dense = 0;  // for nodes with many edges: 1 + index of a 256-child block
  };
  std::vector<Node> nodes;
  std::vector<std::uint8_t> labels;
  std::vector<std::uint32_t> children;
  std::vector<std::uint32_t> dense;       // 256-entry child blocks, 0 = no edge
  std::uint32_t root_children[256] = {};  // 0 = no edge (the root is never a child)
};

// The Precompiled normalizer's charsmap: a darts-clone double array over UTF-8 keys whose values
// are offsets into a table of NUL-terminated replacement strings.
struct Charsmap {
  std::vector<std::uint32_t> units;
  std::string normalized;
  // For each ASCII byte (a whole grapheme on the fast path): offset of its replacement in
  // `normalized` and its length, or offset -1 when it has none.
  std::int32_t ascii[128] = {};
  std::uint8_t ascii_len[128] = {};
};

}  // namespace t5_detail

class T5Tokenizer {
 public:
  // `path` is a tokenizer.json or a folder holding one. lamp::Error naming the path when it is
  // missing, not JSON, or describes a pipeline this class does not implement (anything but
  // Precompiled [+ Replace " {2,}"], Metaspace and Unigram without byte fallback).
  static T5Tokenizer load(const std::filesystem::path& path);

  // Token ids of `text`: HF's `tokenizer(text, max_length=max_length,
  // truncation=True)["input_ids"]`. max_length <= 0 means no truncation; otherwise at most
  // max_length ids, </s> included when add_eos (add_special_tokens=True). add_eos = false leaves
  // out the post-processor's tokens.
  std::vector<int> encode(std::string_view text, int max_length = -1, bool add_eos = true) const;
  // The same, written into `ids` (cleared first), so a caller can reuse its buffer.
  void encode(std::string_view text, std::vector<int>& ids, int max_length = -1,
              bool add_eos = true) const;

  // HF's `tokenizer.decode(ids, skip_special_tokens, clean_up_tokenization_spaces)`. Ids outside
  // the vocabulary are skipped, as tokenizers does. Flan-T5's tokenizer_config.json sets
  // clean_up_tokenization_spaces to false, so transformers' decode() for that model does no
  // clean-up unless asked: pass false to match its default.
  std::string decode(std::span<const int> ids, bool skip_special_tokens = true,
                     bool clean_up_tokenization_spaces = true) const;

  // The normalizer alone (Precompiled, then space runs collapsed), as tokenizers'
  // `normalizer.normalize_str(text)`.
  std::string normalize(std::string_view text) const;

  // Model pieces and added tokens: one more than the largest id (32100 for Flan-T5).
  int vocab_size() const { return vocab_size_; }
  int eos_id() const { return eos_id_; }
  int pad_id() const { return pad_id_; }
  int unk_id() const { return unk_id_; }
  // What transformers' decode() does by default for this model: tokenizer_config.json's
  // clean_up_tokenization_spaces when the file beside tokenizer.json says, else true.
  bool clean_up_by_default() const { return clean_up_by_default_; }
  // An added token's id first, then a model piece's; nullopt when neither.
  std::optional<int> piece_to_id(std::string_view piece) const;
  // The added token or model piece of `id`; empty when there is none.
  std::string_view id_to_piece(int id) const;

 private:
  struct Scratch;
  enum class Prepend { kAlways, kFirst, kNever };
  struct AddedToken {
    std::string content;
    int id = 0;
    bool special = false;
    bool lstrip = false;
    bool rstrip = false;
    bool single_word = false;
    bool normalized = false;
  };

  using Trie = t5_detail::Trie;
  // A piece of text [begin, end), or an added token matched there when id >= 0.
  struct Span {
    std::size_t begin = 0;
    std::size_t end = 0;
    int id = -1;
  };

  static Scratch& scratch();  // this thread's buffers
  // Normalizer steps appended to `out`; with `metaspace`, spaces come out as the replacement.
  void normalize_into(std::string_view text, bool metaspace, std::string& out) const;
  // HF's AddedVocabulary::find_matches with the tokens of `trie`.
  void split_added(std::string_view text, const Trie& trie, std::vector<Span>& spans) const;
  // These append ids and return false once `limit` ids are reached (the rest would be cut).
  bool encode_segment(std::string_view segment, bool at_origin, std::size_t limit,
                      std::vector<int>& ids, Scratch& scratch) const;
  bool encode_pretokens(std::string_view buffer, std::size_t head, bool at_origin,
                        std::size_t limit, std::vector<int>& ids, Scratch& scratch) const;
  void viterbi(const char* text, std::size_t n, std::vector<int>& ids, Scratch& scratch) const;

  // Model.
  std::vector<std::string> pieces_;
  std::vector<double> scores_;
  Trie piece_trie_;
  double unk_score_ = 0;
  int unk_id_ = 0;

  // Normalizer.
  t5_detail::Charsmap charsmap_;
  bool has_charsmap_ = false;
  bool collapse_spaces_ = false;

  // Pre-tokenizer and decoder.
  Prepend prepend_ = Prepend::kAlways;
  bool split_ = true;
  std::string replacement_ = "\xe2\x96\x81";  // U+2581
  bool has_decoder_ = true;
  Prepend decoder_prepend_ = Prepend::kAlways;
  std::string decoder_replacement_ = "\xe2\x96\x81";

  // Added tokens.
  std::vector<AddedToken> added_;
  Trie raw_added_trie_;         // tokens with normalized = false, matched in the raw text
  Trie normalized_added_trie_;  // tokens with normalized = true, matched after normalization
  bool has_raw_added_ = false;
  bool has_normalized_added_ = false;
  std::vector<int> added_index_by_id_;  // id -> index into added_, or -1
  std::vector<std::uint8_t> special_by_id_;

  // Post-processor.
  std::vector<int> prefix_ids_;
  std::vector<int> suffix_ids_;

  int vocab_size_ = 0;
  int eos_id_ = 1;
  int pad_id_ = 0;
  bool clean_up_by_default_ = true;
};

}  // namespace lamp::text
