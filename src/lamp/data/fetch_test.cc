// Tests for lamp data fetch against a small HTTP/1.1 server inside the test process
// (testing_util::HttpServer), on loopback only, so they need no network and always see the same
// answers.
#include "lamp/data/fetch.h"

#include <unistd.h>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/test_util.h"
#include "lamp/data/task.h"

namespace lamp {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kQuestions =
    R"([{"id":"1","input":"What is the score of the following review on a scale of 1 to 5? just )"
    R"(answer with 1, 2, 3, 4, or 5 without further explanation. review: good","profile":[{"id":)"
    R"("p1","text":"nice","score":"5"}]}])";
const std::string kOutputs = R"({"task":"LaMP_3","golds":[{"id":"1","output":"4"}]})";

// Serves in-memory files on loopback. It can cut the first body short, fail the next requests
// with a status, and ignore Range headers, to exercise resuming and retrying.
class TestServer {
 public:
  TestServer() : server_([this](const testing_util::HttpRequest& r) { return answer(r); }) {}

  std::string url() const { return server_.url(); }
  std::vector<testing_util::HttpRequest> requests() const { return server_.requests(); }

  void add(const std::string& path, const std::string& body) {
    std::lock_guard lock(mutex_);
    files_[path] = body;
  }
  // The first response with a body sends only `bytes` of it, then closes the connection.
  void cut_first_body_after(std::size_t bytes) {
    std::lock_guard lock(mutex_);
    cut_after_ = bytes;
  }
  void fail_next(int count, int status) {
    std::lock_guard lock(mutex_);
    fail_count_ = count;
    fail_status_ = status;
  }
  void ignore_ranges() {
    std::lock_guard lock(mutex_);
    ignore_ranges_ = true;
  }

 private:
  testing_util::HttpResponse answer(const testing_util::HttpRequest& request) {
    std::lock_guard lock(mutex_);
    if (fail_count_ > 0) {
      --fail_count_;
      return {.status = fail_status_, .reason = "Internal Server Error", .body = "oops"};
    }
    auto file = files_.find(request.path);
    if (file == files_.end()) return {.status = 404, .reason = "Not Found", .body = "not found"};
    testing_util::HttpResponse response =
        testing_util::serve_bytes(request, file->second, !ignore_ranges_);
    if (cut_after_ && *cut_after_ < response.body.size()) {
      response.content_length = response.body.size();
      response.body.resize(*cut_after_);
      cut_after_.reset();
    }
    return response;
  }

  mutable std::mutex mutex_;
  std::map<std::string, std::string> files_;
  std::optional<std::size_t> cut_after_;
  int fail_count_ = 0;
  int fail_status_ = 500;
  bool ignore_ranges_ = false;
  // Last: its thread calls answer(), so it must stop before the members above go.
  testing_util::HttpServer server_;
};

using testing_util::CommandResult;
using testing_util::run_lamp;
using testing_util::slurp;

void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The server is on loopback: a proxy from the environment must not get in between.
    for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                             "ALL_PROXY", "LAMP_DATA_URL"}) {
      ::unsetenv(name);
    }
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("lamp_fetch_test_{}_{}", ::getpid(), counter++);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // LaMP-3, user split, dev part, on the test server.
  void serve_lamp3_dev() {
    server_.add("/LaMP_3/dev/dev_questions.json", kQuestions);
    server_.add("/LaMP_3/dev/dev_outputs.json", kOutputs);
  }

  FetchRequest request(Part part = Part::kDev, const char* task = "LaMP-3") {
    return FetchRequest{.task = &find_task(task),
                        .split = Split::kUser,
                        .part = part,
                        .dir = out(),
                        .base_url = server_.url(),
                        .download = {.backoff = std::chrono::milliseconds(1)}};
  }

  std::filesystem::path out() const { return dir_ / "data"; }

  std::filesystem::path dir_;
  TestServer server_;
};

TEST(FetchUrls, FollowTheServersLayout) {
  const std::string base = "https://ciir.cs.umass.edu/downloads/LaMP";
  auto user = dataset_files(find_task("LaMP-3"), Split::kUser, Part::kDev, base);
  ASSERT_EQ(user.size(), 2u);
  EXPECT_EQ(user[0].url, base + "/LaMP_3/dev/dev_questions.json");
  EXPECT_EQ(user[0].name, "dev_questions.json");
  EXPECT_TRUE(user[0].is_questions);
  EXPECT_EQ(user[1].url, base + "/LaMP_3/dev/dev_outputs.json");
  EXPECT_EQ(user[1].name, "dev_outputs.json");
  EXPECT_FALSE(user[1].is_questions);

  auto time = dataset_files(find_task("LaMP_5"), Split::kTime, Part::kTrain, base + "/");
  ASSERT_EQ(time.size(), 2u);
  EXPECT_EQ(time[0].url, base + "/time/LaMP_5/train/train_questions.json");
  EXPECT_EQ(time[1].url, base + "/time/LaMP_5/train/train_outputs.json");

  auto movies = dataset_files(find_task("LaMP-2"), Split::kUser, Part::kTrain, base);
  EXPECT_EQ(movies[0].url, base + "/LaMP_2/new/train/train_questions.json");
  auto movies_time = dataset_files(find_task("LaMP-2"), Split::kTime, Part::kDev, base);
  EXPECT_EQ(movies_time[1].url, base + "/time/LaMP_2/new/dev/dev_outputs.json");

  // The test part's golds are hidden: questions only.
  auto test = dataset_files(find_task("LaMP-7"), Split::kUser, Part::kTest, base);
  ASSERT_EQ(test.size(), 1u);
  EXPECT_EQ(test[0].url, base + "/LaMP_7/test/test_questions.json");
  EXPECT_EQ(test[0].name, "test_questions.json");
}

TEST(FetchUrls, PrivateAndRetiredTasksAreRefused) {
  try {
    dataset_files(find_task("LaMP-6"), Split::kUser, Part::kDev, kDefaultDataUrl);
    FAIL() << "LaMP-6 has no public files";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("Avocado"));
    EXPECT_THAT(e.what(), HasSubstr("LDC"));
  }
  try {
    dataset_files(find_task("LaMP-2N"), Split::kUser, Part::kDev, kDefaultDataUrl);
    FAIL() << "LaMP-2N is not on the server";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("LaMP-2N"));
  }
}

TEST(FetchUrls, BaseUrlComesFromFlagThenEnvironmentThenDefault) {
  ::unsetenv("LAMP_DATA_URL");
  EXPECT_EQ(resolve_base_url(""), kDefaultDataUrl);
  EXPECT_EQ(resolve_base_url("http://mirror/LaMP/"), "http://mirror/LaMP");
  ::setenv("LAMP_DATA_URL", "http://env/LaMP//", 1);
  EXPECT_EQ(resolve_base_url(""), "http://env/LaMP");
  EXPECT_EQ(resolve_base_url("http://flag"), "http://flag");
  ::unsetenv("LAMP_DATA_URL");
}

TEST_F(FetchTest, DownloadsValidatesAndUsesOfficialNames) {
  serve_lamp3_dev();
  auto paths = fetch_dataset(request());
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0], out() / "dev_questions.json");
  EXPECT_EQ(paths[1], out() / "dev_outputs.json");
  EXPECT_EQ(slurp(paths[0]), kQuestions);
  EXPECT_EQ(slurp(paths[1]), kOutputs);
  EXPECT_FALSE(std::filesystem::exists(out() / "dev_questions.json.part"));
  EXPECT_FALSE(std::filesystem::exists(out() / "dev_outputs.json.part"));
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/LaMP_3/dev/dev_questions.json");
  EXPECT_EQ(requests[0].header("range"), "");
}

TEST_F(FetchTest, ResumesAfterTheConnectionIsCut) {
  serve_lamp3_dev();
  server_.cut_first_body_after(40);
  auto paths = fetch_dataset(request());
  EXPECT_EQ(slurp(paths[0]), kQuestions);
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].header("range"), "");
  EXPECT_EQ(requests[1].path, "/LaMP_3/dev/dev_questions.json");
  EXPECT_EQ(requests[1].header("range"), "bytes=40-");
}

TEST_F(FetchTest, ResumesALeftoverPartFile) {
  serve_lamp3_dev();
  std::filesystem::create_directories(out());
  write_text(out() / "dev_questions.json.part", kQuestions.substr(0, 30));
  auto paths = fetch_dataset(request());
  EXPECT_EQ(slurp(paths[0]), kQuestions);
  EXPECT_EQ(server_.requests()[0].header("range"), "bytes=30-");
}

TEST_F(FetchTest, RestartsFromZeroWhenTheServerIgnoresRanges) {
  serve_lamp3_dev();
  server_.ignore_ranges();
  std::filesystem::create_directories(out());
  write_text(out() / "dev_questions.json.part", kQuestions.substr(0, 30));
  auto paths = fetch_dataset(request());
  EXPECT_EQ(slurp(paths[0]), kQuestions);
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].header("range"), "bytes=30-");
  EXPECT_EQ(requests[1].header("range"), "");
}

TEST_F(FetchTest, APartFileThatIsAlreadyCompleteIsKept) {
  serve_lamp3_dev();
  std::filesystem::create_directories(out());
  write_text(out() / "dev_questions.json.part", kQuestions);
  auto paths = fetch_dataset(request());
  EXPECT_EQ(slurp(paths[0]), kQuestions);
  EXPECT_FALSE(std::filesystem::exists(out() / "dev_questions.json.part"));
  // The server answered 416 for the questions: nothing was sent again.
  EXPECT_EQ(server_.requests()[0].header("range"), fmt::format("bytes={}-", kQuestions.size()));
}

TEST_F(FetchTest, RetriesAServerError) {
  serve_lamp3_dev();
  server_.fail_next(1, 500);
  auto paths = fetch_dataset(request());
  EXPECT_EQ(slurp(paths[0]), kQuestions);
  EXPECT_EQ(server_.requests().size(), 3u);
}

TEST_F(FetchTest, GivesUpAfterThreeAttempts) {
  serve_lamp3_dev();
  server_.fail_next(10, 503);
  try {
    fetch_dataset(request());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(server_.url() + "/LaMP_3/dev/dev_questions.json"));
    EXPECT_THAT(e.what(), HasSubstr("3 attempts"));
    EXPECT_THAT(e.what(), HasSubstr("HTTP 503"));
  }
  EXPECT_EQ(server_.requests().size(), 3u);
  EXPECT_FALSE(std::filesystem::exists(out() / "dev_questions.json"));
  EXPECT_FALSE(std::filesystem::exists(out() / "dev_questions.json.part"));
}

TEST_F(FetchTest, SkipsFilesAlreadyPresent) {
  serve_lamp3_dev();
  fetch_dataset(request());
  std::size_t before = server_.requests().size();
  FetchRequest again = request();
  std::FILE* log = std::tmpfile();
  again.download.log = log;
  auto paths = fetch_dataset(again);
  EXPECT_EQ(server_.requests().size(), before);
  EXPECT_EQ(paths.size(), 2u);
  std::rewind(log);
  char line[512] = {};
  ASSERT_NE(std::fgets(line, sizeof line, log), nullptr);
  EXPECT_THAT(line, HasSubstr("dev_questions.json: already present"));
  std::fclose(log);
}

TEST_F(FetchTest, ReplacesAnInvalidExistingFile) {
  serve_lamp3_dev();
  std::filesystem::create_directories(out());
  write_text(out() / "dev_questions.json", "[{\"id\":");
  auto paths = fetch_dataset(request());
  EXPECT_EQ(slurp(paths[0]), kQuestions);
}

TEST_F(FetchTest, NotFoundNamesTheUrl) {
  try {
    fetch_dataset(request());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(server_.url() + "/LaMP_3/dev/dev_questions.json"));
    EXPECT_THAT(e.what(), HasSubstr("HTTP 404"));
  }
  EXPECT_EQ(server_.requests().size(), 1u);  // no retries for a 404
  EXPECT_FALSE(std::filesystem::exists(out() / "dev_questions.json"));
  EXPECT_FALSE(std::filesystem::exists(out() / "dev_questions.json.part"));
}

TEST_F(FetchTest, InvalidContentIsDeleted) {
  server_.add("/LaMP_3/dev/dev_questions.json", kQuestions);
  server_.add("/LaMP_3/dev/dev_outputs.json", "{\"task\": \"LaMP_3\", \"golds\": [");
  try {
    fetch_dataset(request());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(server_.url() + "/LaMP_3/dev/dev_outputs.json"));
    EXPECT_THAT(e.what(), HasSubstr("not a valid LaMP-3 outputs file"));
  }
  EXPECT_TRUE(std::filesystem::exists(out() / "dev_questions.json"));
  EXPECT_FALSE(std::filesystem::exists(out() / "dev_outputs.json"));
  EXPECT_FALSE(std::filesystem::exists(out() / "dev_outputs.json.part"));
}

TEST_F(FetchTest, OutputsOfAnotherTaskAreInvalid) {
  server_.add("/LaMP_3/dev/dev_questions.json", kQuestions);
  server_.add("/LaMP_3/dev/dev_outputs.json", R"({"task":"LaMP_4","golds":[]})");
  EXPECT_THROW(fetch_dataset(request()), Error);
  EXPECT_FALSE(std::filesystem::exists(out() / "dev_outputs.json"));
}

TEST_F(FetchTest, QuestionsOfAnotherTaskAreInvalid) {
  // A LaMP-3 sample's profile has no "title": not a LaMP-4 questions file.
  server_.add("/LaMP_4/dev/dev_questions.json", kQuestions);
  EXPECT_THROW(fetch_dataset(request(Part::kDev, "LaMP-4")), Error);
  EXPECT_FALSE(std::filesystem::exists(out() / "dev_questions.json"));
  EXPECT_FALSE(std::filesystem::exists(out() / "dev_questions.json.part"));
}

TEST_F(FetchTest, TestPartHasQuestionsOnly) {
  server_.add("/LaMP_3/test/test_questions.json", kQuestions);
  auto paths = fetch_dataset(request(Part::kTest));
  ASSERT_EQ(paths.size(), 1u);
  EXPECT_EQ(paths[0], out() / "test_questions.json");
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(FetchTest, LaMP6IsRefusedBeforeAnyRequest) {
  EXPECT_THROW(fetch_dataset(request(Part::kDev, "LaMP-6")), Error);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(FetchTest, DownloadFileResumesAndReports) {
  server_.add("/file.json", kOutputs);
  std::filesystem::path path = dir_ / "file.json.part";
  write_text(path, kOutputs.substr(0, 10));
  DownloadResult got = download_file(server_.url() + "/file.json", path, {});
  EXPECT_EQ(got.size, kOutputs.size());
  EXPECT_EQ(got.received, kOutputs.size() - 10);
  EXPECT_TRUE(got.resumed);
  EXPECT_EQ(slurp(path), kOutputs);
}

TEST_F(FetchTest, DownloadFileSendsTheExtraHeaders) {
  server_.add("/file.json", kOutputs);
  DownloadOptions options{.headers = {"Authorization: Bearer secret", "X-Test: 1"}};
  download_file(server_.url() + "/file.json", dir_ / "file.json", options);
  ASSERT_EQ(server_.requests().size(), 1u);
  EXPECT_EQ(server_.requests()[0].header("authorization"), "Bearer secret");
  EXPECT_EQ(server_.requests()[0].header("x-test"), "1");
}

TEST(HeadUrl, ReturnsStatusAndHeadersWithoutFollowingRedirects) {
  testing_util::HttpServer server([](const testing_util::HttpRequest& request) {
    if (request.path == "/moved") {
      return testing_util::HttpResponse{
          .status = 302, .reason = "Found", .headers = "Location: /file\r\nX-Thing: \"a\"\r\n"};
    }
    return testing_util::HttpResponse{.status = 404, .reason = "Not Found", .body = "no"};
  });
  HeadResult moved = head_url(server.url() + "/moved", {.headers = {"X-Test: 2"}});
  EXPECT_EQ(moved.status, 302);
  EXPECT_EQ(moved.reason, "Found");
  EXPECT_EQ(moved.header("location"), "/file");
  EXPECT_EQ(moved.header("x-thing"), "\"a\"");
  EXPECT_EQ(moved.header("x-absent"), "");
  HeadResult missing = head_url(server.url() + "/missing", {});
  EXPECT_EQ(missing.status, 404);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "HEAD");
  EXPECT_EQ(requests[0].header("x-test"), "2");
}

TEST(HeadUrl, RetriesServerErrorsThenGivesUp) {
  std::atomic<int> calls = 0;
  testing_util::HttpServer server([&](const testing_util::HttpRequest&) {
    return testing_util::HttpResponse{
        .status = ++calls < 2 ? 503 : 200, .reason = "X", .headers = "ETag: \"e\"\r\n"};
  });
  HeadResult head = head_url(server.url() + "/f", {.backoff = std::chrono::milliseconds(1)});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("etag"), "\"e\"");
  EXPECT_EQ(server.requests().size(), 2u);

  testing_util::HttpServer broken([](const testing_util::HttpRequest&) {
    return testing_util::HttpResponse{.status = 500, .reason = "Internal Server Error"};
  });
  try {
    head_url(broken.url() + "/f", {.max_attempts = 2, .backoff = std::chrono::milliseconds(1)});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(broken.url() + "/f"));
    EXPECT_THAT(e.what(), HasSubstr("2 attempts"));
    EXPECT_THAT(e.what(), HasSubstr("HTTP 500"));
  }
}

// End to end: the built lamp binary, its flags, exit status and one-line errors.
TEST_F(FetchTest, CommandLineFetchesIntoTheDirectory) {
  ASSERT_TRUE(std::filesystem::exists(LAMP_BINARY)) << "build the lamp target first";
  server_.add("/time/LaMP_3/dev/dev_questions.json", kQuestions);
  server_.add("/time/LaMP_3/dev/dev_outputs.json", kOutputs);
  // The base URL from the environment, the task in its LaMP_N spelling.
  CommandResult run = run_lamp(
      fmt::format("data fetch --task LaMP_3 --split time --part dev --dir '{}'", out().string()),
      fmt::format("LAMP_DATA_URL='{}'", server_.url()));
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(slurp(out() / "dev_questions.json"), kQuestions);
  EXPECT_EQ(slurp(out() / "dev_outputs.json"), kOutputs);
  // Not a terminal: one line per file, no progress meter.
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 2) << run.err;
  EXPECT_EQ(run.err.find('\r'), std::string::npos);
}

TEST_F(FetchTest, CommandLineFailureIsOneLine) {
  CommandResult run = run_lamp(
      fmt::format("data fetch --task LaMP-3 --split user --part dev --dir '{}' --base-url '{}'",
                  out().string(), server_.url()));
  EXPECT_NE(run.status, 0);
  EXPECT_THAT(run.err, StartsWith("lamp: error: "));
  EXPECT_THAT(run.err, HasSubstr(server_.url() + "/LaMP_3/dev/dev_questions.json"));
  EXPECT_THAT(run.err, HasSubstr("404"));
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;

  CommandResult private_task = run_lamp(
      fmt::format("data fetch --task LaMP-6 --split user --part dev --dir '{}' --base-url '{}'",
                  out().string(), server_.url()));
  EXPECT_NE(private_task.status, 0);
  EXPECT_THAT(private_task.err, StartsWith("lamp: error: "));
  EXPECT_THAT(private_task.err, HasSubstr("Avocado"));
  EXPECT_EQ(std::count(private_task.err.begin(), private_task.err.end(), '\n'), 1);
}

}  // namespace
}  // namespace lamp
