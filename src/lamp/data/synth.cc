#include "lamp/data/synth.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/random.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/data/json_io.h"

namespace lamp {
namespace {

// ---- Randomness: integer-only, so every platform produces the same bytes. ----

// The high and low halves of a * b, without relying on a 128-bit integer type.
void multiply_wide(std::uint64_t a, std::uint64_t b, std::uint64_t& hi, std::uint64_t& lo) {
  const std::uint64_t mask = 0xffffffffull;
  std::uint64_t p0 = (a & mask) * (b & mask), p1 = (a & mask) * (b >> 32);
  std::uint64_t p2 = (a >> 32) * (b & mask), p3 = (a >> 32) * (b >> 32);
  std::uint64_t mid = (p0 >> 32) + (p1 & mask) + (p2 & mask);
  lo = (mid << 32) | (p0 & mask);
  hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
}

// xoshiro256** (Blackman and Vigna), seeded through splitmix64 as its authors recommend.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (std::uint64_t& word : s_) word = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Exactly uniform in [0, n) for n >= 1: Lemire's multiply-and-reject, so no modulo bias and
  // (almost always) no division.
  std::uint64_t below(std::uint64_t n) {
    std::uint64_t hi, lo;
    multiply_wide(next(), n, hi, lo);
    if (lo < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (lo < threshold) multiply_wide(next(), n, hi, lo);
    }
    return hi;
  }
  std::size_t between(std::size_t lo, std::size_t hi) { return lo + below(hi - lo + 1); }
  bool chance(unsigned permille) { return below(1000) < permille; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// Draws ranks 0..n-1 with weights ~ 1/(rank + offset) (Zipf-Mandelbrot, s = 1), in integers.
// A larger offset flattens the head. A guide table (the first rank past each 2^shift_ slice of
// the cumulative weights) leaves about one step of search per draw.
class Zipf {
 public:
  Zipf(std::size_t n, std::size_t offset) {
    std::uint64_t total = 0;
    for (std::size_t rank = 0; rank < n; ++rank) {
      total += (std::uint64_t{1} << 32) / (rank + offset);
      cumulative_.push_back(total);
    }
    while ((total >> shift_) > 2 * n) ++shift_;
    std::size_t rank = 0;
    for (std::uint64_t slice = 0; slice <= (total >> shift_); ++slice) {
      while (cumulative_[rank] <= slice << shift_) ++rank;
      guide_.push_back(static_cast<std::uint32_t>(rank));
    }
  }
  std::size_t draw(Rng& rng) const {
    const std::uint64_t u = rng.below(cumulative_.back());
    std::size_t rank = guide_[u >> shift_];
    while (cumulative_[rank] <= u) ++rank;
    return rank;
  }

 private:
  std::vector<std::uint64_t> cumulative_;
  std::vector<std::uint32_t> guide_;
  int shift_ = 0;
};

// ---- What each task's text looks like: its real data's lengths, in words. ----

enum class Style { kTitle, kProse };

struct FieldShape {
  std::uint16_t min_words = 0, max_words = 0;
  Style style = Style::kProse;
  // Built from the rest of its item's text (a headline from its article), as real titles are.
  bool derived = false;
};

struct TaskShape {
  std::string_view task;
  FieldShape input;         // each "{}" of the input template
  FieldShape output;        // generation tasks: derived from the input
  unsigned output_overlap;  // permille of a derived text's content words taken from its source
  std::array<FieldShape, kMaxProfileFields> fields;  // registry order; label fields are unused
};

// Uniform ranges around the means the LaMP paper reports (its Table 1 input and output lengths,
// less the template's words): headlines ~10 words, news articles ~23, abstracts ~150, reviews
// ~125, emails ~200, tweets ~19.
constexpr FieldShape kHeadline{7, 13, Style::kTitle, true};

// Rows are data like the registry's: a task missing here gets kGenericShape.
constexpr std::array<TaskShape, 8> kShapes = {{
    {"LaMP-1", {5, 11, Style::kTitle}, {}, 500, {{{5, 11, Style::kTitle, true}, {110, 200}}}},
    {"LaMP-2", {15, 60}, {}, 500, {{{15, 60}, {}}}},
    {"LaMP-3", {50, 200}, {}, 500, {{{50, 200}, {}}}},
    {"LaMP-4", {12, 34}, kHeadline, 500, {{kHeadline, {12, 34}}}},
    {"LaMP-5",
     {110, 200},
     {6, 13, Style::kTitle, true},
     500,
     {{{6, 13, Style::kTitle, true}, {110, 200}}}},
    {"LaMP-6",
     {50, 350},
     {4, 11, Style::kTitle, true},
     500,
     {{{4, 11, Style::kTitle, true}, {50, 350}}}},
    // A paraphrase keeps most of its tweet's words.
    {"LaMP-7", {12, 26}, {11, 23, Style::kProse, true}, 700, {{{12, 26}}}},
    {"LaMP-2N", {12, 34}, {}, 500, {{kHeadline, {12, 34}, {}}}},
}};
constexpr TaskShape kGenericShape{"", {20, 60}, kHeadline, 500, {{{20, 60}, {20, 60}, {20, 60}}}};

const TaskShape& shape_of(const TaskSpec& task) {
  for (const TaskShape& shape : kShapes) {
    if (shape.task == task.name) return shape;
  }
  return kGenericShape;
}

// How a text's words are drawn, in permille: function words, the label's words (when the text
// has a label), the text's topic; the rest is the background vocabulary.
struct Mix {
  unsigned function, label, topic;
};
constexpr Mix kProseMix{430, 40, 330};
constexpr Mix kTitleMix{200, 30, 500};

// ---- Vocabulary ----

// Common English words, most frequent first; they get the top of their own Zipf distribution.
constexpr std::string_view kFunctionWords[] = {
    "the",     "of",     "and",     "to",      "a",     "in",    "is",    "that",   "for",  "it",
    "as",      "was",    "with",    "on",      "be",    "by",    "at",    "this",   "are",  "from",
    "or",      "have",   "an",      "they",    "which", "one",   "you",   "were",   "her",  "all",
    "she",     "there",  "would",   "their",   "we",    "him",   "been",  "has",    "when", "who",
    "will",    "more",   "no",      "if",      "out",   "so",    "said",  "what",   "up",   "its",
    "about",   "into",   "than",    "them",    "can",   "only",  "other", "new",    "some", "could",
    "time",    "these",  "two",     "may",     "then",  "do",    "first", "any",    "my",   "now",
    "such",    "like",   "our",     "over",    "even",  "most",  "made",  "after",  "also", "did",
    "many",    "before", "must",    "through", "back",  "years", "where", "much",   "your", "way",
    "well",    "down",   "should",  "because", "each",  "just",  "those", "people", "how",  "too",
    "little",  "good",   "very",    "make",    "world", "still", "own",   "see",    "work", "long",
    "get",     "here",   "between", "both",    "life",  "being", "under", "never",  "day",  "same",
    "another", "know",   "while",   "last",    "might", "us",    "great", "old",    "year", "off",
    "come",    "since",  "against", "go",      "right", "used",  "take",  "three",  "not",  "but",
    "his",     "had",    "he",      "i",       "best",  "why",   "use",   "based",  "via",  "using",
    "towards"};

constexpr std::size_t kPseudoWords = 5000;
constexpr std::size_t kTopics = 64;
constexpr std::size_t kTopicWords = 40;
constexpr std::size_t kLabelWords = 6;
constexpr std::size_t kStyleWords = 3;
// Topic and label words come from below the most frequent pseudo-words, as content words do.
constexpr std::size_t kCommonPseudo = 100;

std::string pseudo_word(Rng& rng) {
  static constexpr std::string_view kOnsets[] = {
      "b",  "c",  "d",  "f",  "g",  "h",  "j",  "k",  "l",  "m",  "n",  "p",
      "r",  "s",  "t",  "v",  "w",  "z",  "br", "ch", "cl", "cr", "dr", "fl",
      "gr", "pl", "pr", "sh", "sl", "st", "tr", "th", "",   ""};
  static constexpr std::string_view kVowels[] = {"a", "e", "i",  "o",  "u",  "a",
                                                 "e", "o", "ai", "ea", "ou", "io"};
  static constexpr std::string_view kCodas[] = {"",  "",  "",  "",   "n",  "r",  "s",
                                                "l", "m", "t", "nd", "st", "ck", "x"};
  // 1, 2 or 3 syllables, 2 most often.
  std::size_t syllables = 1 + rng.below(4);
  if (syllables == 4) syllables = 2;
  std::string word;
  for (std::size_t s = 0; s < syllables; ++s) {
    word += kOnsets[rng.below(std::size(kOnsets))];
    word += kVowels[rng.below(std::size(kVowels))];
    if (s + 1 == syllables || rng.chance(300)) word += kCodas[rng.below(std::size(kCodas))];
  }
  return word;
}

// The per-sample draft: strings reused from sample to sample so a big file costs no
// allocation per word.
struct DraftItem {
  std::string id, date;
  std::array<std::string, kMaxProfileFields> fields;
};

struct Draft {
  std::string id, input, output;
  std::size_t profile_size = 0;
  std::vector<DraftItem> items;  // the first profile_size are this sample's
};

// One user: what they write about and how they label and phrase things.
struct User {
  std::vector<std::uint32_t> topics;        // global topic ids, distinct
  std::vector<std::uint32_t> topic_weight;  // cumulative weights of `topics`
  std::vector<std::uint32_t> topic_label;   // per topic: the label this user gives it most
  std::uint32_t favourite_label = 0;
  std::array<std::uint32_t, kStyleWords> style_words{};  // word ids the user likes in titles
  unsigned first_year = 2000;
};

using WordIds = std::vector<std::uint32_t>;

class Generator {
 public:
  explicit Generator(const SynthOptions& options)
      : options_(options),
        task_(*options.task),
        shape_(shape_of(task_)),
        function_zipf_(std::size(kFunctionWords), 2),
        pseudo_zipf_(kPseudoWords, 2),
        topic_zipf_(kTopicWords, 4) {
    // The task is part of the seed, so two tasks made with one seed do not share sentences.
    std::uint64_t task_hash = 0xcbf29ce484222325ull;  // FNV-1a
    for (char c : task_.name) {
      task_hash = (task_hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    }
    seed_ = options.seed ^ task_hash;
    std::uint64_t state = seed_;
    Rng rng(splitmix64(state) ^ 0x6c616d7073796e74ull);  // the model's own stream
    build_vocabulary(rng);
    for (auto& topic : topics_) {
      for (auto& word : topic) word = content_word(rng);
    }
    labels_ = static_cast<std::uint32_t>(task_.labels.size());
    label_words_.resize(labels_);
    for (auto& words : label_words_) {
      for (auto& word : words) word = content_word(rng);
    }
    split_template();
    if (!task_.labels.empty() && !task_.target_field.empty()) {
      label_field_ = profile_field_index(task_, task_.target_field);
    }
  }

  void draft(std::size_t index, Draft& d) {
    std::uint64_t state = seed_ ^ (0x9e3779b97f4a7c15ull * (index + 1));
    Rng rng(splitmix64(state));
    User user = make_user(rng);
    d.id = std::to_string(options_.first_id + index);

    const std::size_t m = options_.profile_size;
    const std::size_t lo = std::max<std::size_t>(1, m / 2);
    d.profile_size = rng.between(lo, std::max(lo, m + m / 2));
    if (d.items.size() < d.profile_size) d.items.resize(d.profile_size);
    for (std::size_t k = 0; k < d.profile_size; ++k) draft_item(rng, user, d, k);

    d.input.clear();
    d.output.clear();
    const std::size_t slots = template_parts_.size() - 1;
    const bool candidates = labels_ >= 2 && slots == labels_ + 1;
    std::uint32_t topic = pick_topic(rng, user);
    if (candidates) {
      // The user's own text, then one candidate per label; the gold one shares its topic.
      const std::uint32_t gold = static_cast<std::uint32_t>(rng.below(labels_));
      d.input += template_parts_[0];
      write_text(rng, user, topic, -1, shape_.input, d.input);
      for (std::uint32_t c = 0; c < labels_; ++c) {
        d.input += template_parts_[c + 1];
        write_text(rng, user, c == gold ? topic : foreign_topic(rng, user), -1, shape_.input,
                   d.input);
      }
      d.input += template_parts_.back();
      d.output = task_.labels[gold];
      return;
    }
    const int label = labels_ > 0 ? static_cast<int>(pick_label(rng, user, topic)) : -1;
    source_.clear();
    for (std::size_t s = 0; s < slots; ++s) {
      d.input += template_parts_[s];
      write_text(rng, user, topic, label, shape_.input, d.input);
      source_.insert(source_.end(), ids_.begin(), ids_.end());
    }
    d.input += template_parts_.back();
    if (label >= 0) {
      d.output = task_.labels[static_cast<std::size_t>(label)];
    } else {
      derive(rng, user, topic, shape_.output, d.output);
    }
  }

 private:
  void build_vocabulary(Rng& rng) {
    std::unordered_set<std::string> seen;
    for (std::string_view word : kFunctionWords) {
      words_.emplace_back(word);
      seen.emplace(word);
    }
    std::vector<std::string> pseudo;
    while (pseudo.size() < kPseudoWords) {
      std::string word = pseudo_word(rng);
      if (word.size() >= 2 && seen.insert(word).second) pseudo.push_back(std::move(word));
    }
    // Frequent words are short in real text (and in file sizes).
    std::stable_sort(pseudo.begin(), pseudo.end(), [](const std::string& a, const std::string& b) {
      return a.size() < b.size();
    });
    for (std::string& word : pseudo) words_.push_back(std::move(word));
  }

  std::uint32_t content_word(Rng& rng) const {
    return static_cast<std::uint32_t>(std::size(kFunctionWords) + kCommonPseudo +
                                      rng.below(kPseudoWords - kCommonPseudo));
  }

  void split_template() {
    std::string_view rest = task_.input_template;
    for (std::size_t at; (at = rest.find("{}")) != std::string_view::npos;) {
      template_parts_.push_back(rest.substr(0, at));
      rest.remove_prefix(at + 2);
    }
    template_parts_.push_back(rest);
  }

  User make_user(Rng& rng) const {
    User user;
    const std::size_t n = rng.between(2, 4);
    std::uint32_t total = 0;
    while (user.topics.size() < n) {
      auto topic = static_cast<std::uint32_t>(rng.below(kTopics));
      if (std::find(user.topics.begin(), user.topics.end(), topic) != user.topics.end()) continue;
      user.topics.push_back(topic);
      total += static_cast<std::uint32_t>(rng.between(1, 4));
      user.topic_weight.push_back(total);
    }
    if (labels_ > 0) {
      user.favourite_label = static_cast<std::uint32_t>(rng.below(labels_));
      for (std::size_t t = 0; t < n; ++t) {
        const bool favourite = rng.chance(500);
        user.topic_label.push_back(favourite ? user.favourite_label
                                             : static_cast<std::uint32_t>(rng.below(labels_)));
      }
    }
    for (auto& word : user.style_words) word = content_word(rng);
    user.first_year = static_cast<unsigned>(rng.between(2000, 2019));
    return user;
  }

  // An index into user.topics.
  std::uint32_t pick_topic(Rng& rng, const User& user) const {
    std::uint64_t u = rng.below(user.topic_weight.back());
    return static_cast<std::uint32_t>(
        std::upper_bound(user.topic_weight.begin(), user.topic_weight.end(), u) -
        user.topic_weight.begin());
  }

  // A global topic the user does not write about, as an index past user.topics' range
  // (kTopics + id), which write_text understands.
  std::uint32_t foreign_topic(Rng& rng, const User& user) const {
    for (;;) {
      auto topic = static_cast<std::uint32_t>(rng.below(kTopics));
      if (std::find(user.topics.begin(), user.topics.end(), topic) == user.topics.end()) {
        return static_cast<std::uint32_t>(kTopics) + topic;
      }
    }
  }

  // Mostly the user's label for the topic, sometimes their favourite, sometimes anything.
  std::uint32_t pick_label(Rng& rng, const User& user, std::uint32_t topic) const {
    std::uint64_t r = rng.below(1000);
    if (r < 600) return user.topic_label[topic];
    if (r < 800) return user.favourite_label;
    return static_cast<std::uint32_t>(rng.below(labels_));
  }

  std::uint32_t global_topic(const User& user, std::uint32_t topic) const {
    return topic >= kTopics ? topic - static_cast<std::uint32_t>(kTopics) : user.topics[topic];
  }

  std::uint32_t function_word(Rng& rng) const {
    return static_cast<std::uint32_t>(function_zipf_.draw(rng));
  }

  // A length within the shape's range, under options_.max_words when that is set: the cap keeps
  // the range's proportions, so short texts stay short.
  std::size_t text_length(Rng& rng, const FieldShape& shape) const {
    std::size_t lo = shape.min_words, hi = shape.max_words;
    const std::size_t cap = options_.max_words;
    if (cap > 0 && hi > cap) {
      lo = std::max<std::size_t>(1, lo * cap / hi);
      hi = cap;
    }
    return rng.between(lo, hi);
  }

  // Fills ids_ with a fresh text's words and appends it, rendered, to `out`.
  void write_text(Rng& rng, const User& user, std::uint32_t topic, int label,
                  const FieldShape& shape, std::string& out) {
    const Mix& mix = shape.style == Style::kTitle ? kTitleMix : kProseMix;
    const auto& topic_words = topics_[global_topic(user, topic)];
    const std::size_t length = text_length(rng, shape);
    ids_.clear();
    for (std::size_t i = 0; i < length; ++i) {
      std::uint64_t r = rng.below(1000);
      if (r < mix.function) {
        ids_.push_back(function_word(rng));
      } else if (label >= 0 && r < mix.function + mix.label) {
        ids_.push_back(label_words_[static_cast<std::size_t>(label)][rng.below(kLabelWords)]);
      } else if (r < mix.function + mix.label + mix.topic) {
        ids_.push_back(topic_words[topic_zipf_.draw(rng)]);
      } else {
        ids_.push_back(
            static_cast<std::uint32_t>(std::size(kFunctionWords) + pseudo_zipf_.draw(rng)));
      }
    }
    render(rng, shape.style, out);
  }

  // Appends a text made from source_'s content words (a title of an article, a paraphrase),
  // with the user's style words and the topic's words mixed in.
  void derive(Rng& rng, const User& user, std::uint32_t topic, const FieldShape& shape,
              std::string& out) {
    content_.clear();
    for (std::uint32_t id : source_) {
      if (id >= std::size(kFunctionWords)) content_.push_back(id);
    }
    const auto& topic_words = topics_[global_topic(user, topic)];
    const std::size_t length = text_length(rng, shape);
    ids_.clear();
    for (std::size_t i = 0; i < length; ++i) {
      if (rng.chance(shape.style == Style::kTitle ? 150 : 300)) {
        ids_.push_back(function_word(rng));
      } else if (!content_.empty() && rng.chance(shape_.output_overlap)) {
        ids_.push_back(content_[rng.below(content_.size())]);
      } else if (rng.chance(250)) {
        ids_.push_back(user.style_words[rng.below(kStyleWords)]);
      } else {
        ids_.push_back(topic_words[topic_zipf_.draw(rng)]);
      }
    }
    render(rng, shape.style, out);
  }

  // Words joined by spaces; prose in sentences of 8-23 words, each capitalised and ended by ".".
  void render(Rng& rng, Style style, std::string& out) const {
    std::size_t sentence_left = 0;
    for (std::size_t i = 0; i < ids_.size(); ++i) {
      if (i > 0) out += ' ';
      const std::string& word = words_[ids_[i]];
      const bool starts = style == Style::kProse ? sentence_left == 0 : i == 0;
      if (style == Style::kProse && sentence_left == 0) {
        sentence_left = rng.between(8, 20);
        // No stub sentence at the end: a short remainder joins this one.
        if (ids_.size() - i < sentence_left + 4) sentence_left = ids_.size() - i;
      }
      if (starts) {
        // Words are lowercase ASCII.
        out += static_cast<char>(word[0] - 'a' + 'A');
        out.append(word, 1);
      } else {
        out += word;
      }
      if (style == Style::kProse && (--sentence_left == 0 || i + 1 == ids_.size())) {
        out += '.';
        sentence_left = 0;
      }
    }
  }

  void draft_item(Rng& rng, const User& user, Draft& d, std::size_t k) {
    DraftItem& item = d.items[k];
    item.id.clear();
    fmt::format_to(std::back_inserter(item.id), "{}_{}", d.id, k);
    const std::uint32_t topic = pick_topic(rng, user);
    // Only items that carry a label (a tag, a score) write with its words.
    const int label = label_field_ >= 0 ? static_cast<int>(pick_label(rng, user, topic)) : -1;
    const std::size_t n_fields = task_.profile_fields.size();
    // Free text first; then what is derived from it (the item's title).
    source_.clear();
    for (std::size_t i = 0; i < n_fields; ++i) {
      std::string& field = item.fields[i];
      field.clear();
      if (static_cast<int>(i) == label_field_) {
        field = task_.labels[static_cast<std::size_t>(label)];
      } else if (!shape_.fields[i].derived) {
        write_text(rng, user, topic, label, shape_.fields[i], field);
        source_.insert(source_.end(), ids_.begin(), ids_.end());
      }
    }
    for (std::size_t i = 0; i < n_fields; ++i) {
      if (static_cast<int>(i) != label_field_ && shape_.fields[i].derived) {
        derive(rng, user, topic, shape_.fields[i], item.fields[i]);
      }
    }
    item.date.clear();
    if (options_.dates) {
      static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      const unsigned year = user.first_year + static_cast<unsigned>(rng.below(4));
      const unsigned month = 1 + static_cast<unsigned>(rng.below(12));
      const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
      const unsigned days = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
      const unsigned day = 1 + static_cast<unsigned>(rng.below(days));
      fmt::format_to(std::back_inserter(item.date), "{:04}-{:02}-{:02}", year, month, day);
    }
  }

  const SynthOptions& options_;
  std::uint64_t seed_ = 0;
  const TaskSpec& task_;
  const TaskShape& shape_;
  Zipf function_zipf_, pseudo_zipf_, topic_zipf_;
  std::vector<std::string> words_;  // function words, then pseudo-words by length
  std::array<std::array<std::uint32_t, kTopicWords>, kTopics> topics_{};
  std::vector<std::array<std::uint32_t, kLabelWords>> label_words_;
  std::uint32_t labels_ = 0;
  int label_field_ = -1;
  std::vector<std::string_view> template_parts_;  // the template's text around each "{}"
  // Scratch, reused: the last text's word ids, a derived text's source and its content words.
  WordIds ids_, source_, content_;
};

void check(const SynthOptions& options) {
  if (options.task == nullptr) throw Error("synth: no task given");
  if (options.samples == 0) throw Error("synth: --samples must be at least 1");
  if (options.profile_size == 0) throw Error("synth: --profile-size must be at least 1");
}

}  // namespace

SynthData synthesize(const SynthOptions& options) {
  check(options);
  Generator generator(options);
  Draft d;
  Arena arena;
  std::vector<Sample> samples;
  std::vector<ProfileItem> items;
  Outputs golds{.task = std::string(options.task->eval_name)};
  for (std::size_t index = 0; index < options.samples; ++index) {
    generator.draft(index, d);
    Sample sample{.id = arena.store(d.id),
                  .input = arena.store(d.input),
                  .profile_begin = items.size(),
                  .profile_size = d.profile_size};
    for (std::size_t k = 0; k < d.profile_size; ++k) {
      const DraftItem& draft_item = d.items[k];
      ProfileItem item{.id = arena.store(draft_item.id), .date = arena.store(draft_item.date)};
      for (std::size_t i = 0; i < options.task->profile_fields.size(); ++i) {
        item.fields[i] = arena.store(draft_item.fields[i]);
      }
      items.push_back(item);
    }
    samples.push_back(sample);
    golds.records.push_back({.id = golds.arena.store(d.id), .output = golds.arena.store(d.output)});
  }
  return SynthData{.questions = Questions(*options.task, std::move(arena), std::move(samples),
                                          std::move(items), options.dates),
                   .golds = std::move(golds)};
}

void write_synthetic(const SynthOptions& options, const std::filesystem::path& questions_path,
                     const std::filesystem::path& outputs_path) {
  check(options);
  const TaskSpec& task = *options.task;
  Generator generator(options);
  Draft d;
  Outputs golds;
  AtomicFile file(questions_path);
  // The same calls, in the same order, as write_questions: a streamed file and a written
  // synthesize() result are byte-identical (synth_test checks it).
  JsonWriter w(file);
  w.begin_array();
  for (std::size_t index = 0; index < options.samples; ++index) {
    generator.draft(index, d);
    w.begin_object().key("id").value(d.id).key("input").value(d.input);
    w.key("profile").begin_array();
    for (std::size_t k = 0; k < d.profile_size; ++k) {
      const DraftItem& item = d.items[k];
      w.begin_object();
      for (std::size_t i = 0; i < task.profile_fields.size(); ++i) {
        w.key(task.profile_fields[i]).value(item.fields[i]);
      }
      w.key("id").value(item.id);
      if (options.dates) w.key("date").value(item.date);
      w.end_object();
    }
    w.end_array().end_object();
    golds.records.push_back({.id = golds.arena.store(d.id), .output = golds.arena.store(d.output)});
  }
  w.end_array();
  w.flush();
  write_outputs(outputs_path, task.eval_name, golds.records);
  file.commit();
}

}  // namespace lamp
