// lamp run with --model openai:NAME against a chat completions server on loopback inside the test
// (testing_util::HttpServer): the answers are post-processed for the task, and a re-run sends no
// request.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "lamp/core/test_util.h"

namespace lamp {
namespace {

using ::testing::HasSubstr;
using testing_util::HttpRequest;
using testing_util::HttpResponse;
using testing_util::HttpServer;
using testing_util::run_lamp;
using testing_util::TempDir;

TEST(RunOpenAiModel, AnswersArePostProcessedAndCached) {
  HttpServer server(
      [](const HttpRequest&) -> HttpResponse {
        return {.body = R"({"choices": [{"message": {"role": "assistant", )"
                        R"("content": " I would give it 4 stars."}}]})"};
      },
      /*concurrent=*/true);
  TempDir dir;
  const std::filesystem::path examples =
      std::filesystem::path(LAMP_FIXTURES) / ".." / ".." / "examples" / "LaMP-3";
  std::string args = "run --quiet --task LaMP-3 --data " + examples.string() +
                     " --retrievers none --model openai:test-model --base-url " + server.url() +
                     "/v1 --out " + (dir / "run").string();
  auto first = run_lamp(args);
  ASSERT_EQ(first.status, 0) << first.err;
  std::size_t sent = server.requests().size();
  EXPECT_GT(sent, 0u);
  EXPECT_EQ(server.requests().front().path, "/v1/chat/completions");
  simdjson::dom::parser parser;
  simdjson::dom::array golds =
      parser.load((dir / "run" / "cells" / "none" / "predictions.json").string())["golds"];
  EXPECT_EQ(golds.size(), sent);
  for (simdjson::dom::element record : golds) {
    EXPECT_EQ(std::string_view(record["output"]), "4");
  }
  auto again = run_lamp(args);
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(server.requests().size(), sent);
}

}  // namespace
}  // namespace lamp
