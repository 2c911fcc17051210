// File access for lamp: read-only memory maps with zeroed tail padding (for simdjson), and atomic
// writes (a temporary file beside the target, renamed into place on commit), so no output is ever
// half-written. All errors are lamp::Error naming the path.
//
// Thread-safety: distinct objects may be used from distinct threads; one object is not shared.
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace lamp {

// A whole file mapped read-only, followed by `padding` readable zero bytes.
class MappedFile {
 public:
  MappedFile(const std::filesystem::path& path, std::size_t padding);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

  // Tells the kernel the bytes before `end` will not be read again, so their pages leave the
  // process's resident set. Reading them afterwards is still valid (they are read back from disk).
  void release_before(const char* end);

 private:
  std::filesystem::path path_;
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;
  std::size_t released_ = 0;
};

// Writes to "<path>.tmp.<pid>" and renames onto `path` in commit(). Destroyed uncommitted (an
// exception, an early return), it deletes the temporary file and leaves `path` untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);
  void commit();

 private:
  std::filesystem::path path_;
  std::filesystem::path tmp_;
  std::FILE* file_ = nullptr;
  static constexpr std::size_t kWritebackEvery = std::size_t{1} << 20;
  int slot_ = -1;             // in the table the signal handler cleans up
  std::size_t unsynced_ = 0;  // bytes written since writeback was last started
};

// Makes SIGINT, SIGTERM and SIGHUP delete the temporary files of live AtomicFiles before the
// process dies of the signal (destructors do not run then). Call once, early in main().
void remove_temporary_files_on_signals();

std::string read_file(const std::filesystem::path& path);
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace lamp
