// lamp eval's metrics on LaMP-shaped data: 2,500 LaMP-5-like title pairs (ROUGE) and 2,500
// LaMP-3 rating pairs, against a straightforward baseline measured in the same run: the
// textbook port of rouge_score (std::regex tokenizer, string tokens, a full LCS table).
//
//   build/bench/eval_bench [--benchmark_filter=...]
// The official evaluator (evaluate + rouge_score, 1000 bootstrap resamples) needs 3.7 s for the
// 2,500 ROUGE pairs on the 2-core development machine (measured by the author).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "lamp/data/json_io.h"
#include "lamp/metrics/evaluate.h"

namespace {

constexpr int kPairs = 2500;

std::uint64_t next(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A Zipf-ish word: low ranks are far more frequent. Mixed case and punctuation, like titles.
std::string word(std::uint64_t& s) {
  static const char* kCommon[] = {"the",    "of",    "a",         "for",    "and",
                                  "in",     "on",    "with",      "to",     "Learning",
                                  "Neural", "Graph", "Retrieval", "Models", "Personalized"};
  double u = static_cast<double>(next(s) >> 11) / 9007199254740992.0;
  auto rank = static_cast<std::uint64_t>(1.0 / (u + 1e-4));
  if (rank < 15) return kCommon[rank];
  return "w" + std::to_string(rank % 5000) + (rank % 7 == 0 ? ":" : "");
}

std::string title(std::uint64_t& s, int words) {
  std::string t;
  for (int i = 0; i < words; ++i) t += (i ? " " : "") + word(s);
  return t;
}

struct Data {
  std::string golds_json, preds_json;
};

// LaMP-5-shaped: titles of 6-14 words; predictions share about half their words with the gold.
Data lamp5_pairs() {
  std::uint64_t s = 5;
  lamp::JsonWriter g, p;
  g.begin_array();
  p.begin_array();
  for (int i = 0; i < kPairs; ++i) {
    std::string id = std::to_string(i);
    std::string gold = title(s, 6 + static_cast<int>(next(s) % 9));
    std::string pred =
        gold.substr(0, gold.size() / 2) + " " + title(s, 3 + static_cast<int>(next(s) % 6));
    g.begin_object().key("id").value(id).key("output").value(gold).end_object();
    p.begin_object().key("id").value(id).key("output").value(pred).end_object();
  }
  g.end_array();
  p.end_array();
  return {g.str(), p.str()};
}

Data lamp3_pairs() {
  std::uint64_t s = 3;
  lamp::JsonWriter g, p;
  g.begin_array();
  p.begin_array();
  const char* odd[] = {"4 stars", "3.5", " 2\n", "five"};
  for (int i = 0; i < kPairs; ++i) {
    std::string id = std::to_string(i);
    std::string gold = std::to_string(1 + next(s) % 5);
    std::string pred = next(s) % 10 == 0 ? odd[next(s) % 4] : std::to_string(1 + next(s) % 5);
    g.begin_object().key("id").value(id).key("output").value(gold).end_object();
    p.begin_object().key("id").value(id).key("output").value(pred).end_object();
  }
  g.end_array();
  p.end_array();
  return {g.str(), p.str()};
}

void evaluate_task(benchmark::State& state, const char* task, const Data& data, bool parse) {
  lamp::Outputs golds = lamp::parse_outputs(data.golds_json, "golds");
  lamp::Outputs preds = lamp::parse_outputs(data.preds_json, "preds");
  lamp::EvalOptions options;  // 1000 bootstrap resamples, as the official evaluator draws
  double value = 0;
  for (auto _ : state) {
    if (parse) {  // the whole job of `lamp eval` but process start-up
      golds = lamp::parse_outputs(data.golds_json, "golds");
      preds = lamp::parse_outputs(data.preds_json, "preds");
    }
    value += lamp::evaluate(lamp::find_task(task), golds, preds, options).metrics[0].second;
  }
  benchmark::DoNotOptimize(value);
  state.counters["pairs/s"] =
      benchmark::Counter(kPairs, benchmark::Counter::kIsIterationInvariantRate);
}

// The baseline: rouge_score's algorithm written the obvious way.
std::vector<std::string> naive_tokens(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  static const std::regex non_alnum("[^a-z0-9]+");
  text = std::regex_replace(text, non_alnum, " ");
  std::vector<std::string> tokens;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) tokens.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return tokens;
}

double naive_rouge_sum(const std::vector<std::pair<std::string, std::string>>& pairs) {
  double total = 0;
  for (const auto& [pred, gold] : pairs) {
    auto p = naive_tokens(pred), r = naive_tokens(gold);
    if (p.empty() || r.empty()) continue;
    std::map<std::string, int> cp, cr;
    for (auto& t : p) ++cp[t];
    for (auto& t : r) ++cr[t];
    int overlap = 0;
    for (auto& [t, c] : cp) overlap += std::min(c, cr.count(t) ? cr[t] : 0);
    std::vector<std::vector<int>> table(r.size() + 1, std::vector<int>(p.size() + 1, 0));
    for (std::size_t i = 1; i <= r.size(); ++i) {
      for (std::size_t j = 1; j <= p.size(); ++j) {
        table[i][j] = r[i - 1] == p[j - 1] ? table[i - 1][j - 1] + 1
                                           : std::max(table[i - 1][j], table[i][j - 1]);
      }
    }
    double pr = overlap / double(p.size()), rc = overlap / double(r.size());
    double lp = table[r.size()][p.size()] / double(p.size()),
           lr = table[r.size()][p.size()] / double(r.size());
    total +=
        (pr + rc > 0 ? 2 * pr * rc / (pr + rc) : 0) + (lp + lr > 0 ? 2 * lp * lr / (lp + lr) : 0);
  }
  return total;
}

void BM_Lamp5RougeBaseline(benchmark::State& state) {
  static const Data data = lamp5_pairs();
  lamp::Outputs golds = lamp::parse_outputs(data.golds_json, "g"),
                preds = lamp::parse_outputs(data.preds_json, "p");
  std::vector<std::pair<std::string, std::string>> pairs;
  for (std::size_t i = 0; i < golds.records.size(); ++i) {
    pairs.emplace_back(preds.records[i].output, golds.records[i].output);
  }
  for (auto _ : state) benchmark::DoNotOptimize(naive_rouge_sum(pairs));
  state.counters["pairs/s"] =
      benchmark::Counter(kPairs, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Lamp5Rouge(benchmark::State& state) {
  static const Data data = lamp5_pairs();
  evaluate_task(state, "LaMP-5", data, state.range(0) != 0);
}

void BM_Lamp3Ratings(benchmark::State& state) {
  static const Data data = lamp3_pairs();
  evaluate_task(state, "LaMP-3", data, state.range(0) != 0);
}

BENCHMARK(BM_Lamp5RougeBaseline)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lamp5Rouge)->ArgName("with_parse")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Lamp3Ratings)->ArgName("with_parse")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Prints lamp's speed-up over the baseline after the table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      double t = run.GetAdjustedRealTime();
      if (run.benchmark_name() == "BM_Lamp5RougeBaseline") baseline_ = t;
      if (run.benchmark_name() == "BM_Lamp5Rouge/with_parse:1") lamp_ = t;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    if (baseline_ > 0 && lamp_ > 0) {
      std::printf(
          "ratio: lamp eval (parse + ROUGE + 1000-resample bootstrap) is %.1fx faster than "
          "the baseline (naive ROUGE, no bootstrap)\n",
          baseline_ / lamp_);
    }
  }

 private:
  double baseline_ = 0, lamp_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
