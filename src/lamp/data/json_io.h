// Reading and writing the official LaMP JSON files (formats: shared spec, "Data files").
//
// Readers memory-map the file and parse it with simdjson On-Demand in one pass, copying each
// string once into the result's arena and handing already-parsed pages back to the kernel, so a
// file costs about its size in memory. A questions file is split into its samples first
// (json_split.h), each parsed as its own document as soon as it is found. Every problem is a
// lamp::Error naming the file, the record (index and id) and the field: not JSON (with byte
// offset), wrong type, missing field, empty profile, duplicate sample or profile ids.
//
// Writers stream through an AtomicFile: the target appears complete or not at all.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lamp/core/files.h"
#include "lamp/data/dataset.h"
#include "lamp/data/task.h"

namespace lamp {

// Reads a questions file. With task == nullptr the task is recognised from the first sample's
// input (the registry's input templates); a file it cannot recognise is an error asking for one.
Questions read_questions(const std::filesystem::path& path, const TaskSpec* task);

// Takes the samples of a questions file while read_questions reads it, so that work on them can
// start before the whole file is parsed (lamp rank ranks them meanwhile). Called on the reading
// thread.
class SampleSink {
 public:
  virtual ~SampleSink() = default;
  // Sample `index` has been read and checked; `bytes_read` of the file are parsed. Its views
  // (profile included) stay valid until release_profiles() is called or, after read_questions
  // returns, as long as the Questions it returns.
  virtual void take(const TaskSpec& task, std::size_t index, const Sample& sample,
                    std::span<const ProfileItem> profile, std::size_t bytes_read) = 0;
  // The profiles taken so far are about to move (the item storage grows, which a file of
  // unusually small items can make happen) or to be freed (the file is malformed): stop using
  // them before returning.
  virtual void release_profiles() = 0;
};

// The same, handing each sample to `sink` as soon as it is read. A sample the sink has taken is
// still checked against later ones (duplicate ids), and the file after it may be malformed, so a
// later error can follow its take(); release_profiles() is then called before read_questions
// throws.
Questions read_questions(const std::filesystem::path& path, const TaskSpec* task, SampleSink& sink);

// Reads an outputs file (golds or predictions): the official object or a bare list of records.
// "output" may be a string or a number (kept as its JSON text, as str() of it would be close
// enough for every metric). Duplicate ids are kept; the metrics decide (the last one wins).
Outputs read_outputs(const std::filesystem::path& path);
// The same from bytes already in memory; `name` is used in error messages.
Outputs parse_outputs(std::string_view json, const std::string& name);

Ranking read_ranking(const std::filesystem::path& path);

// Which registry task this input text was made from, by its template's fixed prefix; nullptr
// when none matches.
const TaskSpec* recognise_task(std::string_view input);

// With `outputs` (one per sample, in sample order), each sample also gets its "output", as
// utils/merge_with_rank.py writes merged files.
void write_questions(const std::filesystem::path& path, const Questions& questions,
                     std::span<const std::string_view> outputs = {});
void write_outputs(const std::filesystem::path& path, std::string_view task_eval_name,
                   std::span<const Output> records);
// Formats on `threads` threads (0: all cores); the file is the same for any count.
void write_ranking(const std::filesystem::path& path, const Ranking& ranking, int threads = 0);

// A ranking file written while its samples are ranked: entries come from any thread in any
// order, each formatted by the thread that adds it, and reach the file in sample order as soon
// as all before them have, so that finishing the file leaves only its last entries, the fsync
// and the rename. The file is write_ranking's; `path` is untouched until commit().
//
// Thread-safety: add() may be called from several threads at once.
class RankingWriter {
 public:
  explicit RankingWriter(const std::filesystem::path& path);
  RankingWriter(const RankingWriter&) = delete;
  RankingWriter& operator=(const RankingWriter&) = delete;

  // Sample `index`'s entry, once: its id and its profile ids best first, given as ids or as the
  // profile and its ranked order (indices into it). The views need only last the call.
  void add(std::size_t index, std::string_view sample_id, std::span<const std::string_view> ids);
  void add(std::size_t index, std::string_view sample_id, std::span<const ProfileItem> profile,
           std::span<const std::uint32_t> order);
  // After the entries of samples [0, samples) were all added: completes the file and renames it
  // into place.
  void commit(std::size_t samples);

 private:
  void place(std::size_t index, std::string entry);

  AtomicFile file_;
  std::mutex mutex_;                  // guards what follows
  std::vector<std::string> waiting_;  // by sample index: entries added but not written yet
  std::size_t written_ = 0;           // the entries before this index are in the file
};

}  // namespace lamp
