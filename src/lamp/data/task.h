// The task registry: everything lamp knows about a LaMP task is one row of one table (fields,
// query rule, input template, labels, metric). Code never branches on a task's name; it reads
// the row. LaMP-2 is movie tagging; the older news-categorisation LaMP-2 is "LaMP-2N".
//
// Thread-safety: the table is immutable after static initialisation.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace lamp {

enum class MetricKind {
  kClassification,  // accuracy and macro F1 over `labels`
  kRating,          // MAE and RMSE of float ratings 1..5
  kGeneration,      // ROUGE-1 and ROUGE-L F-measure
};

// How rank_profiles.py cuts the query (phi_q) out of a sample's input.
enum class QueryRule {
  kAfterMarker,       // the text after the first `query_marker`, stripped
  kQuotedReferences,  // LaMP-1: the 2nd and 3rd double-quoted strings joined by a space
};

// How prompts.py packs the retrieved profile items into the prompt (phi_p). Templates name
// profile fields as "{field}"; "{}" is the item's text cut to its token budget.
struct PromptSpec {
  std::string_view text_field;  // the profile field cut to the budget ("abstract")
  // Each item's fixed cost is the token count of this template with the text as " "; empty: the
  // cost is `fixed_cost` (LaMP-1 counts 2 for the quotes).
  std::string_view budget;
  int fixed_cost = 0;
  std::string_view item;  // one item as written into the prompt
  // Text whose token count is reserved once from the budget ("Following the given patterns").
  std::string_view reserved;
  bool reserve_eos = true;  // reserve one more token (all tasks but LaMP-1)
  // "{profile}" (the items joined by ", and ") and "{input}"; empty: the items go after the
  // input's first "title", behind ", and " (LaMP-1's add_string_after_title).
  std::string_view assembly;
};

struct TaskSpec {
  std::string_view name;       // "LaMP-1": training and ranking scripts' spelling
  std::string_view eval_name;  // "LaMP_1": the "task" value in outputs files
  // The dataset's folder on the LaMP download server, under the base URL ("LaMP_2/new"); empty
  // when the data cannot be downloaded, and then `not_downloadable` says where it comes from.
  std::string_view download_folder;
  std::string_view not_downloadable;
  std::string_view title;  // "citation identification"
  // Fields every profile item carries besides "id" (and "date" in time-based splits).
  std::vector<std::string_view> profile_fields;
  // Profile fields joined by one space to make a retrieval document (a corpus item).
  std::vector<std::string_view> corpus_fields;
  // Derived by the registry: their indices in profile_fields (looked up for every document).
  std::vector<std::size_t> corpus_field_indices;
  QueryRule query_rule;
  std::string_view query_marker;  // for kAfterMarker, e.g. "article:"
  // The official input text with "{}" for each variable part, in order.
  std::string_view input_template;
  // Classification labels in the official order (their index is the class id).
  std::vector<std::string_view> labels;
  MetricKind metric;
  // The profile field that holds what the task's output is for a past item ("tag", "score",
  // "title"); empty where the profile has no such field (LaMP-1, LaMP-7).
  std::string_view target_field;
  PromptSpec prompt;
};

// All tasks: LaMP-1 .. LaMP-7, then LaMP-2N.
std::span<const TaskSpec> all_tasks();

// Finds a task by "LaMP-N" or "LaMP_N" (any case; "LaMP-2N" for the news version). Throws
// lamp::Error listing the known names when there is none.
const TaskSpec& find_task(std::string_view name);

// Index of `field` in task.profile_fields, or -1.
int profile_field_index(const TaskSpec& task, std::string_view field);

}  // namespace lamp
