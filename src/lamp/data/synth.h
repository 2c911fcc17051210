// Synthetic LaMP data: questions and golds in the official formats, for any registry task, with
// the shapes that matter to the benchmark's code paths and timings.
//
// What is generated, per sample (one user per sample):
//  - words: common English function words plus a few thousand pseudo-words, Zipf-distributed;
//  - topics: each user writes about a few topics (small word distributions), so a sample's
//    input shares vocabulary with some of its profile items and retrieval has something to find;
//  - the registry's input template with its "{}" parts filled in; a template with one part per
//    label beyond the first (LaMP-1) gets candidates, the gold one drawn from the user's topics;
//  - labels from the registry, skewed per user and per topic (and with a few label-specific
//    words in the text), so a profile predicts its user's answer;
//  - generated outputs (and profile target fields such as titles) built from their source text's
//    words plus the user's own style words;
//  - profile sizes uniform in [max(1, M/2), M + M/2]; dates "YYYY-MM-DD" when asked for.
// Text lengths per field follow each task's real data (the LaMP paper's averages: headlines ~10
// words, articles ~23, abstracts ~155, reviews 50-200, tweets ~19); max_words shortens them.
//
// Determinism: the bytes depend only on the options, on every platform: lamp's own PRNG
// (xoshiro256** seeded by splitmix64) and integer-only sampling, no <random> distributions and
// no floating point. Sample k is the same whatever the sample count (each sample has its own
// stream), so a small file is a prefix of a larger one with the same seed.
//
// Thread-safety: the functions are reentrant; they share nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "lamp/data/dataset.h"
#include "lamp/data/task.h"

namespace lamp {

struct SynthOptions {
  const TaskSpec* task = nullptr;  // required
  std::size_t samples = 40;        // >= 1
  std::size_t profile_size = 12;   // M, >= 1: sizes vary in [max(1, M/2), M + M/2]
  std::uint64_t seed = 1;
  bool dates = false;  // give every profile item a "date"
  // 0: each task's real text lengths. N: no text longer than N words (ranges shrink in
  // proportion), for small example files and fixtures.
  std::size_t max_words = 0;
  std::uint64_t first_id = 1000;  // sample ids count up from here; item ids are "<sample>_<k>"
};

// A whole synthetic split in memory: the questions and their golds (task = eval_name).
struct SynthData {
  Questions questions;
  Outputs golds;
};

// Throws lamp::Error when the options are unusable (no task, zero samples or profile size).
SynthData synthesize(const SynthOptions& options);

// Streams the same data as synthesize() to the two files (official formats, byte-identical to
// write_questions / write_outputs of synthesize()'s result), holding only one sample and the
// golds in memory. Each file appears complete or not at all; the questions file is committed
// last, so a failure leaves no new questions file without its golds.
void write_synthetic(const SynthOptions& options, const std::filesystem::path& questions_path,
                     const std::filesystem::path& outputs_path);

}  // namespace lamp
