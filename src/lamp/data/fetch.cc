#include "lamp/data/fetch.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "lamp/core/error.h"
#include "lamp/core/shared_library.h"
#include "lamp/data/json_io.h"

namespace lamp {
namespace {

// Where a task's files are on the server. The registry row says what a task is; where the LaMP
// authors happened to publish it is a fact about the server, so it lives here, by task name.
// An open file descriptor, closed when it goes.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void throw_errno(const std::filesystem::path& path, std::string_view what) {
  throw Error(Location{.file = path.string()}, fmt::format("{}: {}", what, std::strerror(errno)));
}

std::uint64_t file_size(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno(path, "cannot stat");
  return static_cast<std::uint64_t>(st.st_size);
}

// For cleaning up after a failure: never throws over the error being reported.
bool is_empty(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && st.st_size == 0;
}

void truncate_to_zero(int fd, const std::filesystem::path& path) {
  if (::ftruncate(fd, 0) != 0) throw_errno(path, "cannot truncate");
}

std::string human_bytes(std::uint64_t bytes) {
  if (bytes < 1000) return fmt::format("{} B", bytes);
  const char* units[] = {"kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes) / 1000.0;
  int unit = 0;
  while (value >= 1000.0 && unit < 3) {
    value /= 1000.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, units[unit]);
}

// The last path segment of a URL, for the progress line.
std::string_view url_basename(std::string_view url) {
  std::size_t slash = url.rfind('/');
  return slash == std::string_view::npos ? url : url.substr(slash + 1);
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n' || text.back() == ' ' ||
                           text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The one-line progress meter, redrawn at most every 100 ms.
class Meter {
 public:
  Meter(const DownloadOptions& options, std::string_view label)
      : log_(options.live_progress ? options.log : nullptr), label_(label) {}
  ~Meter() { clear(); }

  void update(std::uint64_t done, std::optional<std::uint64_t> total) {
    if (log_ == nullptr) return;
    auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    drawn_ = true;
    if (total && *total > 0) {
      std::fprintf(log_, "\r%s: %s of %s (%d%%)\033[K", label_.c_str(), human_bytes(done).c_str(),
                   human_bytes(*total).c_str(), static_cast<int>(done * 100 / *total));
    } else {
      std::fprintf(log_, "\r%s: %s\033[K", label_.c_str(), human_bytes(done).c_str());
    }
    std::fflush(log_);
  }

  // Removes the meter so that a normal line can follow.
  void clear() {
    if (log_ == nullptr || !drawn_) return;
    std::fputs("\r\033[K", log_);
    std::fflush(log_);
    drawn_ = false;
  }

  // A line that stays (a retry notice), only shown along with the meter.
  void note(const std::string& line) {
    if (log_ == nullptr) return;
    clear();
    std::fprintf(log_, "lamp: %s\n", line.c_str());
    std::fflush(log_);
  }

 private:
  std::FILE* log_;
  std::string label_;
  std::chrono::steady_clock::time_point last_;
  bool drawn_ = false;
};

// The state of one HTTP request, shared with libcurl's callbacks.
struct Attempt {
  int fd = -1;
  std::uint64_t offset = 0;   // bytes in the file when the request was made
  std::uint64_t written = 0;  // body bytes appended by this request
  long status = 0;            // of the latest response (redirects included)
  std::string reason;
  std::optional<std::uint64_t> range_start;  // from Content-Range
  std::optional<std::uint64_t> range_total;  // from Content-Range
  std::optional<std::uint64_t> content_length;
  int write_errno = 0;
  bool wrong_range = false;  // a 206 for other bytes than we asked for
  Meter* meter = nullptr;

  std::optional<std::uint64_t> total() const {
    if (status == 206 || status == 416) return range_total;
    if (content_length) return *content_length;
    return std::nullopt;
  }
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* a = static_cast<Attempt*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A new response (after a redirect or a 100 Continue): forget the previous one's headers.
    a->range_start.reset();
    a->range_total.reset();
    a->content_length.reset();
    a->status = 0;
    a->reason.clear();
    std::size_t space = line.find(' ');
    if (space != std::string_view::npos) {
      std::string_view rest = trim(line.substr(space + 1));
      std::size_t end = rest.find(' ');
      if (auto code = parse_u64(rest.substr(0, end))) a->status = static_cast<long>(*code);
      if (end != std::string_view::npos) a->reason = std::string(trim(rest.substr(end + 1)));
    }
  } else if (starts_with_nocase(line, "content-length:")) {
    a->content_length = parse_u64(trim(line.substr(15)));
  } else if (starts_with_nocase(line, "content-range:")) {
    // "bytes 100-199/200" or "bytes */200"
    std::string_view value = trim(line.substr(14));
    if (starts_with_nocase(value, "bytes")) value = trim(value.substr(5));
    std::size_t slash = value.find('/');
    if (slash != std::string_view::npos) {
      a->range_total = parse_u64(value.substr(slash + 1));
      std::string_view range = value.substr(0, slash);
      a->range_start = parse_u64(range.substr(0, range.find('-')));
    }
  }
  return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* a = static_cast<Attempt*>(user);
  std::size_t bytes = size * count;
  // An error page's body is not the file.
  if (a->status != 200 && a->status != 206) return bytes;
  if (a->written == 0) {
    if (a->status == 206 && a->range_start != a->offset) {
      a->wrong_range = true;
      return 0;  // aborts the transfer
    }
    if (a->status == 200 && a->offset > 0) {
      // The whole resource again (libcurl normally refuses this itself): start over.
      if (::ftruncate(a->fd, 0) != 0) {
        a->write_errno = errno;
        return 0;
      }
      a->offset = 0;
    }
  }
  const char* p = data;
  std::size_t left = bytes;
  while (left > 0) {
    ssize_t n = ::write(a->fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      a->write_errno = errno;
      return 0;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  a->written += bytes;
  if (a->meter != nullptr) {
    a->meter->update(a->offset + a->written, a->total());
  }
  return bytes;
}

// libcurl's functions, loaded the first time lamp goes online (core/shared_library.h says why).
struct Curl {
  decltype(&curl_global_init) global_init;
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_perform) easy_perform;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_easy_strerror) easy_strerror;
  decltype(&curl_slist_append) slist_append;
  decltype(&curl_slist_free_all) slist_free_all;
  decltype(&curl_getdate) getdate;
};

// Loaded and initialised once (thread-safe: a static's initialisation).
const Curl& curl() {
  static const Curl loaded = [] {
    SharedLibrary library("libcurl.so.4");
    Curl c{};
    library.bind(c.global_init, "curl_global_init");
    library.bind(c.easy_init, "curl_easy_init");
    library.bind(c.easy_setopt, "curl_easy_setopt");
    library.bind(c.easy_perform, "curl_easy_perform");
    library.bind(c.easy_cleanup, "curl_easy_cleanup");
    library.bind(c.easy_strerror, "curl_easy_strerror");
    library.bind(c.slist_append, "curl_slist_append");
    library.bind(c.slist_free_all, "curl_slist_free_all");
    library.bind(c.getdate, "curl_getdate");
    if (c.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw Error("cannot initialise libcurl");
    return c;
  }();
  return loaded;
}

// Transient failures worth another attempt; everything else is reported at once.
bool retryable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool retryable_status(long status) { return status >= 500 || status == 408 || status == 429; }

std::string describe_status(long status, const std::string& reason) {
  return reason.empty() ? fmt::format("HTTP {}", status)
                        : fmt::format("HTTP {} {}", status, reason);
}

// One libcurl transfer with lamp's settings; what is common to downloads and HEAD requests.
class Transfer {
 public:
  Transfer(const std::string& url, const DownloadOptions& options)
      : curl_(curl().easy_init(), curl().easy_cleanup) {
    if (!curl_) throw Error(Location{.file = url}, "cannot start a libcurl transfer");
    for (const std::string& header : options.headers) {
      curl_slist* longer = curl().slist_append(headers_.get(), header.c_str());
      if (longer == nullptr) throw Error(Location{.file = url}, "out of memory for headers");
      headers_.release();
      headers_.reset(longer);
    }
    CURL* h = curl_.get();
    curl().easy_setopt(h, CURLOPT_URL, url.c_str());
    curl().easy_setopt(h, CURLOPT_ERRORBUFFER, errors_);
    curl().easy_setopt(h, CURLOPT_HTTPHEADER, headers_.get());
#if LIBCURL_VERSION_NUM >= 0x075500
    curl().easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl().easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl().easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl().easy_setopt(h, CURLOPT_REDIR_PROTOCOLS,
                       static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl().easy_setopt(h, CURLOPT_USERAGENT, "lamp/0.1.0 (libcurl)");
    // No signals: the library may be used from several threads.
    curl().easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl().easy_setopt(h, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
    curl().easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl().easy_setopt(h, CURLOPT_LOW_SPEED_TIME, options.stall_timeout_s);
  }

  CURL* get() const { return curl_.get(); }
  // libcurl's message for the last failure, else the generic text for `code`.
  std::string error(CURLcode code) const {
    return errors_[0] != '\0' ? std::string(trim(errors_)) : curl().easy_strerror(code);
  }

 private:
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl_;
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers_{nullptr,
                                                                       curl().slist_free_all};
  char errors_[CURL_ERROR_SIZE] = {};
};

// The wait before attempt `failures` + 1.
std::chrono::milliseconds backoff_after(int failures, const DownloadOptions& options) {
  return options.backoff * (1 << std::min(failures - 1, 10));
}

enum class Outcome { kComplete, kRetry, kRestart };

// One request for the bytes after what `a.fd` holds. Throws lamp::Error for failures that
// another attempt would not fix; `why` says what went wrong for kRetry.
Outcome request(const std::string& url, const std::filesystem::path& path,
                const DownloadOptions& options, Attempt& a, std::string& why) {
  Transfer transfer(url, options);
  CURL* h = transfer.get();
  curl().easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl().easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl().easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl().easy_setopt(h, CURLOPT_HEADERDATA, &a);
  curl().easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl().easy_setopt(h, CURLOPT_WRITEDATA, &a);
  curl().easy_setopt(h, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(a.offset));

  CURLcode code = curl().easy_perform(h);
  if (a.write_errno != 0) {
    errno = a.write_errno;
    throw_errno(path, "cannot write");
  }
  if (a.wrong_range) {
    why = fmt::format("the server sent bytes from {} when asked for bytes from {}",
                      a.range_start ? fmt::format("{}", *a.range_start) : "?", a.offset);
    return Outcome::kRestart;
  }
  std::string detail = transfer.error(code);
  if (code == CURLE_RANGE_ERROR) {
    why = "the server does not resume downloads";
    return Outcome::kRestart;
  }
  if (code != CURLE_OK) {
    if (retryable(code)) {
      why = detail;
      return Outcome::kRetry;
    }
    throw Error(Location{.file = url}, "download failed: " + detail);
  }
  if (a.status == 200 || a.status == 206) return Outcome::kComplete;
  if (a.status == 416 && a.offset > 0) {
    // Nothing after our bytes: complete, unless the server says the file has another size.
    if (a.range_total && *a.range_total != a.offset) {
      why = fmt::format("the partial file has {} bytes but the server's has {}", a.offset,
                        *a.range_total);
      return Outcome::kRestart;
    }
    return Outcome::kComplete;
  }
  why = describe_status(a.status, a.reason);
  if (retryable_status(a.status)) return Outcome::kRetry;
  throw Error(Location{.file = url}, "download failed: " + why);
}

DownloadResult download_into(const std::string& url, const std::filesystem::path& path,
                             const DownloadOptions& options, int fd) {
  Meter meter(options, url_basename(url));
  DownloadResult result;
  const std::uint64_t initial = file_size(fd, path);
  bool restarted = false;
  int failures = 0;
  for (;;) {
    const std::uint64_t asked = file_size(fd, path);
    Attempt a{.fd = fd, .offset = asked, .meter = &meter};
    std::string why;
    Outcome outcome = request(url, path, options, a, why);
    result.received += a.written;
    if (a.offset != asked) restarted = true;  // the server sent it all again
    if (outcome == Outcome::kComplete) break;
    if (outcome == Outcome::kRestart) {
      // Start over from byte 0. A restart after a ranged request is free, since the next request
      // has no range; one from byte 0 already (a confused server) counts as a failure, so this
      // cannot loop.
      truncate_to_zero(fd, path);
      restarted = true;
      if (asked > 0) {
        meter.note(fmt::format("{}: {}; downloading it from the start", url, why));
        continue;
      }
    }
    if (++failures >= options.max_attempts) {
      std::uint64_t kept = file_size(fd, path);
      std::string resume_hint =
          kept > 0 ? fmt::format(" (the {} received are kept in {}: run again to resume)",
                                 human_bytes(kept), path.string())
                   : "";
      throw Error(Location{.file = url},
                  fmt::format("download failed after {} attempt{}: {}{}", failures,
                              failures == 1 ? "" : "s", why, resume_hint));
    }
    auto wait = backoff_after(failures, options);
    meter.note(fmt::format("{}: {}; retrying in {} ms (attempt {} of {})", url, why, wait.count(),
                           failures + 1, options.max_attempts));
    std::this_thread::sleep_for(wait);
  }
  meter.clear();
  if (::fsync(fd) != 0) throw_errno(path, "cannot write");
  result.size = file_size(fd, path);
  result.resumed = initial > 0 && !restarted;
  return result;
}

void validate(const RemoteFile& file, const std::filesystem::path& path, const TaskSpec& task) {
  if (file.is_questions) {
    Questions questions = read_questions(path, &task);
    (void)questions;
    return;
  }
  Outputs outputs = read_outputs(path);
  if (!outputs.task.empty() && outputs.task != task.eval_name) {
    throw Error(Location{.file = path.string(), .field = "task"},
                fmt::format("is \"{}\", expected \"{}\"", outputs.task, task.eval_name));
  }
}

void say(std::FILE* log, const std::string& line) {
  if (log == nullptr) return;
  std::fprintf(log, "lamp: %s\n", line.c_str());
  std::fflush(log);
}

std::filesystem::path fetch_file(const RemoteFile& file, const FetchRequest& request) {
  const TaskSpec& task = *request.task;
  std::filesystem::path target = request.dir / file.name;
  std::filesystem::path partial = request.dir / (file.name + ".part");
  std::FILE* log = request.download.log;

  std::error_code ec;
  if (std::filesystem::exists(target, ec)) {
    try {
      validate(file, target, task);
      say(log, fmt::format("{}: already present", target.string()));
      return target;
    } catch (const Error& e) {
      say(log, fmt::format("{} is there but not valid ({}): downloading it again", target.string(),
                           e.message()));
    }
  }

  // One downloader per .part file: a second one would interleave its bytes with ours.
  Fd fd(::open(partial.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw_errno(partial, "cannot create");
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    throw Error(Location{.file = partial.string()},
                "another process is downloading into this file; wait for it or stop it");
  }
  DownloadResult got;
  try {
    got = download_into(file.url, partial, request.download, fd.get());
  } catch (...) {
    // An empty .part holds nothing worth resuming.
    std::error_code ignored;
    if (is_empty(fd.get())) std::filesystem::remove(partial, ignored);
    throw;
  }
  try {
    validate(file, partial, task);
  } catch (const Error& e) {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    throw Error(Location{.file = file.url},
                fmt::format("the download is not a valid {} {} file, so it was deleted: {}",
                            task.name, file.is_questions ? "questions" : "outputs", e.what()));
  }
  std::filesystem::rename(partial, target, ec);
  if (ec) {
    throw Error(Location{.file = target.string()}, "cannot rename into place: " + ec.message());
  }
  say(log, fmt::format("saved {} ({}{}, from {})", target.string(), human_bytes(got.size),
                       got.resumed ? ", resumed" : "", file.url));
  return target;
}

std::size_t on_head_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* head = static_cast<HeadResult*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    *head = HeadResult{};
    std::string_view rest = trim(line.substr(std::min(line.find(' '), line.size())));
    std::size_t end = rest.find(' ');
    if (auto code = parse_u64(rest.substr(0, end))) head->status = static_cast<long>(*code);
    if (end != std::string_view::npos) head->reason = std::string(trim(rest.substr(end + 1)));
  } else if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    head->headers.emplace_back(std::move(name), std::string(trim(line.substr(colon + 1))));
  }
  return size * count;
}

std::size_t on_post_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

}  // namespace

std::string HeadResult::header(std::string_view name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return "";
}

HeadResult head_url(const std::string& url, const DownloadOptions& options) {
  curl();  // loads libcurl before any thread starts a transfer
  Meter meter(options, url_basename(url));
  for (int failures = 1;; ++failures) {
    Transfer transfer(url, options);
    CURL* h = transfer.get();
    HeadResult head;
    curl().easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl().easy_setopt(h, CURLOPT_HEADERFUNCTION, on_head_header);
    curl().easy_setopt(h, CURLOPT_HEADERDATA, &head);
    CURLcode code = curl().easy_perform(h);
    std::string why;
    if (code != CURLE_OK) {
      if (!retryable(code))
        throw Error(Location{.file = url}, "request failed: " + transfer.error(code));
      why = transfer.error(code);
    } else if (retryable_status(head.status)) {
      why = describe_status(head.status, head.reason);
    } else {
      return head;
    }
    if (failures >= options.max_attempts) {
      throw Error(Location{.file = url}, fmt::format("request failed after {} attempt{}: {}",
                                                     failures, failures == 1 ? "" : "s", why));
    }
    auto wait = backoff_after(failures, options);
    meter.note(fmt::format("{}: {}; retrying in {} ms (attempt {} of {})", url, why, wait.count(),
                           failures + 1, options.max_attempts));
    std::this_thread::sleep_for(wait);
  }
}

PostResult post_once(const std::string& url, std::string_view body,
                     const DownloadOptions& options) {
  curl();  // loads libcurl before any thread starts a transfer
  Transfer transfer(url, options);
  CURL* h = transfer.get();
  PostResult result;
  curl().easy_setopt(h, CURLOPT_POST, 1L);
  curl().easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl().easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl().easy_setopt(h, CURLOPT_HEADERFUNCTION, on_head_header);
  curl().easy_setopt(h, CURLOPT_HEADERDATA, &result.head);
  curl().easy_setopt(h, CURLOPT_WRITEFUNCTION, on_post_body);
  curl().easy_setopt(h, CURLOPT_WRITEDATA, &result.body);
  CURLcode code = curl().easy_perform(h);
  if (code != CURLE_OK) {
    result.head.status = 0;
    result.failure = transfer.error(code);
    result.transient = retryable(code);
  }
  return result;
}

std::string_view split_name(Split split) { return split == Split::kTime ? "time" : "user"; }

std::string_view part_name(Part part) {
  switch (part) {
    case Part::kTrain:
      return "train";
    case Part::kDev:
      return "dev";
    case Part::kTest:
      return "test";
  }
  return "train";
}

std::string resolve_base_url(std::string_view flag) {
  std::string base(flag);
  if (base.empty()) {
    const char* env = std::getenv("LAMP_DATA_URL");
    base = env != nullptr && env[0] != '\0' ? env : std::string(kDefaultDataUrl);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

std::vector<RemoteFile> dataset_files(const TaskSpec& task, Split split, Part part,
                                      std::string_view base_url) {
  if (task.download_folder.empty()) throw Error(std::string(task.not_downloadable));
  std::string base(base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string folder = fmt::format("{}/{}{}/{}/", base, split == Split::kTime ? "time/" : "",
                                   task.download_folder, part_name(part));
  std::vector<RemoteFile> files;
  std::string questions = fmt::format("{}_questions.json", part_name(part));
  files.push_back({.url = folder + questions, .name = questions, .is_questions = true});
  // The test part's golds are hidden: the server has no outputs file for it.
  if (part != Part::kTest) {
    std::string outputs = fmt::format("{}_outputs.json", part_name(part));
    files.push_back({.url = folder + outputs, .name = outputs, .is_questions = false});
  }
  return files;
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
  std::time_t when = curl().getdate(std::string(text).c_str(), nullptr);
  if (when == -1) return std::nullopt;
  return when;
}

DownloadResult download_file(const std::string& url, const std::filesystem::path& path,
                             const DownloadOptions& options) {
  curl();  // loads libcurl before any thread starts a transfer
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw_errno(path, "cannot create");
  try {
    return download_into(url, path, options, fd.get());
  } catch (...) {
    std::error_code ignored;
    if (is_empty(fd.get())) std::filesystem::remove(path, ignored);
    throw;
  }
}

std::vector<std::filesystem::path> fetch_dataset(const FetchRequest& request) {
  assert(request.task != nullptr);
  curl();  // loads libcurl before any thread starts a transfer
  std::string base = request.base_url.empty() ? resolve_base_url("") : request.base_url;
  std::vector<RemoteFile> files = dataset_files(*request.task, request.split, request.part, base);
  std::error_code ec;
  std::filesystem::create_directories(request.dir, ec);
  if (ec || !std::filesystem::is_directory(request.dir)) {
    throw Error(Location{.file = request.dir.string()},
                "cannot create the directory" + (ec ? ": " + ec.message() : std::string()));
  }
  std::vector<std::filesystem::path> paths;
  for (const RemoteFile& file : files) paths.push_back(fetch_file(file, request));
  return paths;
}

}  // namespace lamp
