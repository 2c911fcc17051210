// Test-only helpers shared by the module tests: a temporary folder that cleans up after itself,
// running the built lamp binary (LAMP_BINARY, set by CMake for every test target) the way a user
// would, capturing its exit status, stdout and stderr, and a small HTTP server on loopback for
// tests of downloads and API clients, so they need no network and always see the same answers.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace lamp::testing_util {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("lamp_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  // Writes `text` to a file in the folder and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `s` with bytes outside printable ASCII written as \xNN, for readable failure messages.
inline std::string escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

struct CommandResult {
  int status = -1;  // the exit status
  std::string out, err;
};

// Runs `lamp ARGS` through the shell (ARGS is shell text; `env` is prepended, e.g. "X=1").
inline CommandResult run_lamp(const std::string& args, const std::string& env = "") {
  TempDir capture;
  std::string command = env + (env.empty() ? "" : " ") + LAMP_BINARY + " " + args + " >" +
                        (capture / "out").string() + " 2>" + (capture / "err").string() +
                        " </dev/null";
  int raw = std::system(command.c_str());
  CommandResult result;
  result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  result.out = slurp(capture / "out");
  result.err = slurp(capture / "err");
  return result;
}

struct HttpRequest {
  std::string method, path;
  std::string head;  // the request line and headers
  std::string body;  // Content-Length bytes after the head

  // The value of header `name` (any case); empty when there is none.
  std::string header(std::string_view name) const {
    std::string lower;
    for (char c : head)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    std::string needle = "\r\n";
    for (char c : name)
      needle.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    needle += ':';
    std::size_t at = lower.find(needle);
    if (at == std::string::npos) return "";
    std::size_t begin = at + needle.size();
    std::string value = head.substr(begin, head.find("\r\n", begin) - begin);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    return value;
  }
};

struct HttpResponse {
  int status = 200;
  std::string reason = "OK";
  std::string headers;  // extra header lines, each ending in "\r\n"
  std::string body;     // not sent for HEAD requests
  // The Content-Length to announce when it is not body.size() (a body cut short).
  std::optional<std::size_t> content_length;
};

// What a static file server answers to a GET or HEAD of `content`: all of it, or with
// "Range: bytes=N-" (the form clients use to resume) a 206 from N, or a 416 past the end.
inline HttpResponse serve_bytes(const HttpRequest& request, std::string_view content,
                                bool honour_range = true) {
  std::string range = request.header("range");
  if (range.empty() || !honour_range) return {.body = std::string(content)};
  std::size_t start = std::stoul(range.substr(range.find('=') + 1));
  if (start >= content.size()) {
    return {.status = 416,
            .reason = "Range Not Satisfiable",
            .headers = fmt::format("Content-Range: bytes */{}\r\n", content.size())};
  }
  return {.status = 206,
          .reason = "Partial Content",
          .headers = fmt::format("Content-Range: bytes {}-{}/{}\r\n", start, content.size() - 1,
                                 content.size()),
          .body = std::string(content.substr(start))};
}

// Answers HTTP/1.1 requests on 127.0.0.1 with `handler`, one request per connection
// ("Connection: close"), until it is destroyed or has answered 256 requests; records every
// request. Connections are answered one at a time on the server's thread, or with `concurrent`
// each on a thread of its own (the handler must then be thread-safe), for clients that send
// several requests at once.
class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit HttpServer(Handler handler, bool concurrent = false)
      : handler_(std::move(handler)), concurrent_(concurrent) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_ < 0) throw std::runtime_error("socket failed");
    int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;  // an ephemeral port
    socklen_t len = sizeof addr;
    if (::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_, 16) != 0 ||
        ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(listen_);
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~HttpServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_);
  }

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  static constexpr int kMaxRequests = 256;

  void serve() {
    int served = 0;
    while (!stop_ && served < kMaxRequests) {
      pollfd p{.fd = listen_, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int client = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      ++served;
      if (concurrent_) {
        connections_.emplace_back([this, client] { answer_and_close(client); });
      } else {
        answer_and_close(client);
      }
    }
    for (std::thread& connection : connections_) connection.join();
  }

  void answer_and_close(int fd) {
    answer(fd);
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
  }

  static void send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  void answer(int fd) {
    timeval timeout{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    HttpRequest request;
    char buffer[1024];
    while (request.head.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0 || request.head.size() > 65536) return;
      request.head.append(buffer, static_cast<std::size_t>(n));
    }
    std::size_t head_end = request.head.find("\r\n\r\n") + 4;
    request.body = request.head.substr(head_end);
    request.head.resize(head_end);
    std::string length = request.header("content-length");
    std::size_t body_size = length.empty() ? 0 : std::stoul(length);
    while (request.body.size() < body_size) {
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      request.body.append(buffer, static_cast<std::size_t>(n));
    }
    std::istringstream first_line(request.head.substr(0, request.head.find("\r\n")));
    first_line >> request.method >> request.path;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    HttpResponse response = handler_(request);
    send_all(fd,
             fmt::format("HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
                         response.status, response.reason,
                         response.content_length.value_or(response.body.size()), response.headers));
    if (request.method != "HEAD") send_all(fd, response.body);
  }

  Handler handler_;
  bool concurrent_ = false;
  std::vector<std::thread> connections_;  // used by the server's thread only
  int listen_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_ = false;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<HttpRequest> requests_;
};

}  // namespace lamp::testing_util
