#include "lamp/text/t5_tokenizer.h"

#include <simdjson.h>
#include <utf8proc.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <unordered_set>
#include <utility>

#include "lamp/core/error.h"
#include "lamp/text/utf8.h"

namespace lamp::text {

using t5_detail::Charsmap;
using t5_detail::Trie;

namespace {

constexpr double kUnkPenalty = 10.0;      // tokenizers' K_UNK_PENALTY
constexpr std::uint32_t kDenseEdges = 8;  // more edges than this: a direct 256-entry table

// ---- Trie -------------------------------------------------------------------------------------

// Builds the node for entries[lo, hi), which share their first `depth` bytes and are sorted.
std::uint32_t build_node(Trie& trie, const std::vector<std::pair<std::string_view, int>>& entries,
                         std::size_t lo, std::size_t hi, std::size_t depth) {
  auto node = static_cast<std::uint32_t>(trie.nodes.size());
  trie.nodes.emplace_back();
  // Equal strings: the last id wins, as a later insert into tokenizers' HashMap does.
  while (lo < hi && entries[lo].first.size() == depth)
    trie.nodes[node].value = entries[lo++].second;
  std::vector<std::pair<std::size_t, std::size_t>> groups;
  for (std::size_t i = lo; i < hi;) {
    std::size_t j = i + 1;
    while (j < hi && entries[j].first[depth] == entries[i].first[depth]) ++j;
    groups.emplace_back(i, j);
    i = j;
  }
  auto first = static_cast<std::uint32_t>(trie.labels.size());
  trie.nodes[node].first = first;
  trie.nodes[node].count = static_cast<std::uint32_t>(groups.size());
  trie.labels.resize(first + groups.size());
  trie.children.resize(first + groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    auto label = static_cast<std::uint8_t>(entries[groups[g].first].first[depth]);
    std::uint32_t child = build_node(trie, entries, groups[g].first, groups[g].second, depth + 1);
    trie.labels[first + g] = label;
    trie.children[first + g] = child;
  }
  return node;
}

Trie build_trie(std::vector<std::pair<std::string_view, int>> entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Trie trie;
  build_node(trie, entries, 0, entries.size(), 0);
  const Trie::Node& root = trie.nodes[0];
  for (std::uint32_t e = root.first; e < root.first + root.count; ++e) {
    trie.root_children[trie.labels[e]] = trie.children[e];
  }
  // Nodes with many edges (about 500 of Flan-T5's 83k, near the root and after "▁") get a direct
  // table: they are where the Viterbi walks most.
  for (Trie::Node& n : trie.nodes) {
    if (n.count <= kDenseEdges) continue;
    n.dense = static_cast<std::uint32_t>(trie.dense.size() / 256 + 1);
    std::size_t base = trie.dense.size();
    trie.dense.resize(base + 256, 0);
    for (std::uint32_t e = n.first; e < n.first + n.count; ++e) {
      trie.dense[base + trie.labels[e]] = trie.children[e];
    }
  }
  return trie;
}

// The child of `node` along byte `b`, or 0 when there is none.
inline std::uint32_t trie_child(const Trie& trie, std::uint32_t node, unsigned char b) {
  if (node == 0) return trie.root_children[b];
  const Trie::Node& n = trie.nodes[node];
  if (n.dense != 0) return trie.dense[(n.dense - 1) * 256 + b];
  const std::uint8_t* begin = trie.labels.data() + n.first;
  const std::uint8_t* end = begin + n.count;
  if (n.count <= kDenseEdges) {
    for (const std::uint8_t* p = begin; p != end; ++p) {
      if (*p == b) return trie.children[n.first + (p - begin)];
    }
    return 0;
  }
  const std::uint8_t* p = std::lower_bound(begin, end, b);
  return p != end && *p == b ? trie.children[n.first + (p - begin)] : 0;
}

int trie_find(const Trie& trie, std::string_view key) {
  if (trie.nodes.empty()) return -1;
  std::uint32_t node = 0;
  for (char c : key) {
    node = trie_child(trie, node, static_cast<unsigned char>(c));
    if (node == 0) return -1;
  }
  return trie.nodes[node].value;
}

// ---- Charsmap (darts-clone double array, as SentencePiece writes it) --------------------------

inline bool unit_has_leaf(std::uint32_t u) { return ((u >> 8) & 1) == 1; }
inline std::uint32_t unit_value(std::uint32_t u) { return u & ((1u << 31) - 1); }
inline std::uint32_t unit_label(std::uint32_t u) { return u & ((1u << 31) | 0xFF); }
inline std::uint32_t unit_offset(std::uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

// The replacement of the *shortest* key that prefixes [p, p + n), as spm_precompiled's
// transform() takes the first common-prefix-search result. False when no key prefixes it.
bool charsmap_lookup(const Charsmap& cm, const unsigned char* p, std::size_t n,
                     std::string_view& replacement) {
  const std::vector<std::uint32_t>& a = cm.units;
  if (a.empty()) return false;
  std::size_t pos = unit_offset(a[0]);
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char c = p[i];
    if (c == 0) return false;
    pos ^= c;
    if (pos >= a.size()) return false;
    std::uint32_t unit = a[pos];
    if (unit_label(unit) != c) return false;
    pos ^= unit_offset(unit);
    if (pos >= a.size()) return false;
    if (unit_has_leaf(unit)) {
      std::size_t begin = unit_value(a[pos]);
      const std::string& table = cm.normalized;
      if (begin >= table.size()) {
        replacement = {};
      } else {
        const void* nul = std::memchr(table.data() + begin, 0, table.size() - begin);
        std::size_t end = nul ? static_cast<const char*>(nul) - table.data() : table.size();
        replacement = std::string_view(table).substr(begin, end - begin);
      }
      return true;
    }
  }
  return false;
}

// ---- UTF-8 helpers ----------------------------------------------------------------------------

inline std::size_t utf8_len(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
std::size_t valid_sequence(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

void sanitize_utf8(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size();) {
    std::size_t len = valid_sequence(text, i);
    if (len == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
}

// Grapheme boundaries come from utf8proc (Unicode 15.0 in 2.8), while tokenizers uses the Rust
// crate unicode-segmentation with a newer Unicode. The code points whose grapheme break class
// differs in a way the Precompiled normalizer can see were found by probing tokenizers 0.23.3 over
// every code point (X after a combining sequence, X before one, X after NBSP): they are handed to
// utf8proc as a stand-in of the newer class (U+0300 Extend, U+0600 Prepend, U+4E00 Other).
struct GraphemeProxy {
  char32_t first;
  char32_t last;
  char32_t proxy;
};
constexpr GraphemeProxy kGraphemeProxies[] = {
    {0x0897, 0x0897, 0x0300},   {0x1ACF, 0x1ADD, 0x0300},   {0x1AE0, 0x1AEB, 0x0300},
    {0x10D69, 0x10D6D, 0x0300}, {0x10EFA, 0x10EFC, 0x0300}, {0x113B8, 0x113C0, 0x0300},
    {0x113C2, 0x113C2, 0x0300}, {0x113C5, 0x113C5, 0x0300}, {0x113C7, 0x113CA, 0x0300},
    {0x113CC, 0x113D0, 0x0300}, {0x113D1, 0x113D1, 0x0600}, {0x113D2, 0x113D2, 0x0300},
    {0x113E1, 0x113E2, 0x0300}, {0x11A3A, 0x11A3A, 0x4E00}, {0x11B60, 0x11B67, 0x0300},
    {0x11F5A, 0x11F5A, 0x0300}, {0x1611E, 0x1612F, 0x0300}, {0x1E5EE, 0x1E5EF, 0x0300},
    {0x1E6E3, 0x1E6E3, 0x0300}, {0x1E6E6, 0x1E6E6, 0x0300}, {0x1E6EE, 0x1E6EF, 0x0300},
    {0x1E6F5, 0x1E6F5, 0x0300},
};

inline utf8proc_int32_t grapheme_class_of(char32_t c) {
  if (c >= 0x0897 && c <= 0x1E6F5) {
    const GraphemeProxy* end = std::end(kGraphemeProxies);
    const GraphemeProxy* p =
        std::upper_bound(std::begin(kGraphemeProxies), end, c,
                         [](char32_t v, const GraphemeProxy& g) { return v < g.first; });
    if (p != std::begin(kGraphemeProxies) && c <= (p - 1)->last) c = (p - 1)->proxy;
  }
  return static_cast<utf8proc_int32_t>(c);
}

// Rust's char::is_whitespace (the Unicode White_Space property).
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// regex's \w, close enough for single_word added tokens: letters, marks, decimal and letter
// numbers, connector punctuation, ZWNJ and ZWJ.
bool is_word_char(char32_t c) {
  if (c == 0x200C || c == 0x200D) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

char32_t last_code_point(std::string_view s) {
  std::size_t i = s.size();
  while (i > 0 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) --i;
  if (i == 0) return 0;
  --i;
  return next_code_point(s, i);
}

// ---- base64 -----------------------------------------------------------------------------------

bool base64_decode(std::string_view in, std::string& out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out.clear();
  out.reserve(in.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

// Python's str.replace(from, to): non-overlapping, left to right.
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::size_t pos = s.find(from);
  if (pos == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  std::size_t last = 0;
  for (; pos != std::string::npos; pos = s.find(from, last)) {
    out.append(s, last, pos - last);
    out.append(to);
    last = pos + from.size();
  }
  out.append(s, last, std::string::npos);
  s.swap(out);
}

}  // namespace

// ---- Scratch ----------------------------------------------------------------------------------

struct T5Tokenizer::Scratch {
  std::string sanitized;
  std::string norm;
  std::string word;
  std::vector<Span> spans;
  std::vector<Span> sub_spans;
  std::vector<double> score;
  std::vector<std::int32_t> start;
  std::vector<std::int32_t> id;
  std::vector<int> reversed;
};

T5Tokenizer::Scratch& T5Tokenizer::scratch() {
  thread_local Scratch s;
  return s;
}

// ---- Loading ----------------------------------------------------------------------------------

namespace {

struct Loader {
  std::string file;

  [[noreturn]] void fail(const std::string& message) const {
    throw Error(Location{.file = file}, message);
  }

  simdjson::dom::element at(simdjson::dom::element e, const char* key) const {
    simdjson::dom::element out;
    if (e.at_key(key).get(out) != simdjson::SUCCESS) {
      fail(std::string("missing field \"") + key + "\"");
    }
    return out;
  }
  std::string_view string(simdjson::dom::element e, const char* what) const {
    std::string_view out;
    if (e.get_string().get(out) != simdjson::SUCCESS) fail(std::string(what) + " is not a string");
    return out;
  }
  bool flag(simdjson::dom::element obj, const char* key, bool fallback) const {
    simdjson::dom::element e;
    if (obj.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return fallback;
    bool out;
    if (e.get_bool().get(out) != simdjson::SUCCESS) fail(std::string(key) + " is not a boolean");
    return out;
  }
  simdjson::dom::array array(simdjson::dom::element e, const char* what) const {
    simdjson::dom::array out;
    if (e.get_array().get(out) != simdjson::SUCCESS) fail(std::string(what) + " is not an array");
    return out;
  }
};

}  // namespace

T5Tokenizer T5Tokenizer::load(const std::filesystem::path& path) {
  std::filesystem::path file = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) file = path / "tokenizer.json";
  Loader L{file.string()};
  simdjson::padded_string json;
  if (simdjson::padded_string::load(file.string()).get(json) != simdjson::SUCCESS) {
    L.fail("cannot read the tokenizer file");
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(json).get(doc); err != simdjson::SUCCESS) {
    L.fail(std::string("not valid JSON: ") + simdjson::error_message(err));
  }

  T5Tokenizer t;

  // Model: Unigram.
  simdjson::dom::element model = L.at(doc, "model");
  if (L.string(L.at(model, "type"), "model.type") != "Unigram") {
    L.fail("model.type is not \"Unigram\"");
  }
  if (L.flag(model, "byte_fallback", false)) L.fail("Unigram byte_fallback is not supported");
  double min_score = std::numeric_limits<double>::infinity();
  for (simdjson::dom::element entry : L.array(L.at(model, "vocab"), "model.vocab")) {
    simdjson::dom::array pair = L.array(entry, "a model.vocab entry");
    if (pair.size() != 2) L.fail("a model.vocab entry is not [piece, score]");
    double score;
    if (pair.at(1).get_double().get(score) != simdjson::SUCCESS) {
      L.fail("a model.vocab score is not a number");
    }
    t.pieces_.emplace_back(L.string(pair.at(0), "a model.vocab piece"));
    t.scores_.push_back(score);
    min_score = std::min(min_score, score);
  }
  if (t.pieces_.empty()) L.fail("model.vocab is empty");
  t.unk_score_ = min_score - kUnkPenalty;
  {
    simdjson::dom::element unk = L.at(model, "unk_id");
    std::int64_t unk_id;
    if (unk.is_null() || unk.get_int64().get(unk_id) != simdjson::SUCCESS || unk_id < 0 ||
        unk_id >= static_cast<std::int64_t>(t.pieces_.size())) {
      L.fail("model.unk_id is not a piece id");
    }
    t.unk_id_ = static_cast<int>(unk_id);
  }
  {
    std::vector<std::pair<std::string_view, int>> entries;
    entries.reserve(t.pieces_.size());
    for (std::size_t i = 0; i < t.pieces_.size(); ++i) {
      entries.emplace_back(t.pieces_[i], static_cast<int>(i));
    }
    t.piece_trie_ = build_trie(std::move(entries));
  }

  // Normalizer: Precompiled, optionally followed by Replace(" {2,}", " ").
  simdjson::dom::element normalizer = L.at(doc, "normalizer");
  if (!normalizer.is_null()) {
    std::vector<simdjson::dom::element> steps;
    std::string_view type = L.string(L.at(normalizer, "type"), "normalizer.type");
    if (type == "Sequence") {
      for (simdjson::dom::element step : L.array(L.at(normalizer, "normalizers"), "normalizers")) {
        steps.push_back(step);
      }
    } else {
      steps.push_back(normalizer);
    }
    for (std::size_t i = 0; i < steps.size(); ++i) {
      std::string_view step_type = L.string(L.at(steps[i], "type"), "normalizer type");
      if (step_type == "Precompiled" && i == 0) {
        std::string blob;
        if (!base64_decode(L.string(L.at(steps[i], "precompiled_charsmap"), "precompiled_charsmap"),
                           blob) ||
            blob.size() < 4) {
          L.fail("precompiled_charsmap is not valid base64");
        }
        std::uint32_t trie_size = 0;
        for (int b = 3; b >= 0; --b) {
          trie_size = (trie_size << 8) | static_cast<unsigned char>(blob[b]);
        }
        if (trie_size % 4 != 0 || trie_size == 0 || 4 + std::size_t{trie_size} > blob.size()) {
          L.fail("precompiled_charsmap has a bad trie size");
        }
        Charsmap& cm = t.charsmap_;
        cm.units.resize(trie_size / 4);
        for (std::size_t u = 0; u < cm.units.size(); ++u) {
          std::uint32_t v = 0;
          for (int b = 3; b >= 0; --b)
            v = (v << 8) | static_cast<unsigned char>(blob[4 + 4 * u + b]);
          cm.units[u] = v;
        }
        cm.normalized = blob.substr(4 + trie_size);
        for (int c = 0; c < 128; ++c) {
          auto byte = static_cast<unsigned char>(c);
          std::string_view repl;
          if (charsmap_lookup(cm, &byte, 1, repl)) {
            cm.ascii[c] = static_cast<std::int32_t>(repl.data() - cm.normalized.data());
            cm.ascii_len[c] = static_cast<std::uint8_t>(std::min<std::size_t>(repl.size(), 255));
            if (repl.empty()) cm.ascii[c] = 0;  // an empty replacement: any offset will do
          } else {
            cm.ascii[c] = -1;
          }
        }
        t.has_charsmap_ = true;
      } else if (step_type == "Replace" && !t.collapse_spaces_) {
        simdjson::dom::element pattern = L.at(steps[i], "pattern");
        std::string_view regex;
        if (pattern.at_key("Regex").get_string().get(regex) != simdjson::SUCCESS ||
            regex != " {2,}" || L.string(L.at(steps[i], "content"), "Replace content") != " ") {
          L.fail("only the normalizer Replace(Regex \" {2,}\", \" \") is supported");
        }
        t.collapse_spaces_ = true;
      } else {
        L.fail("unsupported normalizer \"" + std::string(step_type) + "\"");
      }
    }
  }

  // Pre-tokenizer and decoder: Metaspace.
  auto read_metaspace = [&](simdjson::dom::element e, const char* what, std::string& replacement,
                            Prepend& prepend, bool* split) {
    if (L.string(L.at(e, "type"), what) != "Metaspace") {
      L.fail(std::string(what) + " is not \"Metaspace\"");
    }
    replacement = L.string(L.at(e, "replacement"), "Metaspace replacement");
    std::size_t pos = 0;
    if (replacement.empty() || (next_code_point(replacement, pos), pos != replacement.size())) {
      L.fail("the Metaspace replacement is not one character");
    }
    std::string_view scheme;
    simdjson::dom::element s;
    if (e.at_key("prepend_scheme").get(s) == simdjson::SUCCESS &&
        s.get_string().get(scheme) == simdjson::SUCCESS) {
      if (scheme == "always") {
        prepend = Prepend::kAlways;
      } else if (scheme == "first") {
        prepend = Prepend::kFirst;
      } else if (scheme == "never") {
        prepend = Prepend::kNever;
      } else {
        L.fail("unknown Metaspace prepend_scheme \"" + std::string(scheme) + "\"");
      }
    } else {
      prepend = L.flag(e, "add_prefix_space", true) ? Prepend::kAlways : Prepend::kNever;
    }
    if (split) *split = L.flag(e, "split", true);
  };
  read_metaspace(L.at(doc, "pre_tokenizer"), "pre_tokenizer.type", t.replacement_, t.prepend_,
                 &t.split_);
  simdjson::dom::element decoder = L.at(doc, "decoder");
  t.has_decoder_ = !decoder.is_null();
  if (t.has_decoder_) {
    read_metaspace(decoder, "decoder.type", t.decoder_replacement_, t.decoder_prepend_, nullptr);
  }

  // Added tokens.
  int max_id = static_cast<int>(t.pieces_.size()) - 1;
  simdjson::dom::element added;
  if (doc.at_key("added_tokens").get(added) == simdjson::SUCCESS && !added.is_null()) {
    for (simdjson::dom::element e : L.array(added, "added_tokens")) {
      AddedToken a;
      a.content = std::string(L.string(L.at(e, "content"), "added token content"));
      std::int64_t id;
      if (L.at(e, "id").get_int64().get(id) != simdjson::SUCCESS || id < 0 || id > (1 << 30)) {
        L.fail("added token \"" + a.content + "\" has a bad id");
      }
      if (a.content.empty()) L.fail("an added token is empty");
      a.id = static_cast<int>(id);
      a.special = L.flag(e, "special", false);
      a.lstrip = L.flag(e, "lstrip", false);
      a.rstrip = L.flag(e, "rstrip", false);
      a.single_word = L.flag(e, "single_word", false);
      a.normalized = L.flag(e, "normalized", !a.special);
      max_id = std::max(max_id, a.id);
      t.added_.push_back(std::move(a));
    }
  }
  t.vocab_size_ = max_id + 1;
  t.added_index_by_id_.assign(t.vocab_size_, -1);
  {
    std::vector<std::pair<std::string_view, int>> raw, normalized;
    std::vector<std::string> normalized_contents;
    normalized_contents.reserve(t.added_.size());
    for (std::size_t i = 0; i < t.added_.size(); ++i) {
      const AddedToken& a = t.added_[i];
      t.added_index_by_id_[a.id] = static_cast<int>(i);
      if (a.normalized) {
        // Matched in normalized text whose spaces already read as the Metaspace replacement.
        std::string n;
        t.normalize_into(a.content, true, n);
        normalized_contents.push_back(std::move(n));
      }
    }
    std::size_t k = 0;
    for (std::size_t i = 0; i < t.added_.size(); ++i) {
      const AddedToken& a = t.added_[i];
      if (!a.normalized) {
        raw.emplace_back(a.content, static_cast<int>(i));
      } else if (!normalized_contents[k].empty()) {
        normalized.emplace_back(normalized_contents[k++], static_cast<int>(i));
      } else {
        ++k;
      }
    }
    t.has_raw_added_ = !raw.empty();
    t.has_normalized_added_ = !normalized.empty();
    t.raw_added_trie_ = build_trie(std::move(raw));
    t.normalized_added_trie_ = build_trie(std::move(normalized));
  }
  {
    std::unordered_set<std::string_view> special;
    for (const AddedToken& a : t.added_) {
      if (a.special) special.insert(a.content);
    }
    t.special_by_id_.assign(t.vocab_size_, 0);
    for (int id = 0; id < t.vocab_size_; ++id) {
      std::string_view piece = t.id_to_piece(id);
      t.special_by_id_[id] = !piece.empty() && special.count(piece) ? 1 : 0;
    }
  }

  // Post-processor: TemplateProcessing around the single sequence.
  simdjson::dom::element post = L.at(doc, "post_processor");
  if (!post.is_null()) {
    if (L.string(L.at(post, "type"), "post_processor.type") != "TemplateProcessing") {
      L.fail("post_processor.type is not \"TemplateProcessing\"");
    }
    simdjson::dom::element specials = L.at(post, "special_tokens");
    bool seen_sequence = false;
    for (simdjson::dom::element item : L.array(L.at(post, "single"), "post_processor.single")) {
      simdjson::dom::element special;
      if (item.at_key("Sequence").error() == simdjson::SUCCESS) {
        seen_sequence = true;
      } else if (item.at_key("SpecialToken").get(special) == simdjson::SUCCESS) {
        std::string_view name = L.string(L.at(special, "id"), "SpecialToken id");
        simdjson::dom::element def;
        if (specials.at_key(name).get(def) != simdjson::SUCCESS) {
          L.fail("post_processor special token \"" + std::string(name) + "\" is not defined");
        }
        for (simdjson::dom::element id : L.array(L.at(def, "ids"), "special token ids")) {
          std::int64_t v;
          if (id.get_int64().get(v) != simdjson::SUCCESS || v < 0 || v >= t.vocab_size_) {
            L.fail("post_processor special token \"" + std::string(name) + "\" has a bad id");
          }
          (seen_sequence ? t.suffix_ids_ : t.prefix_ids_).push_back(static_cast<int>(v));
        }
      } else {
        L.fail("unknown item in post_processor.single");
      }
    }
  }

  std::optional<int> eos = t.piece_to_id("</s>");
  t.eos_id_ = !t.suffix_ids_.empty() ? t.suffix_ids_.back() : eos ? *eos : -1;
  t.pad_id_ = t.piece_to_id("<pad>").value_or(-1);

  // transformers reads clean_up_tokenization_spaces from tokenizer_config.json beside
  // tokenizer.json; without the key, versions up to 4.44 (the LaMP era) default to true.
  std::filesystem::path config = file.parent_path() / "tokenizer_config.json";
  simdjson::padded_string config_json;
  if (std::filesystem::exists(config, ec) &&
      simdjson::padded_string::load(config.string()).get(config_json) == simdjson::SUCCESS) {
    simdjson::dom::parser config_parser;
    simdjson::dom::element config_doc;
    bool flag;
    if (config_parser.parse(config_json).get(config_doc) == simdjson::SUCCESS &&
        config_doc["clean_up_tokenization_spaces"].get_bool().get(flag) == simdjson::SUCCESS) {
      t.clean_up_by_default_ = flag;
    }
  }
  return t;
}

// ---- Lookups ----------------------------------------------------------------------------------

std::optional<int> T5Tokenizer::piece_to_id(std::string_view piece) const {
  for (const AddedToken& a : added_) {
    if (a.content == piece) return a.id;
  }
  int id = trie_find(piece_trie_, piece);
  if (id >= 0) return id;
  return std::nullopt;
}

std::string_view T5Tokenizer::id_to_piece(int id) const {
  if (id < 0 || id >= vocab_size_) return {};
  if (int a = added_index_by_id_[id]; a >= 0) return added_[a].content;
  if (id < static_cast<int>(pieces_.size())) return pieces_[id];
  return {};
}

// ---- Normalization ----------------------------------------------------------------------------

void T5Tokenizer::normalize_into(std::string_view text, bool metaspace, std::string& out) const {
  const std::string_view space = metaspace ? std::string_view(replacement_) : " ";
  bool last_space = false;  // for Replace(" {2,}", " ")
  auto put_byte = [&](char b) {
    if (b == ' ') {
      if (collapse_spaces_ && last_space) return;
      out.append(space);
      last_space = true;
    } else {
      out.push_back(b);
      last_space = false;
    }
  };
  auto put = [&](std::string_view s) {
    for (char b : s) put_byte(b);
  };
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  if (!has_charsmap_) {
    put(text);
    return;
  }
  const Charsmap& cm = charsmap_;
  std::size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    // An ASCII character followed by an ASCII one (but not CR LF) is a grapheme on its own.
    if (c < 0x80 && (i + 1 == n || (s[i + 1] < 0x80 && !(c == '\r' && s[i + 1] == '\n')))) {
      if (cm.ascii[c] >= 0) {
        put(std::string_view(cm.normalized).substr(cm.ascii[c], cm.ascii_len[c]));
      } else {
        put_byte(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    // The extended grapheme cluster starting at i.
    std::size_t j = i;
    char32_t prev = next_code_point(text, j);
    utf8proc_int32_t state = 0;
    while (j < n) {
      std::size_t k = j;
      char32_t cp = next_code_point(text, k);
      if (utf8proc_grapheme_break_stateful(grapheme_class_of(prev), grapheme_class_of(cp),
                                           &state)) {
        break;
      }
      prev = cp;
      j = k;
    }
    std::string_view repl;
    if (j - i < 6 && charsmap_lookup(cm, s + i, j - i, repl)) {
      put(repl);
      i = j;
      continue;
    }
    for (std::size_t k = i; k < j;) {
      std::size_t len = std::min(utf8_len(s[k]), j - k);
      if (charsmap_lookup(cm, s + k, len, repl)) {
        put(repl);
      } else {
        put(text.substr(k, len));
      }
      k += len;
    }
    i = j;
  }
}

std::string T5Tokenizer::normalize(std::string_view text) const {
  Scratch& sc = scratch();
  if (!simdjson::validate_utf8(text.data(), text.size())) {
    sanitize_utf8(text, sc.sanitized);
    text = sc.sanitized;
  }
  std::string out;
  normalize_into(text, false, out);
  return out;
}

// ---- Added tokens -----------------------------------------------------------------------------

void T5Tokenizer::split_added(std::string_view text, const Trie& trie,
                              std::vector<Span>& spans) const {
  spans.clear();
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t start_offset = 0;
  std::size_t i = 0;
  while (i < n) {
    // The longest added token starting at i (aho-corasick's leftmost-longest find_iter).
    std::uint32_t node = trie.root_children[s[i]];
    if (node == 0) {
      ++i;
      continue;
    }
    int match = -1;
    std::size_t match_end = 0;
    for (std::size_t k = i + 1;; ++k) {
      if (trie.nodes[node].value >= 0) {
        match = trie.nodes[node].value;
        match_end = k;
      }
      if (k == n) break;
      node = trie_child(trie, node, s[k]);
      if (node == 0) break;
    }
    if (match < 0) {
      ++i;
      continue;
    }
    const AddedToken& a = added_[match];
    std::size_t start = i;
    std::size_t stop = match_end;
    i = match_end;
    if (a.single_word) {
      bool start_space = start == 0 || !is_word_char(last_code_point(text.substr(0, start)));
      std::size_t p = stop;
      bool stop_space = stop == n || !is_word_char(next_code_point(text, p));
      if (!start_space || !stop_space) continue;
    }
    if (a.lstrip) {
      std::size_t new_start = start;
      while (new_start > 0) {
        char32_t c = last_code_point(text.substr(0, new_start));
        if (!is_white_space(c)) break;
        while (new_start > 0 && (s[new_start - 1] & 0xC0) == 0x80) --new_start;
        --new_start;
      }
      start = std::max(new_start, start_offset);
    }
    if (a.rstrip) {
      while (stop < n) {
        std::size_t p = stop;
        if (!is_white_space(next_code_point(text, p))) break;
        stop = p;
      }
    }
    if (start < start_offset) continue;  // overlaps what an rstrip already took
    if (start_offset < start) spans.push_back({start_offset, start, -1});
    spans.push_back({start, stop, a.id});
    start_offset = stop;
    i = std::max(i, stop);
  }
  if (start_offset < n) spans.push_back({start_offset, n, -1});
}

// ---- Encoding ---------------------------------------------------------------------------------

std::vector<int> T5Tokenizer::encode(std::string_view text, int max_length, bool add_eos) const {
  std::vector<int> ids;
  encode(text, ids, max_length, add_eos);
  return ids;
}

void T5Tokenizer::encode(std::string_view text, std::vector<int>& ids, int max_length,
                         bool add_eos) const {
  ids.clear();
  Scratch& sc = scratch();
  if (!simdjson::validate_utf8(text.data(), text.size())) {
    sanitize_utf8(text, sc.sanitized);
    text = sc.sanitized;
  }
  const std::size_t n_added = add_eos ? prefix_ids_.size() + suffix_ids_.size() : 0;
  std::size_t limit = std::numeric_limits<std::size_t>::max();
  if (max_length > 0) {
    auto m = static_cast<std::size_t>(max_length);
    limit = m > n_added ? m - n_added : 0;
  }
  if (has_raw_added_) {
    split_added(text, raw_added_trie_, sc.spans);
  } else {
    sc.spans.clear();
    if (!text.empty()) sc.spans.push_back({0, text.size(), -1});
  }
  for (const Span& span : sc.spans) {
    if (ids.size() >= limit) break;
    if (span.id >= 0) {
      ids.push_back(span.id);
    } else if (!encode_segment(text.substr(span.begin, span.end - span.begin), span.begin == 0,
                               limit, ids, sc)) {
      break;
    }
  }
  if (ids.size() > limit) ids.resize(limit);
  if (add_eos) {
    ids.insert(ids.begin(), prefix_ids_.begin(), prefix_ids_.end());
    ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
  }
}

bool T5Tokenizer::encode_segment(std::string_view segment, bool at_origin, std::size_t limit,
                                 std::vector<int>& ids, Scratch& sc) const {
  // sc.norm starts with one replacement character, so that a prepended "▁" costs no copy.
  const std::size_t head = replacement_.size();
  sc.norm.assign(replacement_);
  normalize_into(segment, true, sc.norm);
  if (sc.norm.size() == head) return true;  // empty once normalized: no pre-tokens
  std::string_view norm(sc.norm);
  if (!has_normalized_added_) {
    return encode_pretokens(norm, head, at_origin, limit, ids, sc);
  }
  split_added(norm.substr(head), normalized_added_trie_, sc.sub_spans);
  for (const Span& span : sc.sub_spans) {
    if (ids.size() >= limit) return false;
    if (span.id >= 0) {
      ids.push_back(span.id);
      continue;
    }
    sc.word.assign(replacement_);
    sc.word.append(norm.substr(head + span.begin, span.end - span.begin));
    if (!encode_pretokens(sc.word, head, at_origin && span.begin == 0, limit, ids, sc)) {
      return false;
    }
  }
  return true;
}

bool T5Tokenizer::encode_pretokens(std::string_view buffer, std::size_t head, bool at_origin,
                                   std::size_t limit, std::vector<int>& ids, Scratch& sc) const {
  // buffer = replacement + normalized text with spaces already replaced.
  std::string_view text = buffer.substr(head);
  bool prepend = prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && at_origin);
  if (prepend && !text.starts_with(replacement_)) text = buffer;
  if (!split_) {
    viterbi(text.data(), text.size(), ids, sc);
    return ids.size() < limit;
  }
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find(replacement_, pos + 1);
    if (end == std::string_view::npos) end = text.size();
    viterbi(text.data() + pos, end - pos, ids, sc);
    if (ids.size() >= limit) return false;
    pos = end;
  }
  return true;
}

void T5Tokenizer::viterbi(const char* text, std::size_t n, std::vector<int>& ids,
                          Scratch& sc) const {
  if (n == 0) return;
  const auto* s = reinterpret_cast<const unsigned char*>(text);
  sc.score.assign(n + 1, 0.0);
  sc.start.assign(n + 1, -1);
  sc.id.assign(n + 1, -1);
  double* best = sc.score.data();
  std::int32_t* from = sc.start.data();
  std::int32_t* id = sc.id.data();
  const Trie& trie = piece_trie_;
  for (std::size_t at = 0; at < n;) {
    const double here = best[at];
    const std::size_t char_len = std::min(utf8_len(s[at]), n - at);
    bool has_single = false;
    std::uint32_t node = 0;
    for (std::size_t k = at; k < n; ++k) {
      node = trie_child(trie, node, s[k]);
      if (node == 0) break;
      int piece = trie.nodes[node].value;
      if (piece < 0) continue;
      std::size_t end = k + 1;
      double candidate = scores_[piece] + here;
      // Strictly better only: among equal scores the shorter piece, found first, stays.
      if (from[end] < 0 || candidate > best[end]) {
        best[end] = candidate;
        from[end] = static_cast<std::int32_t>(at);
        id[end] = piece;
      }
      if (end - at == char_len) has_single = true;
    }
    if (!has_single) {
      std::size_t end = at + char_len;
      double candidate = unk_score_ + here;
      if (from[end] < 0 || candidate > best[end]) {
        best[end] = candidate;
        from[end] = static_cast<std::int32_t>(at);
        id[end] = unk_id_;
      }
    }
    at += char_len;
  }
  // Back from the end; consecutive unknowns fuse into one token, which keeps the unk id unless
  // the fused text happens to be a piece (tokenizers looks the string up again).
  sc.reversed.clear();
  std::size_t end = n;
  std::size_t unk_end = 0;
  bool in_unk = false;
  auto flush_unk = [&](std::size_t unk_start) {
    int fused = trie_find(trie, std::string_view(text + unk_start, unk_end - unk_start));
    sc.reversed.push_back(fused >= 0 ? fused : unk_id_);
    in_unk = false;
  };
  while (end > 0) {
    auto start = static_cast<std::size_t>(from[end]);
    if (id[end] == unk_id_) {
      if (!in_unk) {
        in_unk = true;
        unk_end = end;
      }
    } else {
      if (in_unk) flush_unk(end);
      sc.reversed.push_back(id[end]);
    }
    end = start;
  }
  if (in_unk) flush_unk(0);
  ids.insert(ids.end(), sc.reversed.rbegin(), sc.reversed.rend());
}

// ---- Decoding ---------------------------------------------------------------------------------

std::string T5Tokenizer::decode(std::span<const int> ids, bool skip_special_tokens,
                                bool clean_up_tokenization_spaces) const {
  std::string out;
  std::size_t index = 0;  // position among the tokens kept
  for (int id : ids) {
    std::string_view piece = id_to_piece(id);
    if (piece.empty()) continue;
    if (skip_special_tokens && special_by_id_[id]) continue;
    if (!has_decoder_) {
      if (index > 0) out.push_back(' ');
      out.append(piece);
    } else {
      // Metaspace decoder: the replacement reads as a space, except in the first token.
      const bool drop = index == 0 && decoder_prepend_ != Prepend::kNever;
      const std::string_view r = decoder_replacement_;
      for (std::size_t pos = 0; pos < piece.size();) {
        if (piece.compare(pos, r.size(), r) == 0) {
          if (!drop) out.push_back(' ');
          pos += r.size();
        } else {
          out.push_back(piece[pos++]);
        }
      }
    }
    ++index;
  }
  if (clean_up_tokenization_spaces) {
    // transformers' PreTrainedTokenizerBase.clean_up_tokenization, in its order.
    static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
        {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
        {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : kRules) replace_all(out, from, to);
  }
  return out;
}

}  // namespace lamp::text
