#include "lamp/nn/hub.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/nn/safetensors.h"

namespace lamp::nn {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kConfig = "config.json";
constexpr std::string_view kWeights = "model.safetensors";
constexpr std::string_view kWeightsIndex = "model.safetensors.index.json";
constexpr std::array<std::string_view, 2> kPickledWeights = {"pytorch_model.bin",
                                                             "pytorch_model.bin.index.json"};
constexpr std::array<std::string_view, 6> kOptionalFiles = {
    "generation_config.json",  "tokenizer.json", "tokenizer_config.json",
    "special_tokens_map.json", "spiece.model",   "vocab.txt"};

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// huggingface_hub's _is_true for environment flags.
bool is_true(std::string value) {
  for (char& c : value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return value == "1" || value == "ON" || value == "YES" || value == "TRUE";
}

// os.path.expanduser for the forms that matter here: "~" and "~/...".
fs::path expand_user(const std::string& path) {
  if (path != "~" && !path.starts_with("~/")) return path;
  std::string home = env("HOME");
  if (home.empty()) throw Error(fmt::format("cannot expand \"{}\": $HOME is not set", path));
  return home + path.substr(1);
}

// $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface.
fs::path hf_home() {
  if (std::string home = env("HF_HOME"); !home.empty()) return expand_user(home);
  if (std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty())
    return expand_user(xdg) / "huggingface";
  return expand_user("~/.cache") / "huggingface";
}

std::string trimmed(std::string_view text) {
  auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return std::string(text);
}

bool is_commit_hash(std::string_view revision) {
  return revision.size() == 40 && std::all_of(revision.begin(), revision.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// urllib.parse.quote: everything but unreserved characters (and '/' when kept) as %XX.
std::string url_quote(std::string_view text, bool keep_slash) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// "scheme://host:port" of a URL.
std::string origin(const std::string& url) {
  std::size_t host = url.find("://");
  host = host == std::string::npos ? 0 : host + 3;
  return url.substr(0, url.find('/', host));
}

// A file of the snapshot is there when it (or what its symlink points to) exists.
bool present(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

void create_folder(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw Error(Location{.file = path.string()}, "cannot create the folder: " + ec.message());
}

// An ETag is a file name in blobs/: anything that could leave that folder is refused.
bool is_safe_blob_name(std::string_view etag) {
  return !etag.empty() && etag != "." && etag != ".." &&
         etag.find_first_of("/\\") == std::string_view::npos && etag.find('\0') == etag.npos;
}

// What a HEAD request says about one file.
struct FileMeta {
  std::string commit;
  std::string etag;
  std::optional<std::uint64_t> size;
};

// One repository in the cache, and talking to the hub about it.
class Repo {
 public:
  Repo(std::string_view id, const HubOptions& options)
      : id_(id),
        options_(options),
        cache_(options.cache_dir.empty() ? hub_cache_dir() : options.cache_dir),
        folder_name_("models--" + replace_slashes(id)),
        root_(cache_ / folder_name_) {}

  const std::string& id() const { return id_; }
  const fs::path& cache() const { return cache_; }
  fs::path snapshot(const std::string& commit) const { return root_ / "snapshots" / commit; }
  fs::path ref(const std::string& revision) const { return root_ / "refs" / revision; }
  fs::path no_exist(const std::string& commit, std::string_view file) const {
    return root_ / ".no_exist" / commit / file;
  }

  std::optional<std::string> read_ref(const std::string& revision) const {
    if (is_commit_hash(revision)) return revision;
    if (!present(ref(revision))) return std::nullopt;
    std::string commit = trimmed(read_file(ref(revision)));
    if (!is_commit_hash(commit)) {
      throw Error(Location{.file = ref(revision).string()}, "does not hold a commit hash");
    }
    return commit;
  }

  // What the snapshot lacks: required files (config.json, weights, shards) and optional files
  // neither present nor known missing.
  struct Missing {
    std::vector<std::string> required;
    std::vector<std::string> optional;
  };
  Missing missing(const std::string& commit) const {
    Missing out;
    fs::path dir = snapshot(commit);
    if (!present(dir / kConfig)) out.required.emplace_back(kConfig);
    if (!present(dir / kWeights)) {
      if (present(dir / kWeightsIndex)) {
        for (const std::string& shard : index_shards(dir / kWeightsIndex)) {
          if (!present(dir / shard)) out.required.push_back(shard);
        }
      } else {
        out.required.emplace_back(kWeights);
      }
    }
    for (std::string_view file : kOptionalFiles) {
      if (!present(dir / file) && !present(no_exist(commit, file))) out.optional.emplace_back(file);
    }
    return out;
  }

  // HEAD for `file` at `revision`, following relative redirects only (as huggingface_hub does:
  // a renamed repository answers with one, an LFS file with an absolute one to its storage, whose
  // headers are the ones that describe the file). nullopt: the repository has no such file.
  std::optional<FileMeta> head(const std::string& revision, std::string_view file) const {
    std::string url = file_url(revision, file);
    HeadResult head;
    for (int redirects = 0;; ++redirects) {
      head = head_url(url, head_options());
      std::string location = head.header("location");
      bool relative = head.status >= 300 && head.status < 400 && location.starts_with("/") &&
                      !location.starts_with("//");
      if (!relative) break;
      if (redirects == 10) throw Error(Location{.file = url}, "too many redirects");
      url = origin(url) + location;
    }
    std::string code = head.header("x-error-code");
    if (head.status == 404 && (code.empty() || code == "EntryNotFound")) return std::nullopt;
    if (head.status >= 400) throw http_error(url, head, code);
    FileMeta meta;
    meta.commit = head.header("x-repo-commit");
    std::string etag = head.header("x-linked-etag");
    if (etag.empty()) etag = head.header("etag");
    if (etag.starts_with("W/")) etag.erase(0, 2);
    etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
    meta.etag = etag;
    std::string size = head.header("x-linked-size");
    if (size.empty() && head.status == 200) size = head.header("content-length");
    if (!size.empty()) meta.size = std::strtoull(size.c_str(), nullptr, 10);
    if (!is_commit_hash(meta.commit) || !is_safe_blob_name(meta.etag)) {
      throw Error(Location{.file = url},
                  fmt::format("the answer (HTTP {}) lacks a valid X-Repo-Commit or ETag header: is "
                              "{} a Hugging Face hub?",
                              head.status, endpoint()));
    }
    return meta;
  }

  // Makes snapshots/COMMIT/FILE a symlink to the blob, downloading the blob unless it is there.
  void fetch(const std::string& commit, std::string_view file, const FileMeta& meta) const {
    fs::path blob = root_ / "blobs" / meta.etag;
    if (!present(blob)) download_blob(commit, file, meta, blob);
    fs::path pointer = snapshot(commit) / file;
    create_folder(pointer.parent_path());
    // Beside the pointer, then renamed over it: a concurrent writer of the same link cannot make
    // this fail, and a dangling link left by a deleted blob is replaced.
    fs::path tmp = pointer;
    tmp += fmt::format(".tmp.{}", ::getpid());
    std::error_code ec;
    fs::remove(tmp, ec);
    fs::create_symlink(fs::absolute(blob).lexically_relative(fs::absolute(pointer.parent_path())),
                       tmp, ec);
    if (!ec) fs::rename(tmp, pointer, ec);
    if (ec)
      throw Error(Location{.file = pointer.string()}, "cannot create the link: " + ec.message());
  }

  // Records that `file` does not exist at `commit`, as huggingface_hub does, so that neither asks
  // again.
  void mark_missing(const std::string& commit, std::string_view file) const {
    fs::path marker = no_exist(commit, file);
    create_folder(marker.parent_path());
    write_file_atomic(marker, "");
  }

  void write_ref(const std::string& revision, const std::string& commit) const {
    if (revision == commit || read_ref(revision) == commit) return;
    create_folder(ref(revision).parent_path());
    write_file_atomic(ref(revision), commit);
  }

  std::string endpoint() const {
    std::string out = options_.endpoint.empty() ? env("HF_ENDPOINT") : options_.endpoint;
    if (out.empty()) out = kDefaultHubEndpoint;
    while (out.ends_with('/')) out.pop_back();
    return out;
  }

  void say(const std::string& line) const {
    if (options_.download.log == nullptr) return;
    std::fprintf(options_.download.log, "lamp: %s\n", line.c_str());
    std::fflush(options_.download.log);
  }

 private:
  static std::string replace_slashes(std::string_view id) {
    std::string out;
    for (char c : id) out += c == '/' ? std::string("--") : std::string(1, c);
    return out;
  }

  std::string file_url(const std::string& revision, std::string_view file) const {
    return fmt::format("{}/{}/resolve/{}/{}", endpoint(), id_, url_quote(revision, false),
                       url_quote(file, true));
  }

  // The token: the option, else $HF_TOKEN, else the file huggingface-cli login writes.
  std::string token() const {
    if (!options_.token.empty()) return options_.token;
    if (std::string t = env("HF_TOKEN"); !t.empty()) return t;
    std::string path = env("HF_TOKEN_PATH");
    fs::path file = path.empty() ? hf_home() / "token" : expand_user(path);
    return present(file) ? trimmed(read_file(file)) : "";
  }

  DownloadOptions download_options() const {
    DownloadOptions out = options_.download;
    if (std::string t = token(); !t.empty()) out.headers.push_back("Authorization: Bearer " + t);
    return out;
  }

  // The size of a HEAD answer must be the file's, not a compressed one's.
  DownloadOptions head_options() const {
    DownloadOptions out = download_options();
    out.headers.emplace_back("Accept-Encoding: identity");
    return out;
  }

  Error http_error(const std::string& url, const HeadResult& head, const std::string& code) const {
    Location where{.file = url};
    std::string detail = head.header("x-error-message");
    detail = detail.empty() ? "" : " (" + detail + ")";
    if (code == "RepoNotFound" || head.status == 401) {
      return Error(where, fmt::format("model \"{}\" is not on {}, or it is private: a private or "
                                      "gated model needs a token in HF_TOKEN (HTTP {}){}",
                                      id_, endpoint(), head.status, detail));
    }
    if (code == "RevisionNotFound") {
      return Error(where, fmt::format("model \"{}\" has no revision \"{}\"{}", id_,
                                      options_.revision, detail));
    }
    if (code == "GatedRepo" || head.status == 403) {
      return Error(where, fmt::format("model \"{}\" is gated: accept its conditions on {}/{} and "
                                      "set HF_TOKEN to a token of that account (HTTP {}){}",
                                      id_, endpoint(), id_, head.status, detail));
    }
    return Error(where, fmt::format("HTTP {} {}{}", head.status, head.reason, detail));
  }

  void download_blob(const std::string& commit, std::string_view file, const FileMeta& meta,
                     const fs::path& blob) const {
    create_folder(blob.parent_path());
    fs::path locks = cache_ / ".locks" / folder_name_;
    create_folder(locks);
    // The lock huggingface_hub takes (filelock uses flock on Unix): one writer per blob.
    fs::path lock_path = locks / (meta.etag + ".lock");
    int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0) {
      throw Error(Location{.file = lock_path.string()},
                  fmt::format("cannot create: {}", std::strerror(errno)));
    }
    struct Unlock {
      int fd;
      ~Unlock() { ::close(fd); }
    } unlock{lock};
    while (::flock(lock, LOCK_EX) != 0) {
      if (errno != EINTR) {
        throw Error(Location{.file = lock_path.string()},
                    fmt::format("cannot lock: {}", std::strerror(errno)));
      }
    }
    if (present(blob)) return;  // another process finished it while we waited

    fs::path incomplete = blob;
    incomplete += ".incomplete";
    std::string url = file_url(commit, file);
    download_file(url, incomplete, download_options());
    std::error_code ec;
    std::uint64_t size = fs::file_size(incomplete, ec);
    if (meta.size && size != *meta.size) {
      fs::remove(incomplete, ec);
      throw Error(Location{.file = url},
                  fmt::format("the download has {} bytes but the hub announced {}; it was deleted, "
                              "run again to download it anew",
                              size, *meta.size));
    }
    fs::rename(incomplete, blob, ec);
    if (ec)
      throw Error(Location{.file = blob.string()}, "cannot rename into place: " + ec.message());
    say(fmt::format("{}: downloaded {} ({} bytes)", id_, file, size));
  }

  std::string id_;
  const HubOptions& options_;
  fs::path cache_;
  std::string folder_name_;
  fs::path root_;
};

std::string offline_reason(const HubOptions& options) {
  return options.offline ? "downloads are turned off (offline mode)"
                         : "HF_HUB_OFFLINE is set (unset it to download)";
}

// The error for a snapshot or repository with pickled weights only.
[[noreturn]] void throw_pickled_only(const Repo& repo, const fs::path& snapshot,
                                     std::string_view pickled) {
  std::string name = repo.id().substr(repo.id().rfind('/') + 1);
  throw Error(fmt::format(
      "model \"{}\" has only {} (PyTorch pickle), which lamp does not read; convert it to "
      "safetensors once with: {} and pass the folder \"{}-safetensors\" instead",
      repo.id(), pickled, conversion_command(repo.id(), snapshot / kConfig, name + "-safetensors"),
      name));
}

fs::path resolve_offline(const Repo& repo, const HubOptions& options) {
  std::optional<std::string> commit = repo.read_ref(options.revision);
  if (!commit) {
    throw Error(
        fmt::format("model \"{}\" (revision \"{}\") is not in the Hugging Face cache {}, "
                    "and {}",
                    repo.id(), options.revision, repo.cache().string(), offline_reason(options)));
  }
  Repo::Missing missing = repo.missing(*commit);
  if (missing.required.empty()) return repo.snapshot(*commit);
  const fs::path snapshot = repo.snapshot(*commit);
  if (!present(snapshot / kWeights) && !present(snapshot / kWeightsIndex)) {
    for (std::string_view pickled : kPickledWeights) {
      if (present(snapshot / pickled)) throw_pickled_only(repo, snapshot, pickled);
    }
  }
  std::vector<std::string_view> names(missing.required.begin(), missing.required.end());
  throw Error(Location{.file = snapshot.string()},
              fmt::format("model \"{}\" lacks {} in the Hugging Face cache, and {}", repo.id(),
                          quoted_list(names), offline_reason(options)));
}

fs::path resolve_online(const Repo& repo, const HubOptions& options) {
  // The commit the revision names now; every other file is asked for at that commit, so a push
  // in the middle cannot mix two versions.
  std::optional<FileMeta> config = repo.head(options.revision, kConfig);
  if (!config) {
    throw Error(fmt::format("model \"{}\" has no {} at revision \"{}\" on {}", repo.id(), kConfig,
                            options.revision, repo.endpoint()));
  }
  const std::string commit = config->commit;
  repo.write_ref(options.revision, commit);
  const fs::path snapshot = repo.snapshot(commit);
  if (!present(snapshot / kConfig)) repo.fetch(commit, kConfig, *config);

  // Fetches `file` when it is not in the snapshot yet; false when the repository lacks it.
  auto ensure = [&](std::string_view file) {
    if (present(snapshot / file)) return true;
    if (present(repo.no_exist(commit, file))) return false;
    std::optional<FileMeta> meta = repo.head(commit, file);
    if (!meta) {
      repo.mark_missing(commit, file);
      return false;
    }
    repo.fetch(commit, file, *meta);
    return true;
  };

  // One file, else an index and its shards, else an explanation.
  if (present(snapshot / kWeightsIndex) || !ensure(kWeights)) {
    if (!ensure(kWeightsIndex)) {
      for (std::string_view pickled : kPickledWeights) {
        if (repo.head(commit, pickled)) throw_pickled_only(repo, snapshot, pickled);
      }
      throw Error(fmt::format("model \"{}\" has no {} or {} at revision \"{}\"", repo.id(),
                              kWeights, kWeightsIndex, options.revision));
    }
    for (const std::string& shard : index_shards(snapshot / kWeightsIndex)) {
      if (!ensure(shard)) {
        throw Error(
            fmt::format("model \"{}\": {} names the shard \"{}\", which the repository "
                        "does not have",
                        repo.id(), kWeightsIndex, shard));
      }
    }
  }

  for (std::string_view file : kOptionalFiles) {
    try {
      ensure(file);
    } catch (const Error& e) {
      // The model is complete without them: a network failure here is not worth failing for.
      repo.say(fmt::format("{}: skipping the optional files ({})", repo.id(), e.what()));
      break;
    }
  }
  return snapshot;
}

}  // namespace

fs::path hub_cache_dir() {
  for (const char* name : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"}) {
    if (std::string dir = env(name); !dir.empty()) return expand_user(dir);
  }
  return hf_home() / "hub";
}

bool is_hub_id(std::string_view id) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  auto part_ok = [&](std::string_view part) {
    return !part.empty() && word(part.front()) && word(part.back()) &&
           std::all_of(part.begin(), part.end(),
                       [&](char c) { return word(c) || c == '-' || c == '.'; });
  };
  if (id.empty() || id.size() > 96 || id.find("--") != id.npos || id.find("..") != id.npos) {
    return false;
  }
  std::size_t slash = id.find('/');
  if (slash == id.npos) return part_ok(id);
  return part_ok(id.substr(0, slash)) && part_ok(id.substr(slash + 1));
}

fs::path resolve_model(std::string_view dir_or_id, const HubOptions& options) {
  fs::path local(dir_or_id);
  std::error_code ec;
  if (fs::is_directory(local, ec)) {
    if (!present(local / kConfig)) {
      throw Error(Location{.file = local.string()}, "has no config.json: not a model folder");
    }
    find_weights(local);
    return local;
  }
  if (fs::exists(local, ec)) {
    throw Error(Location{.file = local.string()},
                "is a file; expected a model folder or a "
                "Hugging Face model id");
  }
  if (!is_hub_id(dir_or_id)) {
    throw Error(Location{.file = local.string()},
                "no such folder, and not a Hugging Face model id (ORG/NAME)");
  }
  // The revision becomes a path under refs/: it must stay there.
  if (options.revision.empty() || options.revision.front() == '/' ||
      options.revision.find("..") != std::string::npos) {
    throw Error(fmt::format("\"{}\" is not a valid revision", options.revision));
  }
  Repo repo(dir_or_id, options);
  if (std::optional<std::string> commit = repo.read_ref(options.revision)) {
    Repo::Missing missing = repo.missing(*commit);
    if (missing.required.empty() && missing.optional.empty()) return repo.snapshot(*commit);
  }
  if (options.offline || is_true(env("HF_HUB_OFFLINE"))) return resolve_offline(repo, options);
  return resolve_online(repo, options);
}

}  // namespace lamp::nn
