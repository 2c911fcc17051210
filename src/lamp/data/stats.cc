#include "lamp/data/stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "lamp/core/error.h"
#include "lamp/core/json_writer.h"

namespace lamp {
namespace {

bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// A sample's profile as a key that ignores item order: its sorted ids joined by NUL.
std::string profile_key(const Questions& questions, const Sample& sample,
                        std::vector<std::string_view>& ids) {
  ids.clear();
  for (const ProfileItem& item : questions.profile(sample)) ids.push_back(item.id);
  std::sort(ids.begin(), ids.end());
  std::string key;
  for (std::string_view id : ids) {
    key.append(id);
    key.push_back('\0');
  }
  return key;
}

}  // namespace

std::size_t count_words(std::string_view text) {
  std::size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = is_space(c);
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

CountSummary summarise(std::vector<std::size_t> values) {
  CountSummary summary;
  if (values.empty()) return summary;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  summary.min = values.front();
  summary.max = values.back();
  double total = 0;
  for (std::size_t v : values) total += static_cast<double>(v);
  summary.mean = total / static_cast<double>(n);
  summary.median =
      n % 2 == 1
          ? static_cast<double>(values[n / 2])
          : (static_cast<double>(values[n / 2 - 1]) + static_cast<double>(values[n / 2])) / 2;
  return summary;
}

DataStats compute_stats(const Questions& questions, const Outputs* outputs) {
  const TaskSpec& task = questions.task();
  DataStats stats{
      .task = &task, .samples = questions.size(), .profile_items = questions.items().size()};

  std::vector<std::size_t> sizes, input_words;
  std::unordered_set<std::string> profiles;
  std::unordered_set<std::string_view> sample_ids;
  std::vector<std::string_view> scratch;
  for (const Sample& sample : questions.samples()) {
    sizes.push_back(sample.profile_size);
    input_words.push_back(count_words(sample.input));
    profiles.insert(profile_key(questions, sample, scratch));
    sample_ids.insert(sample.id);
  }
  stats.users = profiles.size();
  stats.profile_size = summarise(std::move(sizes));
  stats.input_words = summarise(std::move(input_words));
  std::size_t dated = 0;
  for (const ProfileItem& item : questions.items()) dated += item.date.empty() ? 0 : 1;
  if (!questions.items().empty()) {
    stats.dated_share = static_cast<double>(dated) / static_cast<double>(questions.items().size());
  }

  if (outputs == nullptr) return stats;
  if (!outputs->task.empty() && outputs->task != task.eval_name) {
    throw Error(fmt::format("the outputs are for task \"{}\" but the questions are {} (\"{}\")",
                            outputs->task, task.name, task.eval_name));
  }
  const std::size_t n = outputs->records.size();
  stats.outputs = n;
  std::size_t matched = 0;
  std::vector<std::size_t> output_words;
  std::unordered_map<std::string_view, std::size_t> label_counts;
  for (const Output& record : outputs->records) {
    matched += sample_ids.contains(record.id) ? 1 : 0;
    output_words.push_back(count_words(record.output));
    ++label_counts[record.output];
  }
  stats.outputs_matched = matched;
  stats.output_words = summarise(std::move(output_words));
  if (task.labels.empty()) return stats;

  auto share = [n](std::size_t count) {
    return n == 0 ? 0.0 : static_cast<double>(count) / static_cast<double>(n);
  };
  for (std::string_view label : task.labels) {
    auto it = label_counts.find(label);
    const std::size_t count = it == label_counts.end() ? 0 : it->second;
    stats.labels.push_back({.label = std::string(label), .count = count, .share = share(count)});
    if (it != label_counts.end()) label_counts.erase(it);
  }
  // What is left is not a label; sorted so the report does not depend on hashing.
  std::map<std::string_view, std::size_t> others(label_counts.begin(), label_counts.end());
  for (const auto& [value, count] : others) {
    stats.labels.push_back(
        {.label = std::string(value), .count = count, .share = share(count), .known = false});
  }
  return stats;
}

std::string format_stats_text(const DataStats& stats) {
  std::string out;
  auto row = [&out](std::string_view name, const std::string& value) {
    fmt::format_to(std::back_inserter(out), "{:<17} {}\n", name, value);
  };
  row("task", fmt::format("{} ({})", stats.task->name, stats.task->title));
  row("samples", fmt::format("{}", stats.samples));
  row("users", fmt::format("{} (distinct profiles)", stats.users));
  row("profile items", fmt::format("{}", stats.profile_items));
  row("items with date", fmt::format("{:.1f}%", 100 * stats.dated_share));
  if (stats.outputs) {
    row("outputs", fmt::format("{} ({} match a sample)", *stats.outputs, *stats.outputs_matched));
  }

  out += fmt::format("\n{:<17} {:>7} {:>9} {:>9} {:>7}\n", "", "min", "median", "mean", "max");
  auto summary_row = [&out](std::string_view name, const CountSummary& s) {
    fmt::format_to(std::back_inserter(out), "{:<17} {:>7} {:>9.1f} {:>9.2f} {:>7}\n", name, s.min,
                   s.median, s.mean, s.max);
  };
  summary_row("profile size", stats.profile_size);
  summary_row("input words", stats.input_words);
  if (stats.output_words) summary_row("output words", *stats.output_words);

  if (!stats.labels.empty()) {
    std::size_t width = 5;
    for (const LabelCount& label : stats.labels) width = std::max(width, label.label.size());
    out += fmt::format("\n{:<{}} {:>7} {:>7}\n", "label", width, "count", "share");
    for (const LabelCount& label : stats.labels) {
      fmt::format_to(std::back_inserter(out), "{:<{}} {:>7} {:>6.1f}%{}\n", label.label, width,
                     label.count, 100 * label.share, label.known ? "" : "  (not a task label)");
    }
  }
  return out;
}

std::string format_stats_json(const DataStats& stats) {
  JsonWriter w(2);
  auto count = [&w](std::size_t n) { w.value(static_cast<std::int64_t>(n)); };
  auto summary = [&](std::string_view name, const CountSummary& s) {
    w.key(name).begin_object();
    w.key("min");
    count(s.min);
    w.key("median").value(s.median).key("mean").value(s.mean).key("max");
    count(s.max);
    w.end_object();
  };
  w.begin_object();
  w.key("task").value(stats.task->name);
  w.key("samples");
  count(stats.samples);
  w.key("users");
  count(stats.users);
  w.key("profile_items");
  count(stats.profile_items);
  summary("profile_size", stats.profile_size);
  summary("input_words", stats.input_words);
  w.key("dated_share").value(stats.dated_share);
  if (stats.outputs) {
    w.key("outputs");
    count(*stats.outputs);
    w.key("outputs_matched");
    count(*stats.outputs_matched);
    summary("output_words", *stats.output_words);
  }
  if (!stats.labels.empty()) {
    w.key("labels").begin_array();
    for (const LabelCount& label : stats.labels) {
      w.begin_object().key("label").value(label.label).key("count");
      count(label.count);
      w.key("share").value(label.share).key("known").value(label.known).end_object();
    }
    w.end_array();
  }
  w.end_object();
  return w.str() + "\n";
}

}  // namespace lamp
