// What `lamp train` asks of the trainer, torch-free so that the CLI fills it without compiling
// libtorch's headers (the trainer runs inside the nn plugin, nn/plugin.h).
//
// A job is tokenized examples, a dev set scored by a callback (the task's metric lives in the
// torch-free metrics module) and train_llm.py's settings. The trainer writes OUT/ as described
// in train/trainer.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "lamp/nn/options.h"

namespace lamp::train {

// train_llm.py's defaults (Seq2SeqTrainingArguments as it sets them, transformers 4.27).
struct TrainOptions {
  double learning_rate = 5e-5;
  double weight_decay = 1e-4;  // not on layer norms nor on "bias"-named tensors, as the Trainer
  double warmup_ratio = 0.05;  // warmup steps = ceil(ratio * total updates)
  double max_grad_norm = 1.0;  // <= 0: no clipping
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 1e-8;
  int batch_size = 16;
  int gradient_accumulation_steps = 1;
  int epochs = 10;
  int logging_steps = 50;  // updates between log lines
  // Updates between checkpoints besides the one at each epoch's end; 0: epochs only.
  int save_steps = 0;
  std::uint64_t seed = 0;
  // Batches of similar input length (as the Trainer's group_by_length): less padding.
  bool group_by_length = true;
  int threads = 0;  // 0: all cores
  // Dev (and test) generation: beam 4, max_length 128, inputs truncated to 256 tokens.
  nn::Seq2SeqOptions generation;
};

struct TrainExample {
  std::vector<int> input_ids;  // truncated, EOS included
  std::vector<int> labels;     // truncated, EOS included
};

// The dev set: prompts generated from after each epoch and a score of the predictions.
struct DevSet {
  std::vector<std::string> prompts;
  std::string metric;  // "accuracy", "mae", "rouge-1"
  bool greater_is_better = true;
  // predictions (one per prompt, in order) -> every metric of the task, `metric` among them.
  std::function<std::vector<std::pair<std::string, double>>(std::span<const std::string>)> score;
};

struct TrainJob {
  std::filesystem::path model_dir;  // a local folder: config.json, weights, tokenizer.json
  std::filesystem::path out_dir;
  bool resume = false;
  // What a resumed run must share with the stopped one (the CLI computes them): the task, the
  // model's identity (its config and weight files) and the data's and settings' fingerprint.
  std::string task;
  std::string model_identity;
  std::string fingerprint;
  std::vector<TrainExample> train;
  DevSet dev;
  TrainOptions options;
  // Stop cleanly after this many updates in this process (a checkpoint is written), as an
  // interruption would; -1: run to the end. For tests and time-boxed runs.
  std::int64_t stop_after_steps = -1;
  bool quiet = false;  // no progress bar
};

struct TrainResult {
  std::filesystem::path best_dir;  // OUT/checkpoint-N of the best dev metric
  double best_metric = 0;
  std::int64_t steps = 0;  // updates done, in all runs
  bool finished = false;   // false when stopped by stop_after_steps
};

}  // namespace lamp::train
