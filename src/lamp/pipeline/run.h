// lamp run's engine: the paper's experiment grid for one task and split. Cells are the
// retrievers × k values, and "none" (the input without profile) once. For every cell: rank the
// profiles (once per retriever), build the official prompts of the first k items, predict,
// evaluate against the golds, and write the cell's files under the run folder:
//   rankings/RETRIEVER.json           the official ranking file
//   cells/CELL/prompts.jsonl          {"id", "prompt"} per sample (CELL: none, bm25-k2, ...)
//   cells/CELL/predictions.json       official outputs format, ready for lamp eval
// Each intermediate result goes through the content cache (pipeline/cache.h) under a key of
// exactly what it depends on:
//   ranking: questions file bytes, task, retriever, and the retriever's settings (random: seed
//            and official_random; BM25: k1, b, epsilon, idf variant; BM25/Contriever: use_date;
//            Contriever: the encoder's identity)
//   prompts: the ranking's key (or the questions and "none"), k, the tokenizer files' bytes,
//            the prompt budget (max_length)
//   outputs: the predictor's identity, the task, and what it reads: each chunk's prompt
//            strings (language models), the ranking's key and k (profile-vote), or the questions
//            file (majority)
// so a re-run computes nothing, a new k computes only its cells, and a killed run resumes
// (entries are written atomically as soon as they exist).
//
// Thread-safety: run_grid() is not reentrant for one Predictor.
#pragma once

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "lamp/data/task.h"
#include "lamp/pipeline/predictor.h"
#include "lamp/retrieval/retriever.h"

namespace lamp {

struct RunConfig {
  const TaskSpec* task = nullptr;  // nullptr: recognised from the questions
  std::filesystem::path questions;
  std::filesystem::path golds;          // empty: predictions only, no metrics
  std::string split = "dev";            // for reports
  std::vector<std::string> retrievers;  // "none", "bm25", "recency", "random", "contriever"
  std::vector<int> ks;                  // positive; sorted and deduplicated by run_grid
  RankOptions rank;                     // seed, use_date, official_random, bm25, threads
  // Contriever: its identity for the ranking key, and a hook that loads the encoder into the
  // options (embedder, cache) the first time a ranking is not in the cache.
  std::string dense_identity;
  std::function<void(RankOptions&)> attach_dense;
  // The prompts' tokenizer (tokenizer.json or its folder) and token budget.
  std::filesystem::path tokenizer;
  int max_length = 256;
  std::string model_name;  // as the user gave it, for reports
  std::filesystem::path out_dir;
  std::filesystem::path cache_dir;  // empty: out_dir / "cache"
  // A line per ranking computed and per cell not found whole in the cache; nullptr: silent.
  std::FILE* log = stderr;
  bool progress = false;  // draw progress bars on stderr
  // Called after each cell is written, with the number of cells done (tests interrupt runs).
  std::function<void(std::size_t)> after_cell;
};

struct CellResult {
  std::string retriever;                                // "none" or a ranker's name
  int k = 0;                                            // 0 for "none"
  std::string name;                                     // "none", "bm25-k2"
  std::vector<std::pair<std::string, double>> metrics;  // official keys first; empty: no golds
  bool ranking_cached = false, prompts_cached = false, outputs_cached = false;
  std::size_t bare_prompts = 0;  // prompts the budget loop left without profile
  double seconds = 0;
};

struct RunResult {
  const TaskSpec* task = nullptr;
  std::size_t samples = 0;
  std::vector<CellResult> cells;  // none first, then by retriever as given and k ascending
  std::vector<std::pair<std::string, double>> ranking_seconds;  // by retriever, 0 when cached
  std::vector<std::string> notes;                               // from the evaluator
  double seconds = 0;
  // Input files and their content_hash (pipeline/cache.h), for the manifest.
  std::vector<std::pair<std::filesystem::path, std::string>> inputs;
};

// Runs every cell, writing the files above; lamp::Error for bad inputs or settings.
RunResult run_grid(const RunConfig& config, Predictor& predictor);

}  // namespace lamp
