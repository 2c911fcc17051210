#include <algorithm>
#include <cassert>
#include <string>
#include <vector>

#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/core/threads.h"
#include "lamp/data/json_io.h"

namespace lamp {

void write_questions(const std::filesystem::path& path, const Questions& questions,
                     std::span<const std::string_view> outputs) {
  assert(outputs.empty() || outputs.size() == questions.size());
  const TaskSpec& task = questions.task();
  AtomicFile file(path);
  JsonWriter w(file);
  w.begin_array();
  for (std::size_t s = 0; s < questions.size(); ++s) {
    const Sample& sample = questions.samples()[s];
    w.begin_object().key("id").value(sample.id).key("input").value(sample.input);
    w.key("profile").begin_array();
    for (const ProfileItem& item : questions.profile(sample)) {
      w.begin_object();
      for (std::size_t i = 0; i < task.profile_fields.size(); ++i) {
        w.key(task.profile_fields[i]);
        if (is_null_field(item.fields[i])) {
          w.null();
        } else {
          w.value(item.fields[i]);
        }
      }
      w.key("id").value(item.id);
      if (questions.has_dates()) w.key("date").value(item.date);
      w.end_object();
    }
    w.end_array();
    if (!outputs.empty()) w.key("output").value(outputs[s]);
    w.end_object();
  }
  w.end_array();
  w.flush();
  file.commit();
}

void write_outputs(const std::filesystem::path& path, std::string_view task_eval_name,
                   std::span<const Output> records) {
  AtomicFile file(path);
  JsonWriter w(file, 4);
  w.begin_object().key("task").value(task_eval_name).key("golds").begin_array();
  for (const Output& record : records) {
    w.begin_object().key("id").value(record.id).key("output").value(record.output).end_object();
  }
  w.end_array().end_object();
  w.flush();
  file.commit();
}

namespace {

// One entry of a ranking file, `"<sample id>": ["<profile id>", ...]` with id_at(k) the k-th of
// n ids, preceded by ", " but for the first sample's. Written directly in JsonWriter's one-line
// format: a ranking file is millions of short ids, and the generic writer's bookkeeping per
// value took most of the time of writing one.
template <class IdAt>
std::string format_entry(std::size_t index, std::string_view sample_id, std::size_t n,
                         IdAt&& id_at) {
  std::string out;
  if (index > 0) out += ", ";
  append_json_string(out, sample_id);
  out += ": [";
  for (std::size_t k = 0; k < n; ++k) {
    if (k > 0) out += ", ";
    append_json_string(out, id_at(k));
  }
  out += ']';
  return out;
}

}  // namespace

void write_ranking(const std::filesystem::path& path, const Ranking& ranking, int threads) {
  RankingWriter writer(path);
  parallel_for(ranking.entries.size(), threads, [&](std::size_t e, int) {
    writer.add(e, ranking.entries[e].sample_id, ranking.entries[e].profile_ids);
  });
  writer.commit(ranking.entries.size());
}

RankingWriter::RankingWriter(const std::filesystem::path& path) : file_(path) { file_.write("{"); }

void RankingWriter::add(std::size_t index, std::string_view sample_id,
                        std::span<const std::string_view> ids) {
  place(index, format_entry(index, sample_id, ids.size(), [&](std::size_t k) { return ids[k]; }));
}

void RankingWriter::add(std::size_t index, std::string_view sample_id,
                        std::span<const ProfileItem> profile,
                        std::span<const std::uint32_t> order) {
  place(index, format_entry(index, sample_id, order.size(),
                            [&](std::size_t k) { return profile[order[k]].id; }));
}

// An entry is never empty, so an empty string is one not added yet.
void RankingWriter::place(std::size_t index, std::string entry) {
  std::lock_guard lock(mutex_);
  assert(index >= written_);
  if (index >= waiting_.size()) waiting_.resize(std::max(index + 1, 2 * waiting_.size()));
  assert(waiting_[index].empty());
  waiting_[index] = std::move(entry);
  for (; written_ < waiting_.size() && !waiting_[written_].empty(); ++written_) {
    file_.write(waiting_[written_]);
    std::string().swap(waiting_[written_]);
  }
}

void RankingWriter::commit(std::size_t samples) {
  std::lock_guard lock(mutex_);
  assert(written_ == samples);
  (void)samples;
  file_.write("}");
  file_.commit();
}

}  // namespace lamp
