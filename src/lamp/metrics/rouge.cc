#include "lamp/metrics/rouge.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>

#include "lamp/core/random.h"
#include "lamp/text/python_str.h"
#include "lamp/text/rouge_tokenizer.h"

namespace lamp {
namespace {

double fmeasure(double precision, double recall) {
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

// Maps token strings to small integers so comparisons in the LCS table are integer compares.
class Vocabulary {
 public:
  void encode(const std::vector<std::string>& tokens, std::vector<std::uint32_t>& ids) {
    ids.clear();
    for (const std::string& token : tokens) {
      auto [it, inserted] = ids_.try_emplace(token, static_cast<std::uint32_t>(ids_.size()));
      ids.push_back(it->second);
    }
  }

 private:
  std::unordered_map<std::string, std::uint32_t> ids_;
};

// Scratch space reused across examples.
struct Workspace {
  Vocabulary vocabulary;
  std::vector<std::string> tokens;
  std::vector<std::uint32_t> pred, ref, pred_sorted, ref_sorted;
  std::vector<std::uint32_t> lcs_row;
};

RougeF score_ids(Workspace& w) {
  const std::size_t np = w.pred.size(), nr = w.ref.size();
  if (np == 0 || nr == 0) return {};
  // Unigram overlap: a merge of the two sorted id lists counts min(count_p, count_r) per id.
  w.pred_sorted.assign(w.pred.begin(), w.pred.end());
  w.ref_sorted.assign(w.ref.begin(), w.ref.end());
  std::sort(w.pred_sorted.begin(), w.pred_sorted.end());
  std::sort(w.ref_sorted.begin(), w.ref_sorted.end());
  std::size_t overlap = 0;
  for (std::size_t i = 0, j = 0; i < np && j < nr;) {
    if (w.pred_sorted[i] < w.ref_sorted[j]) {
      ++i;
    } else if (w.ref_sorted[j] < w.pred_sorted[i]) {
      ++j;
    } else {
      ++overlap, ++i, ++j;
    }
  }
  // LCS length with one rolling row over the prediction.
  w.lcs_row.assign(np + 1, 0);
  for (std::size_t r = 0; r < nr; ++r) {
    std::uint32_t diagonal = 0;  // row[r-1][c-1]
    for (std::size_t c = 1; c <= np; ++c) {
      std::uint32_t above = w.lcs_row[c];
      w.lcs_row[c] = w.ref[r] == w.pred[c - 1] ? diagonal + 1 : std::max(above, w.lcs_row[c - 1]);
      diagonal = above;
    }
  }
  double lcs = w.lcs_row[np];
  RougeF f;
  f.rouge1 = fmeasure(overlap / static_cast<double>(np), overlap / static_cast<double>(nr));
  f.rougeL = fmeasure(lcs / static_cast<double>(np), lcs / static_cast<double>(nr));
  return f;
}

RougeF score_pair(std::string_view prediction, std::string_view reference, Workspace& w) {
  text::rouge_tokenize(prediction, w.tokens);
  w.vocabulary.encode(w.tokens, w.pred);
  text::rouge_tokenize(reference, w.tokens);
  w.vocabulary.encode(w.tokens, w.ref);
  return score_ids(w);
}

// numpy.percentile(values, q) with the default linear interpolation; `sorted` is ascending.
double percentile(const std::vector<double>& sorted, double q) {
  double position = q / 100.0 * static_cast<double>(sorted.size() - 1);
  std::size_t lower = static_cast<std::size_t>(std::floor(position));
  std::size_t upper = std::min(lower + 1, sorted.size() - 1);
  double fraction = position - static_cast<double>(lower);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction;
}

}  // namespace

Interval percentile_interval(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  return {percentile(values, 2.5), percentile(values, 50), percentile(values, 97.5)};
}

RougeF rouge(std::string_view prediction, std::string_view reference) {
  Workspace w;
  return score_pair(prediction, reference, w);
}

std::vector<Interval> bootstrap_means(std::span<const std::span<const double>> columns,
                                      const BootstrapOptions& options) {
  std::vector<Interval> intervals(columns.size());
  if (options.resamples <= 0 || columns.empty() || columns[0].empty()) return intervals;
  const std::size_t n = columns[0].size(), k = columns.size();
  for (std::span<const double> column : columns) assert(column.size() == n);
  std::uint64_t state = options.seed;
  std::vector<std::vector<double>> means(k);
  std::vector<double> sums(k);
  for (int r = 0; r < options.resamples; ++r) {
    std::fill(sums.begin(), sums.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t index = random_below(state, n);
      for (std::size_t c = 0; c < k; ++c) sums[c] += columns[c][index];
    }
    for (std::size_t c = 0; c < k; ++c) means[c].push_back(sums[c] / static_cast<double>(n));
  }
  for (std::size_t c = 0; c < k; ++c) intervals[c] = percentile_interval(std::move(means[c]));
  return intervals;
}

RougeScores score_rouge(std::span<const ScoredPair> pairs, const BootstrapOptions& bootstrap) {
  RougeScores scores;
  Workspace w;
  std::vector<double> f1, fl;
  f1.reserve(pairs.size());
  fl.reserve(pairs.size());
  for (const ScoredPair& pair : pairs) {
    RougeF f = score_pair(text::py_strip(pair.prediction), text::py_strip(pair.gold), w);
    scores.per_example.push_back(f);
    f1.push_back(f.rouge1);
    fl.push_back(f.rougeL);
  }
  double sum1 = 0, sumL = 0;
  for (std::size_t i = 0; i < f1.size(); ++i) sum1 += f1[i], sumL += fl[i];
  if (!pairs.empty()) {
    scores.mean = {sum1 / static_cast<double>(pairs.size()),
                   sumL / static_cast<double>(pairs.size())};
  }
  const std::span<const double> columns[] = {f1, fl};
  std::vector<Interval> intervals = bootstrap_means(columns, bootstrap);
  scores.rouge1_interval = intervals[0];
  scores.rougeL_interval = intervals[1];
  return scores;
}

}  // namespace lamp
