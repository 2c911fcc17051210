// In-memory LaMP data: questions (samples with profiles), outputs (golds or predictions) and
// rankings, as the official files hold them. Every string is a view into the owning object's
// arena or into the file it was read from (kept mapped by the object), so a dataset costs about
// the size of its text and has no per-string allocation.
//
// Thread-safety: read-only use from many threads is safe; building is single-threaded.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lamp/core/files.h"
#include "lamp/data/task.h"

namespace lamp {

// Append-only storage for strings; views stay valid for the arena's lifetime (moves included).
class Arena {
 public:
  std::string_view store(std::string_view text);
  // Space for `size` bytes, filled by the caller, then trimmed to `used` <= size by commit().
  char* reserve(std::size_t size);
  std::string_view commit(char* begin, std::size_t used);
  std::size_t bytes() const { return total_; }

 private:
  struct Free {
    void operator()(char* p) const;
  };
  std::vector<std::unique_ptr<char[], Free>> blocks_;
  std::size_t used_ = 0, capacity_ = 0, total_ = 0;
};

inline constexpr std::size_t kMaxProfileFields = 3;

// A profile field that is JSON null in the file. Its text is "None", what the official code's
// f-strings make of it; is_null_field() tells it apart (the official tokenizer call raises on it).
std::string_view null_field();
inline bool is_null_field(std::string_view value) { return value.data() == null_field().data(); }

struct ProfileItem {
  std::string_view id;
  std::string_view date;  // empty when the split has no dates
  // Values of the task's profile_fields, in the registry's order.
  std::array<std::string_view, kMaxProfileFields> fields;
};

struct Sample {
  std::string_view id;
  std::string_view input;
  std::size_t profile_begin = 0;  // index into Questions::items()
  std::size_t profile_size = 0;
};

class Questions {
 public:
  // `backing` is the mapped file that views not in `arena` point into, if any.
  Questions(const TaskSpec& task, Arena arena, std::vector<Sample> samples,
            std::vector<ProfileItem> items, bool has_dates,
            std::shared_ptr<const MappedFile> backing = nullptr)
      : task_(&task),
        arena_(std::move(arena)),
        backing_(std::move(backing)),
        samples_(std::move(samples)),
        items_(std::move(items)),
        has_dates_(has_dates) {}

  const TaskSpec& task() const { return *task_; }
  std::span<const Sample> samples() const { return samples_; }
  std::span<const ProfileItem> items() const { return items_; }
  std::span<const ProfileItem> profile(const Sample& sample) const {
    return std::span(items_).subspan(sample.profile_begin, sample.profile_size);
  }
  std::size_t size() const { return samples_.size(); }
  // True when the profile items carry a "date" (time-based splits).
  bool has_dates() const { return has_dates_; }
  // Puts the profile of sample `index` in the order `order` (a permutation of 0..size-1).
  void reorder_profile(std::size_t index, std::span<const std::uint32_t> order);

  // Bytes of text lamp copied (escaped strings); the rest is read in place from the file.
  std::size_t copied_bytes() const { return arena_.bytes(); }

 private:
  const TaskSpec* task_;
  Arena arena_;
  std::shared_ptr<const MappedFile> backing_;
  std::vector<Sample> samples_;
  std::vector<ProfileItem> items_;
  bool has_dates_;
};

struct Output {
  std::string_view id;
  std::string_view output;
};

// An outputs file: {"task": "LaMP_N", "golds": [{"id", "output"}]} or a bare list of records.
struct Outputs {
  std::string source;  // the file (or zip entry) it was read from, for messages
  std::string task;    // empty for a bare list
  std::vector<Output> records;
  Arena arena;
};

// A ranking file: {"<sample id>": ["<profile id>", ... best first]} in file order.
struct Ranking {
  struct Entry {
    std::string_view sample_id;
    std::vector<std::string_view> profile_ids;
  };
  std::vector<Entry> entries;
  Arena arena;
};

}  // namespace lamp
