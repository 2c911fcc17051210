#include "lamp/core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace lamp {
namespace {

constexpr int kCells = 20;
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);

std::string format_duration(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

bool progress_wanted(bool quiet) { return !quiet && ::isatty(STDERR_FILENO) == 1; }

std::string format_progress(const std::string& label, std::size_t done, std::size_t total,
                            double elapsed_seconds) {
  double fraction = total == 0 ? 1.0 : std::min(1.0, static_cast<double>(done) / total);
  int filled = static_cast<int>(fraction * kCells);
  std::string line =
      fmt::format("{} [{}{}] {:>{}}/{} {:3}%", label, std::string(filled, '#'),
                  std::string(kCells - filled, '.'), done, fmt::formatted_size("{}", total), total,
                  static_cast<int>(fraction * 100));
  if (done > 0 && done < total) {
    double left = elapsed_seconds * static_cast<double>(total - done) / static_cast<double>(done);
    line += fmt::format("  {} left", format_duration(left));
  }
  return line;
}

ProgressBar::ProgressBar(std::string label, std::size_t total, std::FILE* out)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::size_t done) {
  std::lock_guard lock(mutex_);
  done_ = done;
  draw_locked(false);
}

void ProgressBar::advance(std::size_t units) {
  std::lock_guard lock(mutex_);
  done_ += units;
  draw_locked(false);
}

void ProgressBar::set_note(std::string note) {
  std::lock_guard lock(mutex_);
  note_ = std::move(note);
}

std::size_t ProgressBar::done() const {
  std::lock_guard lock(mutex_);
  return done_;
}

void ProgressBar::finish() {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (out_ == nullptr) return;
  draw_locked(true);
  std::fputc('\n', out_);
  std::fflush(out_);
}

void ProgressBar::draw_locked(bool force) {
  if (out_ == nullptr || (finished_ && !force)) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && drawn_ && now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  drawn_ = true;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  // "\x1b[K" clears what a longer earlier line left behind.
  std::string line = format_progress(label_, done_, total_, elapsed);
  if (!note_.empty()) line += "  " + note_;
  std::fprintf(out_, "\r%s\x1b[K", line.c_str());
  std::fflush(out_);
}

}  // namespace lamp
