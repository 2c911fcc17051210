// Zero-shot answers from a large language model behind an OpenAI-compatible chat completions API
// (OpenAI, vLLM, llama.cpp's server, Ollama): the paper's ChatGPT runs. docs/llm-api.md has the
// details; in short:
//  - each prompt is one request, POST {base_url}/chat/completions with the body
//      {"model": M, "messages": [{"role": "user", "content": PROMPT}], "temperature": T,
//       "max_tokens": N}
//    (JSON with ", " and ": " separators; "max_tokens" left out when max_tokens is 0), the key
//    sent as "Authorization: Bearer KEY" when there is one; the answer is
//    choices[0].message.content;
//  - at most `concurrency` requests are in flight; a connection failure, 408, 429 or 5xx answer is
//    retried up to `max_retries` times, after the server's Retry-After (seconds or an HTTP date)
//    or else backoff * 2^(retry - 1), each wait capped at max_wait;
//  - with a cache_dir, every successful answer is stored as
//    cache_dir/XX/<32 hex digits>.json (the hex digits are a 128-bit SipHash of base_url, model
//    and the exact request body; XX their first two), written atomically, so a repeated request
//    costs nothing and an interrupted run resumes where it stopped;
//  - a malformed answer, a non-retryable error status or exhausted retries is a lamp::Error
//    naming the prompt's index and what was wrong; complete() then finishes the requests in
//    flight (their answers are cached) and throws the error of the lowest failing index.
//
// Thread-safety: complete() may be called from one thread at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lamp/data/task.h"

namespace lamp {

inline constexpr std::string_view kDefaultOpenAiBaseUrl = "https://api.openai.com/v1";

struct OpenAiOptions {
  std::string model;                                          // required
  std::string base_url = std::string(kDefaultOpenAiBaseUrl);  // trailing slashes are ignored
  std::string api_key;  // empty: no Authorization header (local servers); see openai_api_key()
  int concurrency = 8;
  int max_retries = 6;
  double temperature = 0;
  int max_tokens = 256;                       // 0: not sent, the server's default
  std::filesystem::path cache_dir;            // empty: no cache
  std::chrono::milliseconds backoff{1000};    // before the first retry; doubles after each
  std::chrono::milliseconds max_wait{60000};  // the longest wait before a retry
  long connect_timeout_s = 30;
  long request_timeout_s = 600;  // a request that receives nothing for this long is retried
  std::FILE* log = nullptr;      // one line per retry; nullptr: silent
};

// $OPENAI_API_KEY, or empty.
std::string openai_api_key();

// The request body sent for `prompt` (exactly these bytes; also hashed for the cache key).
std::string chat_request_body(const OpenAiOptions& options, std::string_view prompt);

// The wait before retry number `retry` (1 for the first) after an answer carrying
// `retry_after` (the Retry-After header's value, possibly empty), `now` being the current time
// for HTTP dates.
std::chrono::milliseconds retry_wait(const OpenAiOptions& options, int retry,
                                     std::string_view retry_after,
                                     std::chrono::system_clock::time_point now);

class OpenAiClient {
 public:
  explicit OpenAiClient(OpenAiOptions options);

  // One answer per prompt, in order: the raw message content, not post-processed. `progress`
  // (optional) is called after each prompt is answered, from the worker threads but one call at a
  // time, with the number answered so far (cache hits included) and the total.
  std::vector<std::string> complete(
      std::span<const std::string> prompts,
      const std::function<void(std::size_t done, std::size_t total)>& progress = {});

  // Of the last complete(): answers taken from the cache and requests sent (retries included).
  std::size_t cache_hits() const { return cache_hits_; }
  std::size_t requests_sent() const { return requests_sent_; }

 private:
  std::string complete_one(std::size_t index, const std::string& prompt);

  OpenAiOptions options_;
  std::string url_;
  std::atomic<std::size_t> cache_hits_ = 0;
  std::atomic<std::size_t> requests_sent_ = 0;
};

// The prediction a task's evaluator should see for a model's raw answer (docs/llm-api.md):
//  - Python str.strip() first;
//  - rating tasks (LaMP-3): an answer Python's float() reads is kept as it is;
//  - tasks with labels (LaMP-1, LaMP-2, LaMP-2N, and LaMP-3 when float() fails): the label found
//    earliest in the answer, matched ASCII-case-insensitively as a whole word (the characters
//    around it are not ASCII letters or digits), each label also matched without the punctuation
//    around it ("1" for "[1]"); at one position the longer match wins, then the earlier label.
//    Its spelling is the registry's. No label found: the stripped answer, which the evaluator
//    counts as outside the labels;
//  - generation tasks: the stripped answer without one pair of enclosing quotes (" ' ` or the
//    typographic double and single quotes), stripped again.
std::string postprocess_answer(const TaskSpec& task, std::string_view raw);

}  // namespace lamp
