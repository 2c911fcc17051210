// Dataset statistics, the ones a paper's data table reports: sample and user counts, profile
// sizes, input and output lengths, the label distribution and how many profile items are dated.
//
// Definitions:
//  - users: distinct profiles, i.e. distinct sets of profile item ids (order ignored). LaMP files
//    carry no user id; a user with several samples in a split repeats the same profile.
//  - words: whitespace-separated tokens (ASCII space, \t, \n, \v, \f, \r), like Python's
//    str.split() on ASCII text.
//  - median: the middle value, or the mean of the two middle values for an even count (Python's
//    statistics.median).
//  - labels: counted over the outputs' "output" values, for tasks with registry labels
//    (classification and rating). Every registry label is listed, in registry order, zeros
//    included; values that are not labels follow, sorted, marked known = false.
//
// compute_stats() gathers the numbers; format_stats_text() and format_stats_json() present them.
//
// Thread-safety: the functions are reentrant.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "lamp/data/dataset.h"
#include "lamp/data/task.h"

namespace lamp {

// A distribution of counts; all zero when there are no values.
struct CountSummary {
  std::size_t min = 0;
  std::size_t max = 0;
  double mean = 0;
  double median = 0;
};

struct LabelCount {
  std::string label;
  std::size_t count = 0;
  double share = 0;   // count / number of outputs
  bool known = true;  // one of the task's registry labels
};

struct DataStats {
  const TaskSpec* task = nullptr;
  std::size_t samples = 0;
  std::size_t users = 0;
  std::size_t profile_items = 0;
  CountSummary profile_size;
  CountSummary input_words;
  double dated_share = 0;  // profile items with a non-empty "date" / profile items

  // Present when outputs were given.
  std::optional<std::size_t> outputs;          // records in the outputs file
  std::optional<std::size_t> outputs_matched;  // of those, with a sample id in the questions
  std::optional<CountSummary> output_words;
  std::vector<LabelCount> labels;  // empty for generation tasks or without outputs
};

// Throws lamp::Error when the outputs file names a different task than the questions.
DataStats compute_stats(const Questions& questions, const Outputs* outputs);

// Summarises `values` (as CountSummary documents).
CountSummary summarise(std::vector<std::size_t> values);
// The number of whitespace-separated tokens in `text`.
std::size_t count_words(std::string_view text);

// An aligned, human-readable table, ending with a newline.
std::string format_stats_text(const DataStats& stats);
// One JSON object (2-space indent), ending with a newline. Absent parts are left out.
std::string format_stats_json(const DataStats& stats);

}  // namespace lamp
