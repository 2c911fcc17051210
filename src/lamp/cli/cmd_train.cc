// lamp train: train_llm.py's job. Every input is checked before the model loads (the splits,
// their outputs, the model's tokenizer, a --resume folder), the prompts are built with the same
// profile selection flags as lamp prompt / predict and tokenized once, and the training loop
// runs in the nn plugin (train/trainer.h). With --test, the best checkpoint predicts the test
// questions (and scores them when --test-outputs is given).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "lamp/cli/commands.h"
#include "lamp/cli/prompt_source.h"
#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/data/json_io.h"
#include "lamp/data/merge.h"
#include "lamp/metrics/evaluate.h"
#include "lamp/nn/hub.h"
#include "lamp/nn/plugin.h"
#include "lamp/pipeline/cache.h"

namespace lamp::cli {
namespace {
namespace fs = std::filesystem;

struct TrainArgs {
  std::string task, train, train_outputs, dev, dev_outputs, test, test_outputs, model, out;
  PromptFlags flags;
  train::TrainOptions options;
  bool resume = false, quiet = false, no_group_by_length = false;
};

// A split's questions with their golds (every sample needs one).
struct Split {
  std::string path;
  Questions questions;
  Outputs golds;
  std::vector<std::string_view> targets;  // per sample, in order
};

Split read_split(const std::string& name, const std::string& questions_path,
                 const std::string& outputs_path, const TaskSpec* task) {
  Split s{questions_path, read_questions(questions_path, task), {}, {}};
  if (s.questions.size() == 0) throw Error(questions_path + ": the " + name + " split is empty");
  if (!outputs_path.empty()) {
    s.golds = read_outputs(outputs_path);
    s.targets = outputs_by_sample(s.questions, s.golds);
  }
  return s;
}

std::string model_identity(const fs::path& dir) {
  std::vector<fs::path> files{dir / "config.json"};
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".safetensors") || name.ends_with(".bin")) files.push_back(entry.path());
  }
  std::sort(files.begin() + 1, files.end());
  std::string digests;
  for (const fs::path& f : files) {
    digests += file_hash(f);
  }
  return content_hash(digests);
}

void append_ids(std::string& bytes, const std::vector<int>& ids) {
  bytes += std::to_string(ids.size()) + ":";
  bytes.append(reinterpret_cast<const char*>(ids.data()), ids.size() * sizeof(int));
}

// The settings a resumed run must keep (the epoch count is checked apart, with its own message;
// logging, checkpointing and threads do not change the result).
std::string settings_text(const train::TrainOptions& o) {
  const nn::GenerationOptions& g = o.generation.generation;
  return fmt::format(
      "lr={} wd={} warmup={} clip={} betas={},{} eps={} batch={} accum={} seed={} grouped={} "
      "input={} beams={} max_length={} max_new={} min_new={} length_penalty={} early={}",
      o.learning_rate, o.weight_decay, o.warmup_ratio, o.max_grad_norm, o.adam_beta1, o.adam_beta2,
      o.adam_epsilon, o.batch_size, o.gradient_accumulation_steps, o.seed, o.group_by_length,
      o.generation.max_input_length, g.num_beams, g.max_length, g.max_new_tokens, g.min_new_tokens,
      g.length_penalty, g.early_stopping);
}

std::string best_metric_key(const TaskSpec& task) {
  switch (task.metric) {
    case MetricKind::kClassification:
      return "accuracy";
    case MetricKind::kRating:
      return "MAE";
    case MetricKind::kGeneration:
      return "rouge-1";
  }
  return "";
}

std::vector<std::string> prompt_texts(const Split& split, PromptFlags& flags,
                                      const text::T5Tokenizer& tokenizer, int max_length) {
  std::vector<Prompt> prompts =
      build_prompts(split.questions, flags, &tokenizer, max_length, split.path);
  if (!flags.no_profile) report_bare_prompts(prompts, max_length);
  std::vector<std::string> texts;
  texts.reserve(prompts.size());
  for (Prompt& p : prompts) texts.push_back(std::move(p.text));
  return texts;
}

// The tokenized training examples and dev prompts: the expensive part of preparing a run
// (Contriever ranking, the prompt budget loop, tokenization), done once and kept in
// OUT/cache/prepared-KEY.bin, KEY a hash of all they depend on. A resumed run reads them back.
struct Prepared {
  std::vector<train::TrainExample> train;
  std::vector<std::string> dev_prompts;
};

std::string prepared_key(const TrainArgs& args, const fs::path& model_dir) {
  const PromptFlags& f = args.flags;
  return CacheKey("prepared v1")
      .add("train", file_hash(args.train))
      .add("train_outputs", file_hash(args.train_outputs))
      .add("dev", file_hash(args.dev))
      .add("dev_outputs", file_hash(args.dev_outputs))
      .add("tokenizer", file_hash(model_dir / "tokenizer.json"))
      .add("ranker", f.ranker)
      .add("ranked", std::int64_t{f.ranked})
      .add("no_profile", std::int64_t{f.no_profile})
      .add("k", std::int64_t{f.k})
      .add("use_date", std::int64_t{f.rank.use_date})
      .add("seed", static_cast<std::int64_t>(f.rank.seed))
      .add("official_random", std::int64_t{f.rank.official_random})
      .add("dense_model", f.dense.model)
      .add("max_input_length", std::int64_t{args.options.generation.max_input_length})
      .hex();
}

template <typename T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

std::string serialize(const Prepared& p) {
  std::string out = "lamp prepared 1\n";
  put<std::uint64_t>(out, p.train.size());
  for (const train::TrainExample& e : p.train) {
    for (const std::vector<int>* ids : {&e.input_ids, &e.labels}) {
      put<std::uint64_t>(out, ids->size());
      out.append(reinterpret_cast<const char*>(ids->data()), ids->size() * sizeof(int));
    }
  }
  put<std::uint64_t>(out, p.dev_prompts.size());
  for (const std::string& prompt : p.dev_prompts) {
    put<std::uint64_t>(out, prompt.size());
    out += prompt;
  }
  return out;
}

// Empty when the bytes are not a whole serialize() output (a file from another version).
std::optional<Prepared> deserialize(std::string_view in) {
  const std::string_view magic = "lamp prepared 1\n";
  if (!in.starts_with(magic)) return std::nullopt;
  in.remove_prefix(magic.size());
  auto take = [&](std::size_t bytes, void* into) {
    if (in.size() < bytes) return false;
    std::memcpy(into, in.data(), bytes);
    in.remove_prefix(bytes);
    return true;
  };
  auto count = [&](std::size_t unit, std::uint64_t& n) {
    return take(sizeof n, &n) && n <= in.size() / std::max<std::size_t>(unit, 1);
  };
  Prepared p;
  std::uint64_t n = 0, m = 0;
  if (!count(16, n)) return std::nullopt;
  p.train.resize(n);
  for (train::TrainExample& e : p.train) {
    for (std::vector<int>* ids : {&e.input_ids, &e.labels}) {
      if (!count(sizeof(int), m)) return std::nullopt;
      ids->resize(m);
      if (!take(m * sizeof(int), ids->data())) return std::nullopt;
    }
  }
  if (!count(8, n)) return std::nullopt;
  p.dev_prompts.resize(n);
  for (std::string& prompt : p.dev_prompts) {
    if (!count(1, m)) return std::nullopt;
    prompt.resize(m);
    if (!take(m, prompt.data())) return std::nullopt;
  }
  if (!in.empty()) return std::nullopt;
  return p;
}

Prepared prepare(TrainArgs& args, const Split& train_split, const Split& dev,
                 const text::T5Tokenizer& tokenizer, const fs::path& model_dir) {
  const fs::path path =
      fs::path(args.out) / "cache" / ("prepared-" + prepared_key(args, model_dir) + ".bin");
  if (fs::exists(path)) {
    if (std::optional<Prepared> cached = deserialize(read_file(path))) {
      if (!args.quiet) std::fprintf(stderr, "lamp: prompts and tokens from %s\n", path.c_str());
      return std::move(*cached);
    }
  }
  const int max_input = args.options.generation.max_input_length;
  Prepared p;
  std::vector<std::string> prompts = prompt_texts(train_split, args.flags, tokenizer, max_input);
  for (std::size_t i = 0; i < prompts.size(); ++i)
    p.train.push_back({tokenizer.encode(prompts[i], max_input),
                       tokenizer.encode(train_split.targets[i], max_input)});
  p.dev_prompts = prompt_texts(dev, args.flags, tokenizer, max_input);
  fs::create_directories(path.parent_path());
  write_file_atomic(path, serialize(p));
  return p;
}

Outputs as_outputs(const Questions& questions, std::span<const std::string> predictions) {
  Outputs out;
  out.source = "predictions";
  for (std::size_t i = 0; i < questions.size(); ++i)
    out.records.push_back({questions.samples()[i].id, predictions[i]});
  return out;
}

void run_train(TrainArgs& args) {
  // Everything a user can get wrong is checked here, before the plugin and the model load.
  const TaskSpec* task_hint = args.task.empty() ? nullptr : &find_task(args.task);
  Split train_split = read_split("training", args.train, args.train_outputs, task_hint);
  const TaskSpec& task = train_split.questions.task();
  Split dev = read_split("dev", args.dev, args.dev_outputs, &task);
  std::optional<Split> test;
  if (!args.test.empty()) test = read_split("test", args.test, args.test_outputs, &task);
  const fs::path model_dir = nn::resolve_model(args.model);
  if (!fs::exists(model_dir / "tokenizer.json"))
    throw Error(model_dir.string() +
                ": the model folder has no tokenizer.json (lamp reads the Hugging Face fast "
                "tokenizer file; save the tokenizer with the model)");
  if (!fs::exists(model_dir / "config.json"))
    throw Error(model_dir.string() + ": the model folder has no config.json");
  const fs::path out(args.out);
  if (!args.resume && fs::exists(out / "state.json"))
    throw Error(args.out +
                " holds a training run: pass --resume to continue it, or choose another --out");
  if (args.resume && !fs::exists(out / "state.json"))
    throw Error(args.out + ": no training run to resume (no state.json)");

  const text::T5Tokenizer tokenizer = text::T5Tokenizer::load(model_dir);
  const int max_input = args.options.generation.max_input_length;
  train::TrainJob job;
  job.model_dir = model_dir;
  job.out_dir = out;
  job.resume = args.resume;
  job.task = std::string(task.name);
  job.model_identity = model_identity(model_dir);
  job.quiet = args.quiet;
  job.options = args.options;
  job.options.threads = args.flags.rank.threads;
  job.options.seed = args.flags.rank.seed;  // one --seed: the random ranker's and the training's
  job.options.group_by_length = !args.no_group_by_length;

  Prepared prepared = prepare(args, train_split, dev, tokenizer, model_dir);
  job.train = std::move(prepared.train);
  job.dev.prompts = std::move(prepared.dev_prompts);
  std::string fingerprint_bytes = job.task;
  for (const train::TrainExample& e : job.train) {
    append_ids(fingerprint_bytes, e.input_ids);
    append_ids(fingerprint_bytes, e.labels);
  }
  for (const std::string& p : job.dev.prompts) fingerprint_bytes += p + '\0';
  for (std::string_view t : dev.targets) fingerprint_bytes += std::string(t) + '\0';
  const train::TrainOptions& o = job.options;
  fingerprint_bytes += settings_text(o);
  job.fingerprint = content_hash(fingerprint_bytes);
  job.dev.metric = best_metric_key(task);
  job.dev.greater_is_better = task.metric != MetricKind::kRating;
  job.dev.score = [&task, &dev](std::span<const std::string> predictions) {
    EvalReport report = evaluate(task, dev.golds, as_outputs(dev.questions, predictions), {});
    return report.metrics;
  };

  const nn::NnPlugin& plugin = nn::nn_plugin();
  train::TrainResult result = plugin.train(job);
  if (!result.finished) {
    std::fprintf(stderr, "lamp: stopped after %lld updates; continue with --resume\n",
                 static_cast<long long>(result.steps));
    return;
  }
  std::fprintf(stderr, "lamp: trained %lld updates; best dev %s %.6g in %s\n",
               static_cast<long long>(result.steps), job.dev.metric.c_str(), result.best_metric,
               result.best_dir.string().c_str());
  if (!test) return;
  std::unique_ptr<nn::TextGenerator> best = plugin.load_seq2seq(result.best_dir, o.generation);
  std::vector<std::string> texts = prompt_texts(*test, args.flags, best->tokenizer(), max_input);
  std::vector<std::string> predictions = best->generate(texts);
  const Outputs test_predictions = as_outputs(test->questions, predictions);
  write_outputs(out / "test_predictions.json", task.eval_name, test_predictions.records);
  std::fprintf(stderr, "lamp: wrote %s\n", (out / "test_predictions.json").c_str());
  if (args.test_outputs.empty()) return;
  EvalReport report = evaluate(task, test->golds, test_predictions, {});
  JsonWriter w(4);
  write_report(w, report, {});
  write_file_atomic(out / "test_results.json", w.str() + "\n");
  std::printf("%s\n", w.str().c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Fine-tune a T5 / Flan-T5 checkpoint on a LaMP task (train_llm.py)");
  cmd->add_option("--task", args->task, "LaMP-N or LaMP_N (default: recognised from the inputs)");
  cmd->add_option("--train", args->train, "Training questions")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--train-outputs", args->train_outputs, "Training golds")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--dev", args->dev, "Dev questions, scored after every epoch")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--dev-outputs", args->dev_outputs, "Dev golds")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--test", args->test, "Test questions, predicted with the best checkpoint")
      ->check(CLI::ExistingFile);
  cmd->add_option("--test-outputs", args->test_outputs, "Test golds (scores the test predictions)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--model", args->model, "Model folder or Hugging Face hub id")->required();
  cmd->add_option("--out", args->out, "Run folder: checkpoints, state.json, log.jsonl")->required();
  cmd->add_flag("--resume", args->resume, "Continue the run in --out from its last checkpoint");
  add_prompt_flags(*cmd, args->flags);
  train::TrainOptions& o = args->options;
  cmd->add_option("--epochs", o.epochs, "Epochs (the paper: 20 for generation tasks)")
      ->capture_default_str();
  cmd->add_option("--learning-rate", o.learning_rate, "AdamW learning rate")->capture_default_str();
  cmd->add_option("--weight-decay", o.weight_decay, "AdamW weight decay (not on layer norms)")
      ->capture_default_str();
  cmd->add_option("--warmup-ratio", o.warmup_ratio, "Linear warmup, as a fraction of all updates")
      ->capture_default_str();
  cmd->add_option("--batch-size", o.batch_size, "Training examples per batch")
      ->capture_default_str();
  cmd->add_option("--gradient-accumulation-steps", o.gradient_accumulation_steps,
                  "Batches per update")
      ->capture_default_str();
  cmd->add_option("--max-grad-norm", o.max_grad_norm, "Gradient clipping (0: none)")
      ->capture_default_str();
  cmd->add_option("--logging-steps", o.logging_steps, "Updates between log.jsonl lines")
      ->capture_default_str();
  cmd->add_option("--save-steps", o.save_steps,
                  "Updates between extra checkpoints (0: epochs only)")
      ->capture_default_str();
  cmd->add_flag("--no-group-by-length", args->no_group_by_length,
                "Plain shuffled batches instead of batches of similar length");
  nn::Seq2SeqOptions& s = o.generation;
  cmd->add_option("--max-input-length", s.max_input_length,
                  "Prompt budget and truncation, in tokens")
      ->capture_default_str();
  cmd->add_option("--num-beams", s.generation.num_beams, "Beams of dev/test generation")
      ->capture_default_str();
  cmd->add_option("--generation-max-length", s.generation.max_length,
                  "Dev/test output length in tokens, start token included")
      ->capture_default_str();
  cmd->add_option("--eval-batch-size", s.batch_size, "Prompts per generation batch")
      ->capture_default_str();
  cmd->add_flag("--quiet", args->quiet, "No progress bar or per-epoch lines");
  cmd->callback([args] {
    check_prompt_flags(args->flags);
    run_train(*args);
  });
}

}  // namespace lamp::cli
