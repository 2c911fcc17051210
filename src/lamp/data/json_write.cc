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

// Written directly, in JsonWriter's one-line format: a ranking file is millions of short ids,
// and the generic writer's bookkeeping per value took most of the time of writing one.
void write_ranking(const std::filesystem::path& path, const Ranking& ranking, int threads) {
  // Blocks of entries are formatted on all threads, then written in order: formatting millions
  // of ids is most of the work, and lamp rank waits for it on one thread otherwise.
  constexpr std::size_t kBlock = 128;
  const std::size_t n = ranking.entries.size();
  std::vector<std::string> blocks((n + kBlock - 1) / kBlock);
  parallel_for(blocks.size(), threads, [&](std::size_t b, int) {
    std::string& out = blocks[b];
    for (std::size_t e = b * kBlock; e < std::min(n, (b + 1) * kBlock); ++e) {
      const Ranking::Entry& entry = ranking.entries[e];
      if (e > 0) out += ", ";
      append_json_string(out, entry.sample_id);
      out += ": [";
      for (std::size_t i = 0; i < entry.profile_ids.size(); ++i) {
        if (i > 0) out += ", ";
        append_json_string(out, entry.profile_ids[i]);
      }
      out += ']';
    }
  });
  AtomicFile file(path);
  file.write("{");
  for (const std::string& block : blocks) file.write(block);
  file.write("}");
  file.commit();
}

}  // namespace lamp
