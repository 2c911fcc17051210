// BM25 over one sample's profile, exactly as rank_bm25 0.2.2's BM25Okapi scores it (shared
// spec, "BM25"): N = profile size, avgdl = tokens / N, idf(w) = ln(N - n(w) + 0.5) -
// ln(n(w) + 0.5), words with a negative idf get eps = epsilon * (mean idf over the vocabulary,
// summed in first-occurrence order), and
//   score(d) = sum over query tokens (repeats count again) of
//              idf * (tf * (k1 + 1)) / (tf + k1 * (1 - b + b * dl / avgdl))
// in float64 with numpy's operation order, so scores are bit-identical to the official ones.
// Options for the Lucene variant (idf = ln(1 + (N - n + 0.5) / (n + 0.5)), no epsilon floor)
// are there for users who ask for them, never by default.
//
// Scoring needs the document frequency of every corpus word (the mean idf) but term frequencies
// only of the query's words, so only those are counted per document. The incremental form
// (start, add_text / add_token, end_document, finish) splits and counts in one pass over the
// text, without token lists.
//
// Thread-safety: a Bm25Scorer holds scratch space; use one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace lamp {

class Bm25Corpus;

struct Bm25Params {
  double k1 = 1.5;
  double b = 0.75;
  double epsilon = 0.25;
  bool lucene_idf = false;
};

class Bm25Scorer {
 public:
  explicit Bm25Scorer(Bm25Params params = {});
  ~Bm25Scorer();
  Bm25Scorer(Bm25Scorer&&) noexcept;

  // documents[d] is the token list of document d; fills scores (one per document).
  void score(std::span<const std::span<const std::string_view>> documents,
             std::span<const std::string_view> query, std::vector<double>& scores);

  // The same in steps. The query tokens (and all text added) must stay alive until finish().
  // Tokens, in the query, in score() and to add_token(), are str.split() tokens: not empty,
  // with no whitespace (the word table's keys pad words with spaces).
  void start(std::span<const std::string_view> query);
  // Appends str.split(text), or one token, to the current document.
  void add_text(std::string_view text);
  void add_token(std::string_view token);
  void end_document();
  // Scores of the documents ended since start(), in order.
  void finish(std::vector<double>& scores);

  // After score() or finish(): the corpus statistics, for debugging and tests.
  double average_idf() const { return average_idf_; }
  double eps() const { return eps_; }
  double avgdl() const { return avgdl_; }

 private:
  Bm25Params params_;
  double average_idf_ = 0, eps_ = 0, avgdl_ = 0;
  // Scratch reused across calls.
  std::unique_ptr<Bm25Corpus> corpus_;
  std::vector<double> idf_by_df_;          // by document frequency
  std::vector<double> log_half_;           // by k: ln(k + 0.5)
  std::vector<double> denominator_;        // by document
  std::vector<double> terms_;              // by query word, then posting: its score terms
  std::vector<std::size_t> term_offsets_;  // by query word: where its terms start
};

}  // namespace lamp
