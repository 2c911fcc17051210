// A progress bar with an ETA for long steps (ranking, generation, training epochs), drawn on one
// line of stderr:
//   LaMP-4 bm25 k=2 [##########..........]  120/240  50%  0:41 left
// It draws only when asked to and stderr is a terminal (a log file gets no carriage-return
// noise), at most every 100 ms, and finish() ends the line. The ETA is the elapsed time scaled
// to the remaining work, shown once a first unit is done.
//
// Thread-safety: update() and advance() may be called from any thread; draws are serialised.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>

namespace lamp {

// Whether progress bars should draw: not --quiet, and stderr is a terminal.
bool progress_wanted(bool quiet);

// One line of the bar, without "\r": the label, a 20-cell bar, done/total, the percentage and,
// when done > 0 and done < total, the time left (from `elapsed_seconds` so far), as "M:SS" or
// "H:MM:SS". A total of 0 draws as complete.
std::string format_progress(const std::string& label, std::size_t done, std::size_t total,
                            double elapsed_seconds);

class ProgressBar {
 public:
  // `out` null: draws nothing (the bar still counts). Use progress_wanted() to choose.
  ProgressBar(std::string label, std::size_t total, std::FILE* out);
  ~ProgressBar();  // finish()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(std::size_t done);
  void advance(std::size_t units = 1);
  // Text drawn after the bar from the next draw on ("loss 2.31  lr 4.9e-05"): live figures.
  void set_note(std::string note);
  // Draws the final state and ends the line (once; later calls do nothing).
  void finish();
  std::size_t done() const;

 private:
  void draw_locked(bool force);

  std::string label_, note_;
  std::size_t total_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  mutable std::mutex mutex_;
  std::size_t done_ = 0;
  bool drawn_ = false, finished_ = false;
};

}  // namespace lamp
