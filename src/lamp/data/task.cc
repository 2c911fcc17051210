#include "lamp/data/task.h"

#include <fmt/format.h>

#include <cassert>
#include <cctype>
#include <string>

#include "lamp/core/error.h"

namespace lamp {
namespace {

std::vector<TaskSpec> rows() {
  return {
      {.name = "LaMP-1",
       .eval_name = "LaMP_1",
       .download_folder = "LaMP_1",
       .title = "personalized citation identification",
       .profile_fields = {"title", "abstract"},
       .corpus_fields = {"title", "abstract"},
       .query_rule = QueryRule::kQuotedReferences,
       .input_template = "For an author who has written the paper with the title \"{}\", which "
                         "reference is related? Just answer with [1] or [2] without explanation. "
                         "[1]: \"{}\" [2]: \"{}\"",
       .labels = {"[1]", "[2]"},
       .metric = MetricKind::kClassification,
       .prompt = {.text_field = "title", .fixed_cost = 2, .item = "\"{}\"", .reserve_eos = false}},
      {.name = "LaMP-2",
       .eval_name = "LaMP_2",
       .download_folder = "LaMP_2/new",
       .title = "personalized movie tagging",
       .profile_fields = {"description", "tag"},
       .corpus_fields = {"description"},
       .query_rule = QueryRule::kAfterMarker,
       .query_marker = "description:",
       .input_template =
           "Which tag does this movie relate to among the following tags? Just answer with the "
           "tag name without further explanation. tags: [sci-fi, based on a book, comedy, action, "
           "twist ending, dystopia, dark comedy, classic, psychology, fantasy, romance, "
           "thought-provoking, social commentary, violence, true story] description: {}",
       .labels = {"sci-fi", "based on a book", "comedy", "action", "twist ending", "dystopia",
                  "dark comedy", "classic", "psychology", "fantasy", "romance", "thought-provoking",
                  "social commentary", "violence", "true story"},
       .metric = MetricKind::kClassification,
       .target_field = "tag",
       .prompt = {.text_field = "description",
                  .budget = "the tag for the movie: \" \" is \"{tag}\" ",
                  .item = "the tag for the movie: \"{}\" is \"{tag}\" ",
                  .assembly = "{profile}. {input}"}},
      {.name = "LaMP-3",
       .eval_name = "LaMP_3",
       .download_folder = "LaMP_3",
       .title = "personalized product rating",
       .profile_fields = {"text", "score"},
       .corpus_fields = {"text"},
       .query_rule = QueryRule::kAfterMarker,
       .query_marker = "review:",
       .input_template = "What is the score of the following review on a scale of 1 to 5? just "
                         "answer with 1, 2, 3, 4, or 5 without further explanation. review: {}",
       .labels = {"1", "2", "3", "4", "5"},
       .metric = MetricKind::kRating,
       .target_field = "score",
       .prompt = {.text_field = "text",
                  .budget = "{score} is the score for \" \" ",
                  .item = "{score} is the score for \"{}\" ",
                  .assembly = "{profile}. {input}"}},
      {.name = "LaMP-4",
       .eval_name = "LaMP_4",
       .download_folder = "LaMP_4",
       .title = "personalized news headline generation",
       .profile_fields = {"title", "text"},
       .corpus_fields = {"title", "text"},
       .query_rule = QueryRule::kAfterMarker,
       .query_marker = "article:",
       .input_template = "Generate a headline for the following article: {}",
       .metric = MetricKind::kGeneration,
       .target_field = "title",
       .prompt = {.text_field = "text",
                  .budget = "\"{title}\" is the title for \" \" ",
                  .item = "\"{title}\" is the title for \"{}\" ",
                  .assembly = "{profile}. {input}"}},
      {.name = "LaMP-5",
       .eval_name = "LaMP_5",
       .download_folder = "LaMP_5",
       .title = "personalized scholarly title generation",
       .profile_fields = {"title", "abstract"},
       .corpus_fields = {"title", "abstract"},
       .query_rule = QueryRule::kAfterMarker,
       .query_marker = ":",
       .input_template = "Generate a title for the following abstract of a paper: {}",
       .metric = MetricKind::kGeneration,
       .target_field = "title",
       .prompt = {.text_field = "abstract",
                  // Budgets "is a title" but writes "is a title for", as prompts.py does.
                  .budget = "\"{title}\" is a title \" \" ",
                  .item = "\"{title}\" is a title for \"{}\" ",
                  .reserved = "Following the given patterns",
                  .assembly = "{profile}. Following the given patterns {input}"}},
      {.name = "LaMP-6",
       .eval_name = "LaMP_6",
       .not_downloadable =
           "LaMP-6 (email subject generation) is built from the private Avocado Research Email "
           "Collection, so it cannot be downloaded: obtain the Avocado corpus from the LDC "
           "(LDC2015T03) and LaMP's LaMP-6 questions, then build the files with `lamp data "
           "avocado`",
       .title = "personalized email subject generation",
       .profile_fields = {"title", "text"},
       .corpus_fields = {"text"},
       .query_rule = QueryRule::kAfterMarker,
       .query_marker = ":",
       .input_template = "Generate a subject for the following email: {}",
       .metric = MetricKind::kGeneration,
       .target_field = "title",
       .prompt = {.text_field = "text",
                  .budget = "\"{title}\" is the title for \" \" ",
                  .item = "\"{title}\" is the title for \"{}\" ",
                  .assembly = "{profile}. {input}"}},
      {.name = "LaMP-7",
       .eval_name = "LaMP_7",
       .download_folder = "LaMP_7",
       .title = "personalized tweet paraphrasing",
       .profile_fields = {"text"},
       .corpus_fields = {"text"},
       .query_rule = QueryRule::kAfterMarker,
       .query_marker = ":",
       .input_template = "Paraphrase the following tweet without any explanation before or after "
                         "it: {}",
       .metric = MetricKind::kGeneration,
       .prompt = {.text_field = "text",
                  .budget = "\"\" ",
                  .item = "\"{}\" ",
                  // Budgets "by user." but writes "by a person.", as prompts.py does.
                  .reserved = "are written by user. Following the given patterns",
                  .assembly =
                      "{profile} are written by a person. Following the given patterns {input}"}},
      // The first release's LaMP-2: news categorisation. Its outputs files also say "LaMP_2".
      {.name = "LaMP-2N",
       .eval_name = "LaMP_2",
       .not_downloadable =
           "LaMP-2N (the first release's news categorisation) is no longer on the server, which "
           "now holds movie tagging as LaMP-2: use a copy of the old files",
       .title = "personalized news categorization",
       .profile_fields = {"title", "text", "category"},
       .corpus_fields = {"title", "text"},
       .query_rule = QueryRule::kAfterMarker,
       .query_marker = "article:",
       .input_template =
           "Which category does this article relate to among the following categories? Just "
           "answer with the category name without further explanation. categories: [travel, "
           "education, parents, style & beauty, entertainment, food & drink, science & "
           "technology, business, sports, healthy living, women, politics, crime, culture & arts, "
           "religion] article: {}",
       .labels = {"food & drink", "sports", "education", "parents", "religion", "travel",
                  "business", "crime", "science & technology", "culture & arts", "entertainment",
                  "politics", "women", "style & beauty", "healthy living"},
       .metric = MetricKind::kClassification,
       .target_field = "category",
       .prompt = {.text_field = "text",
                  .budget = "the category for the article: \" \" is \"{category}\" ",
                  .item = "the category for the article: \"{}\" is \"{category}\" ",
                  .assembly = "{profile}. {input}"}},
  };
}

const std::vector<TaskSpec>& table() {
  static const std::vector<TaskSpec> tasks = [] {
    std::vector<TaskSpec> rows_with_indices = rows();
    for (TaskSpec& task : rows_with_indices) {
      for (std::string_view field : task.corpus_fields) {
        const int index = profile_field_index(task, field);
        assert(index >= 0);
        task.corpus_field_indices.push_back(static_cast<std::size_t>(index));
      }
    }
    return rows_with_indices;
  }();
  return tasks;
}

std::string canonical(std::string_view name) {
  std::string out;
  for (char c : name) {
    out.push_back(c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace

std::span<const TaskSpec> all_tasks() { return table(); }

const TaskSpec& find_task(std::string_view name) {
  std::string wanted = canonical(name);
  for (const TaskSpec& task : table()) {
    if (canonical(task.name) == wanted) return task;
  }
  std::string known;
  for (const TaskSpec& task : table())
    known += (known.empty() ? "" : ", ") + std::string(task.name);
  throw Error(fmt::format("unknown task \"{}\" (known: {}; \"LaMP_N\" also works)", name, known));
}

int profile_field_index(const TaskSpec& task, std::string_view field) {
  for (std::size_t i = 0; i < task.profile_fields.size(); ++i) {
    if (task.profile_fields[i] == field) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace lamp
