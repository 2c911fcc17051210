// Downloading the official LaMP data files ("lamp data fetch") with libcurl.
//
// A dataset is one (task, split, part): its questions file and, except for the test part (whose
// golds are hidden), its outputs file, laid out on the server as
//   {base}/[time/]LaMP_N/[new/]{part}/{part}_{questions,outputs}.json
// ("new/" holds LaMP-2's movie tagging). Each file is saved under its official name in the target
// directory, by way of "NAME.part":
//  - an existing .part is resumed with an HTTP Range request; a server that ignores the range
//    (200) restarts it from zero, one that answers 416 (nothing left) means it is complete;
//  - connection failures, cut transfers and 5xx answers are retried with a short backoff,
//    resuming from what arrived, up to DownloadOptions::max_attempts;
//  - the finished file is validated with lamp's own readers before it is renamed into place, so
//    the official name only ever holds a complete, valid file; an invalid download is deleted so
//    a re-run starts clean;
//  - a final file that is already there and valid is kept without touching the network.
// LaMP-6 (private Avocado e-mails) and LaMP-2N (the first release's news task) are not on the
// server: asking for them is a lamp::Error saying so. Every failure is a lamp::Error naming the
// URL or file. download_file and head_url are also the HTTP layer of nn/hub.h (model downloads).
//
// Thread-safety: distinct calls may run on distinct threads if they write distinct files.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lamp/data/task.h"

namespace lamp {

inline constexpr std::string_view kDefaultDataUrl = "https://ciir.cs.umass.edu/downloads/LaMP";

enum class Split { kUser, kTime };
enum class Part { kTrain, kDev, kTest };

std::string_view split_name(Split split);  // "user", "time"
std::string_view part_name(Part part);     // "train", "dev", "test"

// One file of a dataset: where it is on the server and its official local name.
struct RemoteFile {
  std::string url;
  std::string name;   // "dev_questions.json"
  bool is_questions;  // a questions file; otherwise an outputs (golds) file
};

// The server's base URL: `flag` when non-empty, else $LAMP_DATA_URL when set and non-empty,
// else kDefaultDataUrl; trailing slashes removed.
std::string resolve_base_url(std::string_view flag);

// The files of one dataset, questions first. Throws lamp::Error for tasks that cannot be
// downloaded (LaMP-6, LaMP-2N), explaining where their data comes from instead.
std::vector<RemoteFile> dataset_files(const TaskSpec& task, Split split, Part part,
                                      std::string_view base_url);

struct DownloadOptions {
  int max_attempts = 3;
  std::chrono::milliseconds backoff{1000};  // before the 2nd attempt; doubles after each
  long connect_timeout_s = 30;
  // A transfer that receives nothing for this long fails (and is retried): stalls end.
  long stall_timeout_s = 60;
  // Where to say what happened, one line per file; nullptr: silent.
  std::FILE* log = nullptr;
  // Redraw a one-line progress meter on `log` while downloading (for a terminal).
  bool live_progress = false;
  // Extra request headers ("Name: value"), sent with every request. libcurl leaves an
  // "Authorization" header out of requests redirected to another host, so a token sent to a
  // model hub does not reach the storage it redirects to.
  std::vector<std::string> headers;
};

struct DownloadResult {
  std::uint64_t size = 0;      // bytes in the file now
  std::uint64_t received = 0;  // bytes this call transferred
  bool resumed = false;        // some bytes were already there and kept
};

// Downloads `url` (http or https) into `path`, resuming from the bytes `path` already holds and
// retrying as described above; on return `path` holds the whole resource, flushed to disk. On
// failure the bytes received so far stay in `path` for a later resume (an empty file is removed).
// Callers coordinate: two downloads into one path at once corrupt it.
DownloadResult download_file(const std::string& url, const std::filesystem::path& path,
                             const DownloadOptions& options);

// The answer to a HEAD request.
struct HeadResult {
  long status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case, in order
  // The value of the last header called `name` (lower case); empty when there is none.
  std::string header(std::string_view name) const;
};

// Sends HEAD `url` with options.headers, without following redirects (a redirect is an answer:
// its headers are what a caller may want). Connection failures, 5xx, 408 and 429 answers are
// retried like download_file's; any other answer, 4xx included, is returned. Throws lamp::Error
// naming the URL when the retries run out.
HeadResult head_url(const std::string& url, const DownloadOptions& options);

// The answer to one POST, or why none came.
struct PostResult {
  HeadResult head;  // status 0 when no answer came
  std::string body;
  std::string failure;     // libcurl's message when no answer came
  bool transient = false;  // the failure is worth another attempt (a reset, a timeout)
};

// Sends `body` to `url` once with POST and options.headers, without following redirects or
// retrying (API clients retry by their own rules). Every answer is returned, whatever its status.
PostResult post_once(const std::string& url, std::string_view body, const DownloadOptions& options);

// An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT", or the older forms HTTP allows), as libcurl
// reads it; nullopt when it is not one.
std::optional<std::time_t> parse_http_date(std::string_view text);

struct FetchRequest {
  const TaskSpec* task = nullptr;  // required
  Split split = Split::kUser;
  Part part = Part::kTrain;
  std::filesystem::path dir;  // created when missing
  std::string base_url;       // empty: resolve_base_url("")
  DownloadOptions download;
};

// Fetches one dataset into request.dir; returns the paths of its files (present or downloaded),
// questions first.
std::vector<std::filesystem::path> fetch_dataset(const FetchRequest& request);

}  // namespace lamp
