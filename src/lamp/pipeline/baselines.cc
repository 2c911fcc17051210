#include "lamp/pipeline/baselines.h"

#include <cassert>
#include <cmath>
#include <numeric>
#include <vector>

#include <fmt/format.h>

#include "lamp/core/error.h"
#include "lamp/core/threads.h"
#include "lamp/retrieval/bm25.h"
#include "lamp/retrieval/query.h"
#include "lamp/text/python_str.h"

namespace lamp {
namespace {

enum class Vote { kRoundedMean, kMostFrequent, kCandidateBm25, kTopItem };

Vote vote_of(const TaskSpec& task) {
  switch (task.metric) {
    case MetricKind::kRating:
      return Vote::kRoundedMean;
    case MetricKind::kClassification:
      if (!task.target_field.empty()) return Vote::kMostFrequent;
      assert(task.query_rule == QueryRule::kQuotedReferences);
      return Vote::kCandidateBm25;
    case MetricKind::kGeneration:
      return Vote::kTopItem;
  }
  return Vote::kTopItem;
}

// The profile field a past item's "answer" is in.
int answer_field(const TaskSpec& task) {
  return profile_field_index(
      task, task.target_field.empty() ? task.prompt.text_field : task.target_field);
}

std::string rounded_mean(const TaskSpec& task, const Sample& sample,
                         std::span<const ProfileItem> profile,
                         std::span<const std::uint32_t> voters) {
  int field = answer_field(task);
  double sum = 0;
  for (std::uint32_t i : voters) {
    std::optional<double> value = text::py_float(profile[i].fields[field]);
    if (!value || !std::isfinite(*value)) {
      throw Error(Location{.record_id = std::string(sample.id),
                           .field = fmt::format("profile[{}].{}", i, task.target_field)},
                  fmt::format("expected a number, found \"{}\"", profile[i].fields[field]));
    }
    sum += *value;
  }
  // Halves round up: floor(mean + 0.5).
  return fmt::format("{}", static_cast<long>(std::floor(sum / voters.size() + 0.5)));
}

std::string most_frequent(const TaskSpec& task, std::span<const ProfileItem> profile,
                          std::span<const std::uint32_t> voters) {
  int field = answer_field(task);
  // Values in order of first appearance with their counts; profiles are small.
  std::vector<std::pair<std::string_view, int>> counts;
  for (std::uint32_t i : voters) {
    std::string_view value = profile[i].fields[field];
    auto it =
        std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == value; });
    if (it == counts.end()) {
      counts.emplace_back(value, 1);
    } else {
      ++it->second;
    }
  }
  // max_element keeps the first of equal maxima: the value seen first wins a tie.
  auto best = std::max_element(counts.begin(), counts.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  return std::string(best->first);
}

std::string candidate_bm25(const TaskSpec& task, const Sample& sample,
                           std::span<const ProfileItem> profile,
                           std::span<const std::uint32_t> voters) {
  std::vector<std::string_view> quoted = quoted_strings(sample.input);
  std::size_t candidates = task.labels.size();
  if (quoted.size() < candidates + 1) extract_query(task, sample);  // throws the located error
  std::vector<std::vector<std::string_view>> documents(profile.size());
  for (std::size_t i = 0; i < profile.size(); ++i)
    append_document_tokens(task, profile[i], false, documents[i]);
  std::vector<std::span<const std::string_view>> views(documents.begin(), documents.end());
  Bm25Scorer scorer;
  std::vector<double> scores;
  std::size_t best = 0;
  double best_score = 0;
  for (std::size_t c = 0; c < candidates; ++c) {
    std::vector<std::string_view> query = text::py_split(quoted[c + 1]);
    scorer.score(views, query, scores);
    double total = 0;
    for (std::uint32_t i : voters) total += scores[i];
    if (c == 0 || total > best_score) {
      best = c;
      best_score = total;
    }
  }
  return std::string(task.labels[best]);
}

// The answer when nothing votes.
std::string empty_vote(const TaskSpec& task, const Sample& sample) {
  switch (vote_of(task)) {
    case Vote::kRoundedMean:
      return std::string(task.labels[task.labels.size() / 2]);
    case Vote::kMostFrequent:
    case Vote::kCandidateBm25:
      return std::string(task.labels.front());
    case Vote::kTopItem:
      break;
  }
  return extract_query(task, sample);
}

class Baseline : public Predictor {
 public:
  Baseline(bool majority, int threads) : majority_(majority), threads_(threads) {}
  std::string identity() const override { return majority_ ? "majority" : "profile-vote"; }
  PredictorReads reads() const override {
    return majority_ ? PredictorReads::kProfile : PredictorReads::kRanking;
  }
  std::vector<std::string> predict(const TaskSpec& task, std::span<const PredictItem> items,
                                   const PredictProgress& progress) override {
    std::vector<std::string> out(items.size());
    parallel_for(items.size(), threads_, [&](std::size_t i, int) {
      const PredictItem& item = items[i];
      out[i] = majority_ ? majority_answer(task, *item.sample, item.profile)
                         : profile_vote(task, *item.sample, item.profile, item.retrieved);
    });
    if (progress) progress(out.size());
    return out;
  }

 private:
  bool majority_;
  int threads_;
};

}  // namespace

std::string profile_vote(const TaskSpec& task, const Sample& sample,
                         std::span<const ProfileItem> profile,
                         std::span<const std::uint32_t> voters) {
  if (voters.empty()) return empty_vote(task, sample);
  switch (vote_of(task)) {
    case Vote::kRoundedMean:
      return rounded_mean(task, sample, profile, voters);
    case Vote::kMostFrequent:
      return most_frequent(task, profile, voters);
    case Vote::kCandidateBm25:
      return candidate_bm25(task, sample, profile, voters);
    case Vote::kTopItem:
      break;
  }
  return std::string(profile[voters.front()].fields[answer_field(task)]);
}

std::string majority_answer(const TaskSpec& task, const Sample& sample,
                            std::span<const ProfileItem> profile) {
  if (vote_of(task) == Vote::kTopItem) return extract_query(task, sample);
  std::vector<std::uint32_t> all(profile.size());
  std::iota(all.begin(), all.end(), 0u);
  return profile_vote(task, sample, profile, all);
}

std::unique_ptr<Predictor> make_baseline(std::string_view name, int threads) {
  if (name == "profile-vote") return std::make_unique<Baseline>(false, threads);
  if (name == "majority") return std::make_unique<Baseline>(true, threads);
  return nullptr;
}

}  // namespace lamp
