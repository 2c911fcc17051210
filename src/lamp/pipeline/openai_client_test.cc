// Tests for the OpenAI-compatible client against a chat completions server on loopback inside the
// test process (testing_util::HttpServer): answers, retries, errors, the cache and concurrency.
#include "lamp/pipeline/openai_client.h"

#include <simdjson.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/json_writer.h"
#include "lamp/core/test_util.h"
#include "lamp/data/task.h"

namespace lamp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_util::HttpRequest;
using testing_util::HttpResponse;
using testing_util::HttpServer;

std::string completion(std::string_view content) {
  std::string body = R"({"id": "c1", "object": "chat.completion", "choices": [{"index": 0, )"
                     R"("message": {"role": "assistant", "content": )";
  append_json_string(body, content);
  return body + R"(}, "finish_reason": "stop"}]})";
}

// The prompt of a request body the client sent.
std::string prompt_of(const HttpRequest& request) {
  simdjson::dom::parser parser;
  std::string_view content = parser.parse(request.body)["messages"].at(0)["content"].get_string();
  return std::string(content);
}

// Answers every prompt with "answer to PROMPT".
HttpResponse echo(const HttpRequest& request) {
  return {.body = completion("answer to " + prompt_of(request))};
}

OpenAiOptions options_for(const HttpServer& server) {
  return {.model = "test-model",
          .base_url = server.url() + "/v1/",
          .concurrency = 2,
          .max_retries = 2,
          .backoff = std::chrono::milliseconds(1)};
}

std::string error_of(OpenAiClient& client, const std::vector<std::string>& prompts) {
  try {
    client.complete(prompts);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(OpenAiClientTest, RequestBodyIsTheDocumentedJson) {
  OpenAiOptions options{.model = "gpt-3.5-turbo", .temperature = 0, .max_tokens = 64};
  EXPECT_EQ(
      chat_request_body(options, "say \"hi\"\n"),
      R"({"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "say \"hi\"\n"}], )"
      R"("temperature": 0.0, "max_tokens": 64})");
  options.max_tokens = 0;
  options.temperature = 0.7;
  EXPECT_EQ(chat_request_body(options, "x"),
            R"({"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "x"}], )"
            R"("temperature": 0.7})");
}

TEST(OpenAiClientTest, AnswersEveryPromptInOrderWithTheKey) {
  HttpServer server(echo);
  OpenAiOptions options = options_for(server);
  options.api_key = "sk-test";
  OpenAiClient client(options);
  std::vector<std::string> prompts = {"a", "b", "c", "d", "e"};
  std::vector<std::size_t> seen;
  std::vector<std::string> answers =
      client.complete(prompts, [&](std::size_t done, std::size_t total) {
        EXPECT_EQ(total, 5u);
        seen.push_back(done);
      });
  EXPECT_THAT(answers, ElementsAre("answer to a", "answer to b", "answer to c", "answer to d",
                                   "answer to e"));
  EXPECT_THAT(seen, ElementsAre(1, 2, 3, 4, 5));
  std::vector<HttpRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(client.requests_sent(), 5u);
  for (const HttpRequest& request : requests) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.path, "/v1/chat/completions");
    EXPECT_EQ(request.header("authorization"), "Bearer sk-test");
    EXPECT_EQ(request.header("content-type"), "application/json");
    EXPECT_EQ(request.body, chat_request_body(options, prompt_of(request)));
  }
}

TEST(OpenAiClientTest, NoKeyNoAuthorizationHeader) {
  HttpServer server(echo);
  OpenAiClient client(options_for(server));
  client.complete(std::vector<std::string>{"a"});
  EXPECT_EQ(server.requests().at(0).header("authorization"), "");
}

TEST(OpenAiClientTest, RetriesA429AfterRetryAfter) {
  std::atomic<int> calls = 0;
  HttpServer server([&](const HttpRequest& request) -> HttpResponse {
    if (calls++ == 0) {
      return {.status = 429,
              .reason = "Too Many Requests",
              .headers = "Retry-After: 60\r\n",
              .body = R"({"error": {"message": "Rate limit reached"}})"};
    }
    return echo(request);
  });
  // The server asks for 60 s; the backoff alone would wait 1 ms; max_wait caps the wait at 150 ms.
  OpenAiOptions options = options_for(server);
  options.max_wait = std::chrono::milliseconds(150);
  OpenAiClient client(options);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(client.complete(std::vector<std::string>{"q"}), ElementsAre("answer to q"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(client.requests_sent(), 2u);
}

TEST(OpenAiClientTest, GivesUpAfterMaxRetriesOf5xx) {
  HttpServer server([](const HttpRequest&) -> HttpResponse {
    return {.status = 503, .reason = "Service Unavailable", .body = "overloaded"};
  });
  OpenAiClient client(options_for(server));  // 2 retries
  std::string error = error_of(client, {"q"});
  EXPECT_THAT(error, HasSubstr("prompt 0: gave up after 3 attempts: HTTP 503: overloaded"));
  EXPECT_THAT(error, HasSubstr(server.url() + "/v1/chat/completions"));
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(OpenAiClientTest, ClientErrorsAreNotRetried) {
  HttpServer server([](const HttpRequest&) -> HttpResponse {
    return {.status = 401,
            .reason = "Unauthorized",
            .body = R"({"error": {"message": "Incorrect API key provided"}})"};
  });
  OpenAiClient client(options_for(server));
  EXPECT_THAT(error_of(client, {"q"}), HasSubstr("prompt 0: HTTP 401: Incorrect API key provided"));
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(OpenAiClientTest, MalformedAnswersNameThePromptAndTheProblem) {
  for (auto [body, problem] : std::vector<std::pair<std::string, std::string>>{
           {"{\"choices\": [", "the answer is not JSON"},
           {R"({"object": "chat.completion"})", "the answer has no \"choices\""},
           {R"({"choices": [{"message": {"content": null}}]})",
            "the answer has no string \"choices[0].message.content\""}}) {
    HttpServer server([&](const HttpRequest& request) -> HttpResponse {
      if (prompt_of(request) == "bad") return {.body = body};
      return echo(request);
    });
    OpenAiOptions options = options_for(server);
    options.concurrency = 1;
    OpenAiClient client(options);
    EXPECT_THAT(error_of(client, {"good", "bad", "good"}),
                HasSubstr("prompt 1: malformed answer: " + problem));
  }
}

TEST(OpenAiClientTest, ReportsTheLowestFailingPrompt) {
  HttpServer server([](const HttpRequest& request) -> HttpResponse {
    if (prompt_of(request) != "ok") return {.body = "[]"};
    return echo(request);
  });
  OpenAiOptions options = options_for(server);
  options.concurrency = 1;
  OpenAiClient client(options);
  EXPECT_THAT(error_of(client, {"ok", "ok", "x", "y"}), HasSubstr("prompt 2: malformed"));
  // A failure stops new requests: "y" is never sent.
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(OpenAiClientTest, CachedAnswersMakeNoRequest) {
  testing_util::TempDir dir;
  HttpServer server(echo);
  OpenAiOptions options = options_for(server);
  options.cache_dir = dir / "llm";
  std::vector<std::string> prompts = {"a", "b", "a"};
  {
    OpenAiClient client(options);
    EXPECT_THAT(client.complete(std::vector<std::string>{"a"}), ElementsAre("answer to a"));
    EXPECT_EQ(client.cache_hits(), 0u);
  }
  ASSERT_EQ(server.requests().size(), 1u);
  OpenAiClient client(options);
  EXPECT_THAT(client.complete(prompts), ElementsAre("answer to a", "answer to b", "answer to a"));
  // Only "b" was new (the second "a" may race the first to the cache: at most one more request).
  std::size_t sent = server.requests().size() - 1;
  EXPECT_GE(sent, 1u);
  EXPECT_LE(sent, 2u);
  EXPECT_EQ(client.cache_hits() + client.requests_sent(), 3u);
  EXPECT_THAT(client.complete(prompts), ElementsAre("answer to a", "answer to b", "answer to a"));
  EXPECT_EQ(client.requests_sent(), 0u);
  EXPECT_EQ(client.cache_hits(), 3u);

  // Another model, temperature or server is another request.
  std::size_t before = server.requests().size();
  HttpServer other_server(echo);
  for (auto change : std::vector<std::function<void(OpenAiOptions&)>>{
           [](OpenAiOptions& o) { o.model = "other"; }, [](OpenAiOptions& o) { o.temperature = 1; },
           [&](OpenAiOptions& o) { o.base_url = other_server.url() + "/v1"; }}) {
    OpenAiOptions changed = options;
    change(changed);
    OpenAiClient other(changed);
    other.complete(std::vector<std::string>{"a"});
    EXPECT_EQ(other.cache_hits(), 0u);
  }
  EXPECT_EQ(server.requests().size(), before + 2);
  EXPECT_EQ(other_server.requests().size(), 1u);
}

TEST(OpenAiClientTest, ADamagedCacheFileIsAskedForAgain) {
  testing_util::TempDir dir;
  HttpServer server(echo);
  OpenAiOptions options = options_for(server);
  options.cache_dir = dir.path();
  OpenAiClient client(options);
  client.complete(std::vector<std::string>{"a"});
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path())) {
    if (entry.is_regular_file()) std::ofstream(entry.path()) << "{\"choi";
  }
  EXPECT_THAT(client.complete(std::vector<std::string>{"a"}), ElementsAre("answer to a"));
  EXPECT_EQ(client.requests_sent(), 1u);
  EXPECT_THAT(client.complete(std::vector<std::string>{"a"}), ElementsAre("answer to a"));
  EXPECT_EQ(client.cache_hits(), 1u);
}

TEST(OpenAiClientTest, KeepsAtMostConcurrencyRequestsInFlight) {
  for (int concurrency : {1, 3}) {
    std::atomic<int> in_flight = 0, most = 0;
    HttpServer server(
        [&](const HttpRequest& request) {
          int now = ++in_flight;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          --in_flight;
          return echo(request);
        },
        /*concurrent=*/true);
    OpenAiOptions options = options_for(server);
    options.concurrency = concurrency;
    OpenAiClient client(options);
    std::vector<std::string> prompts = {"1", "2", "3", "4", "5", "6", "7", "8", "9"};
    std::vector<std::string> answers = client.complete(prompts);
    for (std::size_t i = 0; i < prompts.size(); ++i)
      EXPECT_EQ(answers[i], "answer to " + prompts[i]);
    EXPECT_LE(most.load(), concurrency);
    // 20 ms per answer leaves the workers ample time to overlap.
    if (concurrency > 1) {
      EXPECT_GE(most.load(), 2);
    }
  }
}

TEST(OpenAiClientTest, RetryWaitHonoursRetryAfterThenBacksOff) {
  using std::chrono::milliseconds;
  OpenAiOptions options{.backoff = milliseconds(100), .max_wait = milliseconds(5000)};
  auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(retry_wait(options, 1, "", now), milliseconds(100));
  EXPECT_EQ(retry_wait(options, 2, "", now), milliseconds(200));
  EXPECT_EQ(retry_wait(options, 4, "", now), milliseconds(800));
  EXPECT_EQ(retry_wait(options, 12, "", now), milliseconds(5000));  // capped
  EXPECT_EQ(retry_wait(options, 3, " 2 ", now), milliseconds(2000));
  EXPECT_EQ(retry_wait(options, 1, "0", now), milliseconds(0));
  EXPECT_EQ(retry_wait(options, 1, "3600", now), milliseconds(5000));
  EXPECT_EQ(retry_wait(options, 1, "Sun, 06 Nov 1994 08:49:40 GMT", now), milliseconds(3000));
  EXPECT_EQ(retry_wait(options, 1, "Sun, 06 Nov 1994 08:49:00 GMT", now), milliseconds(0));
  EXPECT_EQ(retry_wait(options, 2, "soon", now), milliseconds(200));  // unreadable: backoff
}

TEST(PostprocessAnswerTest, PicksTheLabelOrStripsTheText) {
  struct Case {
    const char* task;
    std::string raw, expected;
  };
  const Case cases[] = {
      {"LaMP-1", "  [2]\n", "[2]"},
      {"LaMP-1", "The answer is [1].", "[1]"},
      {"LaMP-1", "2", "[2]"},
      {"LaMP-1", "Reference 1, not [2]", "[1]"},
      {"LaMP-1", "neither 12 nor x1", "neither 12 nor x1"},
      {"LaMP-2", "Dark Comedy", "dark comedy"},
      {"LaMP-2", "tag: sci-fi, then comedy", "sci-fi"},
      {"LaMP-2", "comedy-drama", "comedy"},
      {"LaMP-2", "thriller", "thriller"},
      {"LaMP-3", " 4 ", "4"},
      {"LaMP-3", "4.5", "4.5"},
      {"LaMP-3", "I would rate it 3/5.", "3"},
      {"LaMP-3", "Rating: 5 stars", "5"},
      {"LaMP-3", "no idea", "no idea"},
      {"LaMP-4", "  \"A Headline\" \n", "A Headline"},
      {"LaMP-4", "\u201c Quoted \u201d", "Quoted"},
      {"LaMP-4", "'It's' here", "'It's' here"},
      {"LaMP-4", "\"\"", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(postprocess_answer(find_task(c.task), c.raw), c.expected) << c.task << ": " << c.raw;
  }
}

}  // namespace
}  // namespace lamp
