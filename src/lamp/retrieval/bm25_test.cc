// Bm25Scorer against rank_bm25 0.2.2's BM25Okapi written out as its Python does it (dicts in
// insertion order, numpy's element-wise operations), on random corpora that exercise the word
// table: growth, long words, words with NUL bytes, query words first seen late or never, and
// reuse after a finished or an abandoned corpus.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lamp/retrieval/bm25.h"
#include "lamp/text/python_str.h"

namespace lamp {
namespace {

using Document = std::vector<std::string_view>;

// BM25Okapi(corpus).get_scores(query) with k1 = 1.5, b = 0.75, epsilon = 0.25.
std::vector<double> rank_bm25_scores(const std::vector<Document>& corpus, const Document& query) {
  const double k1 = 1.5, b = 0.75, epsilon = 0.25;
  std::vector<std::string_view> words;  // nd's keys in insertion order
  std::unordered_map<std::string_view, double> nd;
  std::vector<std::unordered_map<std::string_view, double>> doc_freqs;
  std::vector<double> doc_len;
  double num_doc = 0;
  for (const Document& document : corpus) {
    doc_len.push_back(static_cast<double>(document.size()));
    num_doc += static_cast<double>(document.size());
    std::unordered_map<std::string_view, double> frequencies;
    for (std::string_view word : document) frequencies[word] += 1;
    // nd gains words in the order of each document's dict: first occurrence.
    std::vector<std::string_view> firsts;
    std::unordered_map<std::string_view, bool> seen;
    for (std::string_view word : document) {
      if (!seen[word]) firsts.push_back(word);
      seen[word] = true;
    }
    for (std::string_view word : firsts) {
      if (nd.count(word) == 0) words.push_back(word);
      nd[word] += 1;
    }
    doc_freqs.push_back(std::move(frequencies));
  }
  const double corpus_size = static_cast<double>(corpus.size());
  const double avgdl = num_doc / corpus_size;
  std::unordered_map<std::string_view, double> idf;
  std::vector<std::string_view> negative;
  double idf_sum = 0;
  for (std::string_view word : words) {
    const double freq = nd[word];
    const double value = std::log(corpus_size - freq + 0.5) - std::log(freq + 0.5);
    idf[word] = value;
    idf_sum += value;
    if (value < 0) negative.push_back(word);
  }
  const double eps = epsilon * (idf_sum / static_cast<double>(idf.size()));
  for (std::string_view word : negative) idf[word] = eps;

  std::vector<double> score(corpus.size(), 0.0);
  for (std::string_view q : query) {
    const auto it = idf.find(q);
    const double q_idf = it == idf.end() ? 0.0 : it->second;
    for (std::size_t d = 0; d < corpus.size(); ++d) {
      const auto f = doc_freqs[d].find(q);
      const double q_freq = f == doc_freqs[d].end() ? 0.0 : f->second;
      score[d] += q_idf * (q_freq * (k1 + 1) / (q_freq + k1 * (1 - b + b * doc_len[d] / avgdl)));
    }
  }
  return score;
}

// Words of 1 to 40 bytes, some with NUL bytes, drawn with a skew so that some are in most
// documents (negative idf, the epsilon floor) and most are rare.
class WordSource {
 public:
  explicit WordSource(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return state_ >> 33;
  }

  std::string word(std::size_t vocabulary) {
    const std::uint64_t r = next();
    // The product of two uniform draws favours small ranks.
    const std::uint64_t rank = (r % vocabulary) * ((r >> 16) % vocabulary) / vocabulary;
    std::string word = "w" + std::to_string(rank);
    const std::size_t length = 1 + rank * 7 % 40;
    while (word.size() < length) word += static_cast<char>('a' + word.size() * rank % 26);
    if (rank % 53 == 0) word[word.size() / 2] = '\0';
    return word.substr(0, length);
  }

 private:
  std::uint64_t state_;
};

TEST(Bm25, EqualsRankBm25OnRandomCorpora) {
  WordSource source(5);
  Bm25Scorer scorer;  // one for all rounds, as a ranking thread has: each starts on the last's
  std::vector<double> got;
  for (int round = 0; round < 60; ++round) {
    const std::size_t vocabulary = 20 + 150 * static_cast<std::size_t>(round);
    const std::size_t n_docs = 1 + static_cast<std::size_t>(round) % 23;
    std::vector<std::string> texts;
    for (std::size_t d = 0; d < n_docs; ++d) {
      std::string text;
      const std::size_t length = 1 + source.next() % (5 + 20 * static_cast<std::size_t>(round));
      for (std::size_t i = 0; i < length; ++i) text += source.word(vocabulary) + " ";
      texts.push_back(std::move(text));
    }
    std::string query_text = "neverseen neverseen ";
    for (int i = 0; i < 3 + round % 40; ++i) query_text += source.word(vocabulary) + "\t";
    query_text += texts.back().substr(0, texts.back().find(' '));  // a word of the last document

    std::vector<Document> corpus;
    for (const std::string& text : texts) corpus.push_back(text::py_split(text));
    const Document query = text::py_split(query_text);
    const std::vector<double> expected = rank_bm25_scores(corpus, query);

    if (round % 3 == 2) {
      // A corpus abandoned before finish() (as by an error mid-sample): none of its counts may
      // reach the next.
      scorer.start(query);
      for (const std::string& text : texts) {
        scorer.add_text(text);
        scorer.add_text("abandoned");
        scorer.end_document();
      }
    }
    scorer.start(query);
    for (const std::string& text : texts) {
      scorer.add_text(text);
      scorer.end_document();
    }
    scorer.finish(got);
    ASSERT_EQ(got, expected) << "round " << round;
  }
}

}  // namespace
}  // namespace lamp
