// Tests for finding models: local folders, and hub ids resolved in a Hugging Face cache in a
// temporary folder, downloaded from a fake hub on loopback (testing_util::HttpServer) that answers
// like huggingface.co: small files with an ETag, LFS files with a redirect to their storage and
// X-Linked-Etag / X-Linked-Size, X-Repo-Commit on every answer, X-Error-Code on errors.
#include "lamp/nn/hub.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/test_util.h"
#include "lamp/nn/safetensors.h"

namespace lamp::nn {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing_util::HttpRequest;
using testing_util::HttpResponse;
using testing_util::slurp;
using testing_util::TempDir;

constexpr std::string_view kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kModelId = "org/tiny";

// One repository, "org/tiny", at one commit, reachable as revision "main" or by its hash; the old
// name "old/tiny" redirects to it as a renamed repository does.
class FakeHub {
 public:
  FakeHub() : server_([this](const HttpRequest& r) { return answer(r); }) {}

  void add(const std::string& file, const std::string& content) {
    std::lock_guard lock(mutex_);
    files_[file] = content;
  }
  std::string url() const { return server_.url(); }
  std::vector<HttpRequest> requests() const { return server_.requests(); }

  // The blob name the hub gives a file: a 64-hex "sha256" for LFS files, else a 40-hex "git oid".
  static std::string etag(const std::string& file) {
    std::string hex = fmt::format("{:016x}", std::hash<std::string>()(file));
    return is_lfs(file) ? hex + hex + hex + hex : hex + hex + hex.substr(0, 8);
  }

 private:
  static bool is_lfs(const std::string& file) {
    return file.ends_with(".safetensors") || file.ends_with(".bin");
  }

  HttpResponse answer(const HttpRequest& request) {
    std::lock_guard lock(mutex_);
    if (request.path.starts_with("/cdn/")) {
      for (const auto& [file, content] : files_) {
        if ("/cdn/" + etag(file) == request.path)
          return testing_util::serve_bytes(request, content);
      }
      return {.status = 404, .reason = "Not Found"};
    }
    std::size_t resolve = request.path.find("/resolve/");
    std::string repo = request.path.substr(1, resolve - 1);
    std::string rest = request.path.substr(resolve + 9);
    std::string revision = rest.substr(0, rest.find('/'));
    std::string file = rest.substr(revision.size() + 1);
    if (repo == "old/tiny") {
      return {.status = 307,
              .reason = "Temporary Redirect",
              .headers = fmt::format("Location: /{}/resolve/{}/{}\r\n", kModelId, revision, file)};
    }
    if (repo != kModelId) {
      return {.status = 401,
              .reason = "Unauthorized",
              .headers = "X-Error-Code: RepoNotFound\r\nX-Error-Message: Repository not found\r\n"};
    }
    if (revision != "main" && revision != kCommit) {
      return {
          .status = 404, .reason = "Not Found", .headers = "X-Error-Code: RevisionNotFound\r\n"};
    }
    std::string commit = fmt::format("X-Repo-Commit: {}\r\n", kCommit);
    auto found = files_.find(file);
    if (found == files_.end()) {
      return {.status = 404,
              .reason = "Not Found",
              .headers = commit + "X-Error-Code: EntryNotFound\r\n",
              .body = "Entry not found"};
    }
    if (is_lfs(file)) {
      return {.status = 302,
              .reason = "Found",
              .headers = commit + fmt::format("Location: {}/cdn/{}\r\nX-Linked-Etag: \"{}\"\r\n"
                                              "X-Linked-Size: {}\r\n",
                                              server_.url(), etag(file), etag(file),
                                              found->second.size())};
    }
    HttpResponse response = testing_util::serve_bytes(request, found->second);
    // The hub marks some ETags weak; the blob name is without "W/" and quotes.
    response.headers += commit + fmt::format("ETag: {}\"{}\"\r\n",
                                             file == "tokenizer.json" ? "W/" : "", etag(file));
    return response;
  }

  mutable std::mutex mutex_;
  std::map<std::string, std::string> files_;
  // Last: its thread calls answer(), so it must stop before the members above go.
  testing_util::HttpServer server_;
};

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The fake hub is on loopback (no proxy), and the user's own settings must not leak in.
    for (const char* name :
         {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
          "HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "HF_ENDPOINT", "HF_HUB_CACHE",
          "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME"}) {
      ::unsetenv(name);
    }
    ::setenv("HF_HOME", (home_ / "hf").c_str(), 1);
    config_ = R"({"architectures": ["BertModel"], "model_type": "bert"})";
    weights_ = slurp(fs::path(LAMP_FIXTURES) / "models/bert/model.safetensors");
  }
  void TearDown() override {
    ::unsetenv("HF_HOME");
    ::unsetenv("HF_TOKEN");
    ::unsetenv("HF_HUB_OFFLINE");
    ::unsetenv("HF_ENDPOINT");
  }

  void serve_model() {
    hub_.add("config.json", config_);
    hub_.add("model.safetensors", weights_);
    hub_.add("tokenizer.json", R"({"model": {}})");
    hub_.add("vocab.txt", "[PAD]\n[UNK]\n");
  }

  HubOptions options() const {
    return HubOptions{.cache_dir = cache(),
                      .endpoint = hub_.url(),
                      .download = {.backoff = std::chrono::milliseconds(1)}};
  }

  fs::path cache() const { return home_ / "cache"; }
  fs::path repo() const { return cache() / "models--org--tiny"; }
  fs::path snapshot() const { return repo() / "snapshots" / kCommit; }

  // The requests for one file of the repository, in order ("HEAD", "GET").
  std::vector<std::string> methods_for(const std::string& file) const {
    std::vector<std::string> out;
    for (const HttpRequest& r : hub_.requests()) {
      if (r.path.ends_with("/" + file)) out.push_back(r.method);
    }
    return out;
  }

  std::string error_of(std::string_view id, const HubOptions& options) const {
    try {
      resolve_model(id, options);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  TempDir home_;
  FakeHub hub_;
  std::string config_, weights_;
};

TEST_F(HubTest, DownloadsIntoAnEmptyCacheInHuggingfaceHubsLayout) {
  serve_model();
  fs::path folder = resolve_model(kModelId, options());
  EXPECT_EQ(folder, snapshot());
  EXPECT_EQ(slurp(repo() / "refs/main"), kCommit);  // no newline, as huggingface_hub writes it
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.json", "vocab.txt"}) {
    fs::path pointer = snapshot() / file;
    ASSERT_TRUE(fs::is_symlink(pointer)) << file;
    EXPECT_EQ(fs::read_symlink(pointer), fs::path("../../blobs") / FakeHub::etag(file)) << file;
    EXPECT_TRUE(fs::is_regular_file(repo() / "blobs" / FakeHub::etag(file))) << file;
  }
  EXPECT_EQ(slurp(folder / "config.json"), config_);
  EXPECT_EQ(slurp(folder / "model.safetensors"), weights_);
  // Optional files the repository lacks are recorded, not errors.
  for (const char* file : {"generation_config.json", "tokenizer_config.json",
                           "special_tokens_map.json", "spiece.model"}) {
    EXPECT_TRUE(fs::exists(repo() / ".no_exist" / kCommit / file)) << file;
    EXPECT_FALSE(fs::exists(snapshot() / file)) << file;
  }
  for (const auto& entry : fs::directory_iterator(repo() / "blobs")) {
    EXPECT_FALSE(entry.path().string().ends_with(".incomplete")) << entry.path();
  }
  EXPECT_TRUE(fs::exists(cache() / ".locks/models--org--tiny" /
                         (FakeHub::etag("model.safetensors") + ".lock")));
  // A HEAD for the metadata, then the bytes; the weights through the storage redirect.
  EXPECT_EQ(methods_for("config.json"), (std::vector<std::string>{"HEAD", "GET"}));
  EXPECT_EQ(methods_for("model.safetensors"), (std::vector<std::string>{"HEAD", "GET"}));
  EXPECT_EQ(methods_for(FakeHub::etag("model.safetensors")), (std::vector<std::string>{"GET"}));
  for (const HttpRequest& r : hub_.requests()) EXPECT_EQ(r.header("authorization"), "") << r.path;
  EXPECT_EQ(Checkpoint::open(folder).names().size(), 39u);
}

TEST_F(HubTest, ASecondResolutionUsesTheCacheWithoutRequests) {
  serve_model();
  fs::path first = resolve_model(kModelId, options());
  std::size_t requests = hub_.requests().size();
  EXPECT_EQ(resolve_model(kModelId, options()), first);
  HubOptions offline = options();
  offline.offline = true;
  EXPECT_EQ(resolve_model(kModelId, offline), first);
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  EXPECT_EQ(resolve_model(kModelId, options()), first);
  EXPECT_EQ(hub_.requests().size(), requests);
}

TEST_F(HubTest, ReusesACacheThatHuggingfaceHubWrote) {
  // The layout hf_hub_download leaves, made by hand: relative links into blobs/, a ref, and
  // .no_exist markers for the optional files the repository lacks.
  fs::create_directories(snapshot());
  fs::create_directories(repo() / "refs");
  fs::create_directories(repo() / "blobs");
  fs::create_directories(repo() / ".no_exist" / kCommit);
  std::ofstream(repo() / "refs/main") << kCommit;
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.json"}) {
    std::string blob = FakeHub::etag(file);
    std::ofstream(repo() / "blobs" / blob) << (file == std::string("config.json") ? config_ : "x");
    fs::create_symlink(fs::path("../../blobs") / blob, snapshot() / file);
  }
  for (const char* file : {"generation_config.json", "tokenizer_config.json",
                           "special_tokens_map.json", "spiece.model", "vocab.txt"}) {
    std::ofstream(repo() / ".no_exist" / kCommit / file);
  }
  EXPECT_EQ(resolve_model(kModelId, options()), snapshot());
  EXPECT_TRUE(hub_.requests().empty());
}

TEST_F(HubTest, CompletesAPartialSnapshotAndSkipsFilesKnownMissing) {
  serve_model();
  resolve_model(kModelId, options());
  fs::remove(snapshot() / "vocab.txt");
  fs::remove(repo() / "blobs" / FakeHub::etag("tokenizer.json"));  // a dangling link
  std::size_t before = hub_.requests().size();
  EXPECT_EQ(resolve_model(kModelId, options()), snapshot());
  // config.json's HEAD (for the commit), then the two missing files; no HEAD for files known to be
  // missing or present, and no GET for vocab.txt, whose blob is still there.
  std::vector<HttpRequest> requests = hub_.requests();
  std::vector<std::string> asked;
  for (std::size_t i = before; i < requests.size(); ++i) {
    asked.push_back(requests[i].method + " " +
                    requests[i].path.substr(requests[i].path.rfind('/') + 1));
  }
  EXPECT_EQ(asked, (std::vector<std::string>{"HEAD config.json", "HEAD tokenizer.json",
                                             "GET tokenizer.json", "HEAD vocab.txt"}));
  EXPECT_EQ(slurp(snapshot() / "vocab.txt"), "[PAD]\n[UNK]\n");
  EXPECT_EQ(slurp(snapshot() / "tokenizer.json"), R"({"model": {}})");
}

TEST_F(HubTest, SendsTheTokenFromTheEnvironmentOrTheLoginFile) {
  serve_model();
  ::setenv("HF_TOKEN", "hf_secret", 1);
  resolve_model(kModelId, options());
  for (const HttpRequest& r : hub_.requests()) {
    if (r.path.starts_with("/org/")) {
      EXPECT_EQ(r.header("authorization"), "Bearer hf_secret") << r.method << " " << r.path;
    }
  }
  // Without HF_TOKEN: the file `huggingface-cli login` writes under HF_HOME; the option wins over
  // both.
  ::unsetenv("HF_TOKEN");
  fs::create_directories(home_ / "hf");
  std::ofstream(home_ / "hf/token") << "hf_from_file\n";
  fs::remove_all(cache());
  std::size_t before = hub_.requests().size();
  resolve_model(kModelId, options());
  EXPECT_EQ(hub_.requests()[before].header("authorization"), "Bearer hf_from_file");
  fs::remove_all(cache());
  HubOptions explicit_token = options();
  explicit_token.token = "hf_option";
  before = hub_.requests().size();
  resolve_model(kModelId, explicit_token);
  EXPECT_EQ(hub_.requests()[before].header("authorization"), "Bearer hf_option");
}

TEST_F(HubTest, DownloadsAShardedCheckpoint) {
  TempDir shards;
  std::string one = "\x01\x02\x03\x04", two = "\x05\x06\x07\x08";
  auto span = [](const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); };
  write_safetensors(shards / "model-00001-of-00002.safetensors",
                    std::vector<TensorToWrite>{{"a", DType::kF32, {1}, span(one)}});
  write_safetensors(shards / "model-00002-of-00002.safetensors",
                    std::vector<TensorToWrite>{{"b", DType::kI32, {1}, span(two)}});
  hub_.add("config.json", config_);
  hub_.add("model.safetensors.index.json",
           R"({"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                                              "b": "model-00002-of-00002.safetensors"}})");
  for (const char* shard :
       {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
    hub_.add(shard, slurp(shards / shard));
  }
  fs::path folder = resolve_model(kModelId, options());
  EXPECT_TRUE(fs::exists(repo() / ".no_exist" / kCommit / "model.safetensors"));
  Checkpoint checkpoint = Checkpoint::open(folder);
  EXPECT_EQ(checkpoint.path(), folder / "model.safetensors.index.json");
  EXPECT_EQ(checkpoint.names(), (std::vector<std::string>{"a", "b"}));
  // Offline, the index's shards are what makes the snapshot complete.
  fs::remove(folder / "model-00002-of-00002.safetensors");
  HubOptions offline = options();
  offline.offline = true;
  EXPECT_THAT(error_of(kModelId, offline), HasSubstr("lacks \"model-00002-of-00002.safetensors\""));
  EXPECT_EQ(resolve_model(kModelId, options()), folder);
  EXPECT_EQ(slurp(folder / "model-00002-of-00002.safetensors"),
            slurp(shards / "model-00002-of-00002.safetensors"));
}

TEST_F(HubTest, ResumesAPartialBlob) {
  serve_model();
  fs::path blob = repo() / "blobs" / FakeHub::etag("model.safetensors");
  fs::create_directories(blob.parent_path());
  std::ofstream(blob.string() + ".incomplete", std::ios::binary) << weights_.substr(0, 1000);
  resolve_model(kModelId, options());
  EXPECT_EQ(slurp(blob), weights_);
  EXPECT_FALSE(fs::exists(blob.string() + ".incomplete"));
  for (const HttpRequest& r : hub_.requests()) {
    if (r.path == "/cdn/" + FakeHub::etag("model.safetensors")) {
      EXPECT_EQ(r.header("range"), "bytes=1000-");
    }
  }
}

TEST_F(HubTest, PickledWeightsOnlyExplainsTheConversion) {
  hub_.add("config.json", config_);
  hub_.add("pytorch_model.bin", "pickle");
  std::string error = error_of(kModelId, options());
  EXPECT_THAT(error, HasSubstr("model \"org/tiny\" has only pytorch_model.bin"));
  EXPECT_THAT(error, HasSubstr("python -c \"from transformers import BertModel as M; "
                               "M.from_pretrained('org/tiny').save_pretrained('tiny-safetensors', "
                               "safe_serialization=True)\""));
  EXPECT_TRUE(methods_for("pytorch_model.bin") == std::vector<std::string>{"HEAD"});
  // The same from the cache, offline, when Python downloaded the pickle there.
  fs::create_directories(snapshot());
  std::ofstream(snapshot() / "pytorch_model.bin") << "pickle";
  HubOptions offline = options();
  offline.offline = true;
  EXPECT_THAT(error_of(kModelId, offline), HasSubstr("has only pytorch_model.bin"));
}

TEST_F(HubTest, MissingWeightsOrConfigAreErrors) {
  hub_.add("config.json", config_);
  EXPECT_THAT(error_of(kModelId, options()),
              HasSubstr("has no model.safetensors or model.safetensors.index.json"));
  FakeHub empty;
  HubOptions other = options();
  other.endpoint = empty.url();
  EXPECT_THAT(error_of(kModelId, other), HasSubstr("has no config.json at revision \"main\""));
}

TEST_F(HubTest, OfflineWithMissingFilesSaysWhatAndWhy) {
  serve_model();
  HubOptions offline = options();
  offline.offline = true;
  std::string error = error_of(kModelId, offline);
  EXPECT_THAT(error, HasSubstr("model \"org/tiny\" (revision \"main\") is not in the Hugging Face "
                               "cache " +
                               cache().string()));
  EXPECT_THAT(error, HasSubstr("offline mode"));
  ::setenv("HF_HUB_OFFLINE", "yes", 1);
  EXPECT_THAT(error_of(kModelId, options()), HasSubstr("HF_HUB_OFFLINE is set"));
  // A snapshot without its weights: the missing file is named.
  fs::create_directories(snapshot());
  fs::create_directories(repo() / "refs");
  std::ofstream(repo() / "refs/main") << kCommit;
  std::ofstream(snapshot() / "config.json") << config_;
  error = error_of(kModelId, options());
  EXPECT_THAT(error, HasSubstr("lacks \"model.safetensors\" in the Hugging Face cache"));
  EXPECT_THAT(error, HasSubstr("HF_HUB_OFFLINE"));
  EXPECT_TRUE(hub_.requests().empty());
}

TEST_F(HubTest, UnknownRepositoryOrRevision) {
  std::string error = error_of("org/absent", options());
  EXPECT_THAT(error, HasSubstr("model \"org/absent\" is not on " + hub_.url()));
  EXPECT_THAT(error, HasSubstr("HF_TOKEN"));
  EXPECT_THAT(error, HasSubstr("Repository not found"));
  HubOptions branch = options();
  branch.revision = "v2";
  EXPECT_THAT(error_of(kModelId, branch), HasSubstr("has no revision \"v2\""));
  for (const char* outside : {"/etc/x", "../x", ""}) {
    branch.revision = outside;
    EXPECT_THAT(error_of(kModelId, branch), HasSubstr("is not a valid revision")) << outside;
  }
}

TEST_F(HubTest, PinnedCommitWritesNoRef) {
  serve_model();
  HubOptions pinned = options();
  pinned.revision = std::string(kCommit);
  EXPECT_EQ(resolve_model(kModelId, pinned), snapshot());
  EXPECT_FALSE(fs::exists(repo() / "refs"));
  for (const HttpRequest& r : hub_.requests()) {
    if (r.path.starts_with("/org/")) {
      EXPECT_THAT(r.path, HasSubstr(std::string(kCommit))) << r.path;
    }
  }
}

TEST_F(HubTest, FollowsARenamedRepositorysRedirect) {
  serve_model();
  fs::path folder = resolve_model("old/tiny", options());
  // Cached under the name asked for, as huggingface_hub does.
  EXPECT_EQ(folder, cache() / "models--old--tiny/snapshots" / kCommit);
  EXPECT_EQ(slurp(folder / "config.json"), config_);
}

TEST_F(HubTest, EndpointFromTheEnvironment) {
  serve_model();
  ::setenv("HF_ENDPOINT", (hub_.url() + "/").c_str(), 1);
  HubOptions from_env = options();
  from_env.endpoint.clear();
  EXPECT_EQ(resolve_model(kModelId, from_env), snapshot());
}

TEST_F(HubTest, LocalFolders) {
  fs::path fixture = fs::path(LAMP_FIXTURES) / "models/bert";
  EXPECT_EQ(resolve_model(fixture.string(), options()), fixture);
  TempDir dir;
  EXPECT_THAT(error_of(dir.path().string(), options()), HasSubstr("has no config.json"));
  dir.write("config.json", config_);
  dir.write("pytorch_model.bin", "pickle");
  EXPECT_THAT(error_of(dir.path().string(), options()), HasSubstr("holds only pytorch_model.bin"));
  EXPECT_THAT(error_of((dir / "config.json").string(), options()), HasSubstr("is a file"));
  EXPECT_THAT(error_of("./no/such/folder", options()),
              HasSubstr("no such folder, and not a Hugging Face model id"));
  EXPECT_TRUE(hub_.requests().empty());
}

TEST(HubCacheDir, FollowsHuggingfaceHubsEnvironment) {
  for (const char* name : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"}) {
    ::unsetenv(name);
  }
  std::string home = std::getenv("HOME") != nullptr ? std::getenv("HOME") : "";
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(hub_cache_dir(), fs::path("/home/u/.cache/huggingface/hub"));
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(hub_cache_dir(), fs::path("/xdg/huggingface/hub"));
  ::setenv("HF_HOME", "~/hf", 1);
  EXPECT_EQ(hub_cache_dir(), fs::path("/home/u/hf/hub"));
  ::setenv("HUGGINGFACE_HUB_CACHE", "/legacy", 1);
  EXPECT_EQ(hub_cache_dir(), fs::path("/legacy"));
  ::setenv("HF_HUB_CACHE", "/new", 1);
  EXPECT_EQ(hub_cache_dir(), fs::path("/new"));
  for (const char* name : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"}) {
    ::unsetenv(name);
  }
  ::setenv("HOME", home.c_str(), 1);
}

TEST(HubIds, FollowHuggingfaceHubsRules) {
  for (const char* ok : {"google/flan-t5-base", "facebook/contriever", "bert-base-uncased", "a/b",
                         "Org_1/model.v2"}) {
    EXPECT_TRUE(is_hub_id(ok)) << ok;
  }
  for (const char* bad : {"", "/abs/path", "./x", "a/b/c", "a--b/c", "a/b..c", "-a/b", "a/b-",
                          "a b/c", "a/.b", "a/"}) {
    EXPECT_FALSE(is_hub_id(bad)) << bad;
  }
  EXPECT_TRUE(is_hub_id(std::string(96, 'a')));
  EXPECT_FALSE(is_hub_id(std::string(97, 'a')));
}

}  // namespace
}  // namespace lamp::nn
