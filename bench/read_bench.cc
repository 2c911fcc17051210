// Reading a LaMP questions file: lamp's reader against the time to just read the file's bytes
// (what `cat FILE > /dev/null` does), measured in the same run, with the reader's peak memory.
//
//   build/bench/read_bench FILE.json [--task LaMP-N]
// Make an 826 MB-class file with: lamp data synth --task LaMP-4 --samples 12500 --profile-size 280
// ... Run it twice: the first run warms the page cache, so both numbers then measure memory speed.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/data/json_io.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Reads the whole file through a 1 MB buffer, like cat.
std::size_t read_bytes(const char* path) {
  int fd = ::open(path, O_RDONLY);
  if (fd < 0) return 0;
  std::vector<char> buffer(1 << 20);
  std::size_t total = 0;
  for (ssize_t n; (n = ::read(fd, buffer.data(), buffer.size())) > 0;)
    total += static_cast<std::size_t>(n);
  ::close(fd);
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: read_bench FILE.json [--task LaMP-N]\n");
    return 2;
  }
  const lamp::TaskSpec* task = nullptr;
  try {
    if (argc >= 4 && std::strcmp(argv[2], "--task") == 0) task = &lamp::find_task(argv[3]);
    auto start = std::chrono::steady_clock::now();
    std::size_t bytes = read_bytes(argv[1]);
    double cat_s = seconds_since(start);

    start = std::chrono::steady_clock::now();
    lamp::Questions questions = lamp::read_questions(argv[1], task);
    double read_s = seconds_since(start);

    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    double peak_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
    double file_mb = static_cast<double>(bytes) / (1024.0 * 1024.0);
    std::printf("file: %.1f MiB, %zu samples, %zu profile items, %.1f MiB of text copied\n",
                file_mb, questions.size(), questions.items().size(),
                static_cast<double>(questions.copied_bytes()) / (1024.0 * 1024.0));
    std::printf("read bytes (cat): %.3f s (%.0f MiB/s)\n", cat_s, file_mb / cat_s);
    std::printf("lamp read_questions: %.3f s (%.0f MiB/s)\n", read_s, file_mb / read_s);
    std::printf("ratio: read_questions takes %.2fx the time of reading the bytes\n",
                read_s / cat_s);
    std::printf("peak RSS: %.1f MiB = %.2fx the file size\n", peak_mb, peak_mb / file_mb);
  } catch (const lamp::Error& e) {
    std::fprintf(stderr, "read_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
