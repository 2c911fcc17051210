#include "lamp/core/files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "lamp/core/error.h"
#include "lamp/core/memory.h"

namespace lamp {
namespace {

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

[[noreturn]] void throw_errno(const std::filesystem::path& path, std::string_view what) {
  throw Error(Location{.file = path.string()}, fmt::format("{}: {}", what, std::strerror(errno)));
}

// Temporary files of live AtomicFiles, for the signal handler: fixed storage, because a handler
// may only touch memory that is never reallocated and call async-signal-safe functions.
constexpr int kTempSlots = 64;
constexpr std::size_t kTempPathMax = 4096;
char g_temp_paths[kTempSlots][kTempPathMax];
std::atomic<bool> g_temp_used[kTempSlots];

int claim_temp_slot(const std::filesystem::path& path) {
  if (path.native().size() >= kTempPathMax) return -1;
  for (int i = 0; i < kTempSlots; ++i) {
    bool expected = false;
    if (g_temp_used[i].compare_exchange_strong(expected, true)) {
      std::memcpy(g_temp_paths[i], path.c_str(), path.native().size() + 1);
      return i;
    }
  }
  return -1;  // more than 64 at once: that file is just not cleaned up on a signal
}

void release_temp_slot(int slot) {
  if (slot >= 0) g_temp_used[slot].store(false);
}

extern "C" void remove_temp_files_and_die(int signal) {
  for (int i = 0; i < kTempSlots; ++i) {
    if (g_temp_used[i].load()) ::unlink(g_temp_paths[i]);
  }
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

}  // namespace

void remove_temporary_files_on_signals() {
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) std::signal(signal, remove_temp_files_and_die);
}

MappedFile::MappedFile(const std::filesystem::path& path, std::size_t padding) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno(path, "cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw_errno(path, "cannot stat");
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error(Location{.file = path.string()}, "is a directory, not a file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  // Reserve size + padding of zeroed anonymous memory, then map the file over its start: the
  // padding stays readable zeros even when the file ends on a page boundary.
  mapped_ = (size_ + padding + page_size() - 1) / page_size() * page_size();
  if (mapped_ == 0) mapped_ = page_size();
  // A file of 2 MB or more starts on a huge page boundary, so that the kernel can map the page
  // cache's 2 MB folios whole: mapping the LaMP-5 benchmark file (226 MB) took 3.6-5.6 ms in
  // 4 KB pages, 1.3 ms so.
  const std::size_t align = size_ >= kHugePage ? kHugePage : page_size();
  void* reserved =
      ::mmap(nullptr, mapped_ + align - page_size(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (reserved == MAP_FAILED) {
    ::close(fd);
    throw_errno(path, "cannot reserve memory for");
  }
  auto* start = static_cast<char*>(reserved);
  const std::size_t skip = (align - reinterpret_cast<std::uintptr_t>(start) % align) % align;
  char* base = start + skip;
  // Gives back what is before and after [base, base + mapped_).
  if (skip > 0) ::munmap(start, skip);
  if (align - page_size() > skip) ::munmap(base + mapped_, align - page_size() - skip);
  if (size_ > 0) {
    // MAP_POPULATE maps every page in one call: callers read the whole file anyway, and one
    // fault per 64 KB costs more than the parse itself on virtual machines.
    void* file = ::mmap(base, size_, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, fd, 0);
    if (file == MAP_FAILED) {
      ::munmap(base, mapped_);
      ::close(fd);
      throw_errno(path, "cannot map");
    }
    ::madvise(base, size_, MADV_SEQUENTIAL);
  }
  ::close(fd);
  data_ = static_cast<char*>(base);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, mapped_);
}

void MappedFile::release_before(const char* end) {
  std::size_t offset = static_cast<std::size_t>(end - data_);
  std::size_t aligned = offset / page_size() * page_size();
  if (aligned > size_) aligned = size_ / page_size() * page_size();
  if (aligned <= released_) return;
  ::madvise(data_ + released_, aligned - released_, MADV_DONTNEED);
  released_ = aligned;
}

AtomicFile::AtomicFile(std::filesystem::path path)
    : path_(std::move(path)), tmp_(path_.string() + fmt::format(".tmp.{}", ::getpid())) {
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (file_ == nullptr) throw_errno(tmp_, "cannot create");
  slot_ = claim_temp_slot(tmp_);
  // A large stdio buffer: outputs are written in many small pieces.
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
}

AtomicFile::~AtomicFile() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::filesystem::remove(tmp_);
  }
  release_temp_slot(slot_);
}

void AtomicFile::write(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    throw_errno(tmp_, "cannot write");
  }
  // Every MB, the kernel is asked to start writing what it has (without waiting), so that
  // commit's fsync has little left to do: 2.4-3.9 ms -> 0.4-1.6 ms for lamp rank's 2.3 MB
  // ranking file. Only a hint; its failure changes nothing.
  unsynced_ += bytes.size();
  if (unsynced_ >= kWritebackEvery) {
    unsynced_ = 0;
    if (std::fflush(file_) != 0) throw_errno(tmp_, "cannot write");
    ::sync_file_range(::fileno(file_), 0, 0, SYNC_FILE_RANGE_WRITE);
  }
}

void AtomicFile::commit() {
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0) {
    std::fclose(f);
    std::filesystem::remove(tmp_);
    throw_errno(tmp_, "cannot write");
  }
  std::fclose(f);
  std::error_code ec;
  std::filesystem::rename(tmp_, path_, ec);
  release_temp_slot(slot_);
  slot_ = -1;
  if (ec) {
    std::filesystem::remove(tmp_);
    throw Error(Location{.file = path_.string()}, "cannot rename into place: " + ec.message());
  }
}

std::string read_file(const std::filesystem::path& path) {
  MappedFile file(path, 0);
  return std::string(file.data(), file.size());
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFile out(path);
  out.write(bytes);
  out.commit();
}

}  // namespace lamp
