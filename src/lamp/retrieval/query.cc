#include "lamp/retrieval/query.h"

#include <fmt/format.h>

#include "lamp/core/error.h"
#include "lamp/text/python_str.h"

namespace lamp {
namespace {

[[noreturn]] void fail(const Sample& sample, const std::string& message) {
  throw Error(Location{.record_id = std::string(sample.id), .field = "input"}, message);
}

}  // namespace

std::vector<std::string_view> quoted_strings(std::string_view text) {
  std::vector<std::string_view> quoted;
  bool inside = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '"') continue;
    if (inside) quoted.push_back(text.substr(start, i - start));
    inside = !inside;
    start = i + 1;
  }
  return quoted;
}

std::string extract_query(const TaskSpec& task, const Sample& sample) {
  std::string_view input = sample.input;
  if (task.query_rule == QueryRule::kQuotedReferences) {
    std::vector<std::string_view> quoted = quoted_strings(input);
    if (quoted.size() < 3) {
      fail(sample,
           fmt::format("a {} input has three double-quoted strings (the paper title and two "
                       "references); this one has {}",
                       task.name, quoted.size()));
    }
    return std::string(text::py_strip(fmt::format("{} {}", quoted[1], quoted[2])));
  }
  std::size_t at = input.find(task.query_marker);
  if (at == std::string_view::npos) {
    fail(sample, fmt::format("a {} input has \"{}\" before its query text; this one has none",
                             task.name, task.query_marker));
  }
  return std::string(text::py_strip(input.substr(at + task.query_marker.size())));
}

std::size_t document_pieces(const TaskSpec& task, const ProfileItem& item, bool use_date,
                            DocumentPieces& pieces) {
  // split(a + " " + b) == split(a) + split(b): the joining space is whitespace.
  std::size_t count = 0;
  for (std::size_t field : task.corpus_field_indices) pieces[count++] = item.fields[field];
  if (use_date) {
    pieces[count++] = "date:";
    pieces[count++] = item.date;
  }
  return count;
}

void append_document_tokens(const TaskSpec& task, const ProfileItem& item, bool use_date,
                            std::vector<std::string_view>& tokens) {
  DocumentPieces pieces;
  std::size_t count = document_pieces(task, item, use_date, pieces);
  for (std::size_t i = 0; i < count; ++i) text::py_split_into(pieces[i], tokens);
}

std::string document_text(const TaskSpec& task, const ProfileItem& item, bool use_date) {
  std::string text;
  for (std::size_t i = 0; i < task.corpus_field_indices.size(); ++i) {
    if (i > 0) text += ' ';
    text += item.fields[task.corpus_field_indices[i]];
  }
  if (use_date) text += fmt::format(" date: {}", item.date);
  return text;
}

}  // namespace lamp
