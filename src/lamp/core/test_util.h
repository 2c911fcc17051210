// Test-only helpers shared by the module tests: a temporary folder that cleans up after itself,
// and running the built lamp binary (LAMP_BINARY, set by CMake for every test target) the way a
// user would, capturing its exit status, stdout and stderr.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

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

}  // namespace lamp::testing_util
