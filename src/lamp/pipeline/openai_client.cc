#include "lamp/pipeline/openai_client.h"

#include <simdjson.h>

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/data/fetch.h"
#include "lamp/pipeline/cache.h"
#include "lamp/text/python_str.h"

namespace lamp {
namespace {

// The answer's text, or why there is none.
struct Parsed {
  std::optional<std::string> content;
  std::string problem;
};

Parsed parse_completion(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(body.data(), body.size()).get(root)) {
    return {.problem = fmt::format("the answer is not JSON ({})", simdjson::error_message(error))};
  }
  simdjson::dom::array choices;
  if (root["choices"].get(choices) || choices.size() == 0) {
    return {.problem = "the answer has no \"choices\""};
  }
  std::string_view content;
  if (choices.at(0)["message"]["content"].get(content)) {
    return {.problem = "the answer has no string \"choices[0].message.content\""};
  }
  return {.content = std::string(content)};
}

// The server's own explanation of an error status ({"error": {"message": ...}}), else the start
// of the body.
std::string error_text(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view message;
  if (!parser.parse(body.data(), body.size()).get(root) && !root["error"]["message"].get(message)) {
    return std::string(message);
  }
  std::string start(body.substr(0, 200));
  std::replace(start.begin(), start.end(), '\n', ' ');
  return start;
}

bool retryable_status(long status) { return status >= 500 || status == 408 || status == 429; }

bool is_word_byte(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// The first position of `needle` in `text` as a whole word, or npos.
std::size_t find_word(std::string_view text, std::string_view needle) {
  if (needle.empty()) return std::string_view::npos;
  for (std::size_t at = 0; at + needle.size() <= text.size(); ++at) {
    if (!equal_ignoring_case(text.substr(at, needle.size()), needle)) continue;
    bool starts = at == 0 || !is_word_byte(text[at - 1]);
    std::size_t end = at + needle.size();
    bool ends = end == text.size() || !is_word_byte(text[end]);
    if (starts && ends) return at;
  }
  return std::string_view::npos;
}

// `label` without the punctuation around it ("1" for "[1]").
std::string_view label_core(std::string_view label) {
  while (!label.empty() && !is_word_byte(label.front())) label.remove_prefix(1);
  while (!label.empty() && !is_word_byte(label.back())) label.remove_suffix(1);
  return label;
}

std::optional<std::string_view> find_label(std::string_view text,
                                           std::span<const std::string_view> labels) {
  std::optional<std::string_view> best;
  std::size_t best_at = std::string_view::npos, best_size = 0;
  for (std::string_view label : labels) {
    for (std::string_view form : {label, label_core(label)}) {
      std::size_t at = find_word(text, form);
      if (at == std::string_view::npos) continue;
      if (at < best_at || (at == best_at && form.size() > best_size)) {
        best = label;
        best_at = at;
        best_size = form.size();
      }
    }
  }
  return best;
}

std::string_view strip_quotes(std::string_view text) {
  static constexpr std::pair<std::string_view, std::string_view> kQuotes[] = {
      {"\"", "\""}, {"'", "'"}, {"`", "`"}, {"\u201c", "\u201d"}, {"\u2018", "\u2019"}};
  for (const auto& [open, close] : kQuotes) {
    if (text.size() >= open.size() + close.size() && text.starts_with(open) &&
        text.ends_with(close)) {
      return text::py_strip(text.substr(open.size(), text.size() - open.size() - close.size()));
    }
  }
  return text;
}

}  // namespace

std::string openai_api_key() {
  const char* key = std::getenv("OPENAI_API_KEY");
  return key != nullptr ? key : "";
}

std::string chat_request_body(const OpenAiOptions& options, std::string_view prompt) {
  JsonWriter w;
  w.begin_object().key("model").value(options.model).key("messages").begin_array();
  w.begin_object().key("role").value("user").key("content").value(prompt).end_object();
  w.end_array().key("temperature").value(options.temperature);
  if (options.max_tokens > 0) {
    w.key("max_tokens").value(static_cast<std::int64_t>(options.max_tokens));
  }
  w.end_object();
  return w.str();
}

std::chrono::milliseconds retry_wait(const OpenAiOptions& options, int retry,
                                     std::string_view retry_after,
                                     std::chrono::system_clock::time_point now) {
  using std::chrono::milliseconds;
  std::optional<milliseconds> wait;
  std::string_view value = text::py_strip(retry_after);
  if (!value.empty()) {
    long seconds = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (error == std::errc() && end == value.data() + value.size() && seconds >= 0) {
      wait = milliseconds(seconds * 1000);
    } else if (std::optional<std::time_t> when = parse_http_date(value)) {
      auto delta = std::chrono::system_clock::from_time_t(*when) - now;
      wait = std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(delta));
    }
  }
  if (!wait) wait = options.backoff * (1LL << std::min(retry - 1, 20));
  return std::min(*wait, options.max_wait);
}

OpenAiClient::OpenAiClient(OpenAiOptions options) : options_(std::move(options)) {
  if (options_.model.empty()) throw Error("an OpenAI-compatible model needs a name");
  std::string base = options_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  options_.base_url = base;
  url_ = base + "/chat/completions";
}

std::string OpenAiClient::complete_one(std::size_t index, const std::string& prompt) {
  const std::string body = chat_request_body(options_, prompt);
  std::filesystem::path cached;
  if (!options_.cache_dir.empty()) {
    std::string key = content_hash(options_.base_url + '\n' + options_.model + '\n' + body);
    cached = options_.cache_dir / key.substr(0, 2) / (key + ".json");
    std::error_code missing;
    if (std::filesystem::exists(cached, missing)) {
      Parsed parsed = parse_completion(read_file(cached));
      if (parsed.content) {
        ++cache_hits_;
        return *parsed.content;
      }
      // A damaged cache file (not written by lamp) is asked for again and replaced.
    }
  }
  DownloadOptions http{.connect_timeout_s = options_.connect_timeout_s,
                       .stall_timeout_s = options_.request_timeout_s,
                       .headers = {"Content-Type: application/json", "Expect:"}};
  if (!options_.api_key.empty())
    http.headers.push_back("Authorization: Bearer " + options_.api_key);
  for (int attempt = 1;; ++attempt) {
    ++requests_sent_;
    PostResult answer = post_once(url_, body, http);
    std::string why;
    if (answer.head.status == 0) {
      if (!answer.transient) {
        throw Error(Location{.file = url_},
                    fmt::format("prompt {}: request failed: {}", index, answer.failure));
      }
      why = answer.failure;
    } else if (answer.head.status == 200) {
      Parsed parsed = parse_completion(answer.body);
      if (!parsed.content) {
        throw Error(Location{.file = url_},
                    fmt::format("prompt {}: malformed answer: {}", index, parsed.problem));
      }
      if (!cached.empty()) {
        std::error_code error;
        std::filesystem::create_directories(cached.parent_path(), error);
        if (error) {
          throw Error(Location{.file = cached.parent_path().string()},
                      "cannot create the request cache folder: " + error.message());
        }
        write_file_atomic(cached, answer.body);
      }
      return *parsed.content;
    } else {
      why = fmt::format("HTTP {}: {}", answer.head.status, error_text(answer.body));
      if (!retryable_status(answer.head.status)) {
        throw Error(Location{.file = url_}, fmt::format("prompt {}: {}", index, why));
      }
    }
    if (attempt > options_.max_retries) {
      throw Error(Location{.file = url_},
                  fmt::format("prompt {}: gave up after {} attempt{}: {}", index, attempt,
                              attempt == 1 ? "" : "s", why));
    }
    auto wait = retry_wait(options_, attempt, answer.head.header("retry-after"),
                           std::chrono::system_clock::now());
    if (options_.log != nullptr) {
      fmt::print(options_.log, "lamp: {}: prompt {}: {}; retrying in {} ms ({} of {})\n", url_,
                 index, why, wait.count(), attempt, options_.max_retries);
    }
    std::this_thread::sleep_for(wait);
  }
}

std::vector<std::string> OpenAiClient::complete(
    std::span<const std::string> prompts,
    const std::function<void(std::size_t, std::size_t)>& progress) {
  cache_hits_ = 0;
  requests_sent_ = 0;
  std::vector<std::string> answers(prompts.size());
  std::mutex mutex;
  std::size_t done = 0;
  std::size_t failed_index = prompts.size();
  std::exception_ptr failure;
  // Workers take one prompt at a time (not parallel_for's chunks, which would queue prompts
  // behind a slow answer) and stop taking new ones after a failure.
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (std::size_t i = next++; i < prompts.size() && !failed; i = next++) {
      try {
        std::string answer = complete_one(i, prompts[i]);
        std::lock_guard lock(mutex);
        answers[i] = std::move(answer);
        if (progress) progress(++done, prompts.size());
      } catch (...) {
        std::lock_guard lock(mutex);
        failed = true;
        if (i < failed_index) {
          failed_index = i;
          failure = std::current_exception();
        }
      }
    }
  };
  std::size_t workers = std::min<std::size_t>(
      static_cast<std::size_t>(std::max(1, options_.concurrency)), prompts.size());
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < workers; ++t) pool.emplace_back(work);
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  return answers;
}

std::string postprocess_answer(const TaskSpec& task, std::string_view raw) {
  std::string_view text = text::py_strip(raw);
  if (task.metric == MetricKind::kGeneration) return std::string(strip_quotes(text));
  if (task.metric == MetricKind::kRating && text::py_float(text)) return std::string(text);
  if (auto label = find_label(text, task.labels)) return std::string(*label);
  return std::string(text);
}

}  // namespace lamp
