#include "lamp/train/trainer.h"

#include <ATen/core/grad_mode.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/core/progress.h"
#include "lamp/core/random.h"
#include "lamp/nn/batch.h"
#include "lamp/nn/runtime.h"
#include "lamp/nn/safetensors.h"
#include "lamp/nn/seq2seq.h"
#include "lamp/train/optimizer.h"

namespace lamp::train {
namespace fs = std::filesystem;

std::vector<std::vector<std::size_t>> epoch_batches(std::span<const TrainExample> examples,
                                                    int batch_size, bool group_by_length,
                                                    std::uint64_t seed, std::int64_t epoch) {
  const std::size_t n = examples.size();
  const auto batch = static_cast<std::size_t>(batch_size);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Fisher-Yates from a stream seeded by (seed, epoch).
  std::uint64_t state = seed ^ (0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(epoch + 1));
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[random_below(state, i)]);
  if (group_by_length && n > 0) {
    const std::size_t mega = batch * std::clamp<std::size_t>(n / (4 * batch), 1, 50);
    auto length = [&](std::size_t i) { return examples[i].input_ids.size(); };
    std::size_t longest_mega = 0;
    for (std::size_t begin = 0; begin < n; begin += mega) {
      auto first = order.begin() + static_cast<std::ptrdiff_t>(begin);
      auto last = order.begin() + static_cast<std::ptrdiff_t>(std::min(n, begin + mega));
      std::stable_sort(first, last,
                       [&](std::size_t a, std::size_t b) { return length(a) > length(b); });
      if (length(*first) > length(order[longest_mega])) longest_mega = begin;
    }
    std::swap(order[0], order[longest_mega]);
  }
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t begin = 0; begin < n; begin += batch)
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(begin),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(n, begin + batch)));
  return batches;
}

double accumulate_gradients(const nn::T5Model& model, std::span<const TrainExample> examples,
                            std::span<const std::size_t> rows, bool train, double scale) {
  std::vector<std::vector<int>> inputs, labels;
  inputs.reserve(rows.size());
  labels.reserve(rows.size());
  for (std::size_t r : rows) {
    inputs.push_back(examples[r].input_ids);
    labels.push_back(examples[r].labels);
  }
  std::vector<std::size_t> all(rows.size());
  std::iota(all.begin(), all.end(), 0);
  // DataCollatorForSeq2Seq: inputs padded with pad, labels with -100.
  nn::PaddedBatch input = nn::pad_batch(inputs, all, model.config().pad_token_id);
  at::Tensor label_ids = nn::pad_batch(labels, all, -100).input_ids;  // [B, T]
  nn::T5Model::LabelledPass pass =
      model.forward(input.input_ids, input.attention_mask, label_ids, train);
  (pass.loss * scale).backward();
  return pass.loss.item<double>();
}

namespace {

// OUT/state.json.
struct RunState {
  std::string task, model_identity, fingerprint;
  std::int64_t step = 0, total_steps = 0;
  std::string latest, best;  // checkpoint folder names; empty before the first
  std::string metric;
  double best_metric = 0;
  bool finished = false;
};

std::string checkpoint_name(std::int64_t step) { return "checkpoint-" + std::to_string(step); }

void write_state(const fs::path& out, const RunState& s) {
  JsonWriter w(2);
  w.begin_object();
  w.key("task").value(s.task);
  w.key("model_identity").value(s.model_identity);
  w.key("fingerprint").value(s.fingerprint);
  w.key("step").value(s.step);
  w.key("total_steps").value(s.total_steps);
  w.key("latest").value(s.latest);
  w.key("best").value(s.best);
  w.key("metric").value(s.metric);
  if (s.best.empty()) {
    w.key("best_metric").null();
  } else {
    w.key("best_metric").value(s.best_metric);
  }
  w.key("finished").value(s.finished);
  w.end_object();
  write_file_atomic(out / "state.json", w.str() + "\n");
}

RunState read_state(const fs::path& out) {
  const fs::path path = out / "state.json";
  if (!fs::exists(path)) throw Error(out.string() + ": no training run to resume (no state.json)");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const std::string text = read_file(path);
  if (parser.parse(text).get(root)) throw Error(path.string() + ": not valid JSON");
  RunState s;
  auto text_field = [&](const char* key, std::string& into) {
    std::string_view v;
    if (root[key].get_string().get(v))
      throw Error(path.string() + ": field \"" + key + "\" missing");
    into = v;
  };
  auto int_field = [&](const char* key, std::int64_t& into) {
    if (root[key].get_int64().get(into))
      throw Error(path.string() + ": field \"" + key + "\" missing");
  };
  text_field("task", s.task);
  text_field("model_identity", s.model_identity);
  text_field("fingerprint", s.fingerprint);
  text_field("latest", s.latest);
  text_field("best", s.best);
  text_field("metric", s.metric);
  int_field("step", s.step);
  int_field("total_steps", s.total_steps);
  double best = 0;
  if (root["best_metric"].get_double().get(best) == simdjson::SUCCESS) s.best_metric = best;
  bool finished = false;
  if (root["finished"].get_bool().get(finished) == simdjson::SUCCESS) s.finished = finished;
  if (s.latest.empty() || !fs::exists(out / s.latest))
    throw Error(path.string() + ": names no checkpoint to resume from");
  return s;
}

void check_resumable(const RunState& s, const TrainJob& job, const fs::path& out) {
  auto mismatch = [&](const char* what, const std::string& was, const std::string& now) {
    throw Error(out.string() + ": --resume of a run with another " + what + " (it was " + was +
                ", this command gives " + now + ")");
  };
  if (s.task != job.task) mismatch("task", s.task, job.task);
  if (s.model_identity != job.model_identity)
    mismatch("model", s.model_identity, job.model_identity);
  if (s.fingerprint != job.fingerprint)
    mismatch("data or settings", "fingerprint " + s.fingerprint, job.fingerprint);
}

// The model folder's files other than its weights and config: the tokenizer and generation
// settings, copied into every checkpoint so that each is a complete Hugging Face folder.
std::vector<fs::path> companion_files(const fs::path& model_dir) {
  std::vector<fs::path> files;
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                           "spiece.model", "generation_config.json", "added_tokens.json"}) {
    if (fs::exists(model_dir / name)) files.push_back(model_dir / name);
  }
  return files;
}

void save_checkpoint(const fs::path& out, std::int64_t step, const nn::T5Model& model,
                     const AdamW& optimizer, const fs::path& model_dir,
                     const std::vector<std::pair<std::string, double>>& metrics) {
  const fs::path final_dir = out / checkpoint_name(step);
  const fs::path tmp = out / ("." + checkpoint_name(step) + ".tmp");
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  fs::copy_file(model_dir / "config.json", tmp / "config.json");
  for (const fs::path& f : companion_files(model_dir)) fs::copy_file(f, tmp / f.filename());
  {
    at::NoGradGuard no_grad;
    nn::save_tensors(tmp / "model.safetensors", model.named_tensors());
    nn::save_tensors(tmp / "optimizer.safetensors", optimizer.state());
  }
  JsonWriter w(2);
  w.begin_object().key("global_step").value(step).key("metrics").begin_object();
  for (const auto& [name, value] : metrics) w.key(name).value(value);
  w.end_object().end_object();
  write_file_atomic(tmp / "trainer_state.json", w.str() + "\n");
  fs::remove_all(final_dir);
  fs::rename(tmp, final_dir);
}

// log.jsonl of a resumed run keeps the lines up to its checkpoint's step.
void truncate_log(const fs::path& path, std::int64_t step) {
  if (!fs::exists(path)) return;
  const std::string text = read_file(path);
  std::string kept;
  simdjson::dom::parser parser;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    simdjson::dom::element root;
    std::int64_t line_step = 0;
    if (parser.parse(line).get(root) || root["step"].get_int64().get(line_step)) continue;
    if (line_step <= step) kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

class LogFile {
 public:
  explicit LogFile(const fs::path& path) : file_(std::fopen(path.c_str(), "a")) {
    if (file_ == nullptr) throw Error(path.string() + ": cannot open for appending");
  }
  ~LogFile() { std::fclose(file_); }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;
  void write(const JsonWriter& line) {
    std::fputs(line.str().c_str(), file_);
    std::fputc('\n', file_);
    std::fflush(file_);
  }

 private:
  std::FILE* file_;
};

void check_options(const TrainJob& job) {
  const TrainOptions& o = job.options;
  if (job.train.empty()) throw Error("the training split is empty");
  if (job.dev.prompts.empty()) throw Error("the dev split is empty");
  if (o.batch_size < 1) throw Error("--batch-size must be at least 1");
  if (o.gradient_accumulation_steps < 1)
    throw Error("--gradient-accumulation-steps must be at least 1");
  if (o.epochs < 1) throw Error("--epochs must be at least 1");
  if (o.logging_steps < 1) throw Error("--logging-steps must be at least 1");
  if (o.save_steps < 0) throw Error("--save-steps must not be negative");
  if (!(o.learning_rate > 0)) throw Error("--learning-rate must be positive");
  if (o.warmup_ratio < 0 || o.warmup_ratio > 1) throw Error("--warmup-ratio must be in [0, 1]");
}

double metric_value(const std::vector<std::pair<std::string, double>>& metrics,
                    const std::string& name) {
  for (const auto& [key, value] : metrics)
    if (key == name) return value;
  throw Error("the dev score has no metric \"" + name + "\"");
}

}  // namespace

TrainResult run_training(const TrainJob& job) {
  check_options(job);
  const TrainOptions& o = job.options;
  const fs::path& out = job.out_dir;
  nn::set_threads(o.threads);

  const auto n = static_cast<std::int64_t>(job.train.size());
  const std::int64_t batches_per_epoch = (n + o.batch_size - 1) / o.batch_size;
  const std::int64_t updates_per_epoch =
      (batches_per_epoch + o.gradient_accumulation_steps - 1) / o.gradient_accumulation_steps;
  const std::int64_t total = updates_per_epoch * o.epochs;
  const auto warmup =
      static_cast<std::int64_t>(std::ceil(static_cast<double>(total) * o.warmup_ratio));
  RunState state;
  if (job.resume) {
    state = read_state(out);
    check_resumable(state, job, out);
    if (state.total_steps != total)
      throw Error(out.string() + ": --resume with another number of updates (" +
                  std::to_string(state.total_steps) + " before, " + std::to_string(total) +
                  " now): keep --epochs, --batch-size and --gradient-accumulation-steps");
  } else {
    if (fs::exists(out / "state.json"))
      throw Error(out.string() +
                  " holds a training run: pass --resume to continue it, or choose another --out");
    fs::create_directories(out);
    state.task = job.task;
    state.model_identity = job.model_identity;
    state.fingerprint = job.fingerprint;
    state.metric = job.dev.metric;
    state.total_steps = total;
    fs::remove(out / "log.jsonl");
  }

  const fs::path weights_dir = job.resume ? out / state.latest : job.model_dir;
  auto model = std::make_shared<nn::T5Model>(nn::T5Model::load(weights_dir));
  auto tokenizer =
      std::make_shared<const text::T5Tokenizer>(text::T5Tokenizer::load(job.model_dir));
  nn::NamedTensors params = model->named_tensors();
  for (auto& [name, t] : params) t.requires_grad_(true);
  AdamW optimizer(params, o);
  if (job.resume) {
    nn::Checkpoint checkpoint = nn::Checkpoint::open(out / state.latest / "optimizer.safetensors");
    optimizer.load_state(nn::WeightLoader(checkpoint), state.step);
  }

  truncate_log(out / "log.jsonl", state.step);
  LogFile log(out / "log.jsonl");

  using Clock = std::chrono::steady_clock;
  Clock::time_point window_start = Clock::now();
  double window_loss = 0;
  std::int64_t window_updates = 0, window_samples = 0;
  std::int64_t cached_epoch = -1;
  std::vector<std::vector<std::size_t>> batches;
  const std::int64_t stop_at =
      job.stop_after_steps < 0 ? total : std::min(total, state.step + job.stop_after_steps);
  // Counts this process's updates, so the ETA of a resumed run is right.
  const bool live = progress_wanted(job.quiet);
  ProgressBar progress("lamp train", static_cast<std::size_t>(stop_at - state.step),
                       live ? stderr : nullptr);
  const std::int64_t first_step = state.step;
  while (state.step < stop_at) {
    const std::int64_t epoch = state.step / updates_per_epoch;
    const std::int64_t update = state.step % updates_per_epoch;
    if (epoch != cached_epoch) {
      batches = epoch_batches(job.train, o.batch_size, o.group_by_length, o.seed, epoch);
      cached_epoch = epoch;
    }
    at::manual_seed(o.seed + static_cast<std::uint64_t>(state.step));  // this update's dropout
    const std::int64_t first = update * o.gradient_accumulation_steps;
    const std::int64_t last = std::min(batches_per_epoch, first + o.gradient_accumulation_steps);
    double loss = 0;
    for (std::int64_t b = first; b < last; ++b) {
      const auto& rows = batches[static_cast<std::size_t>(b)];
      loss += accumulate_gradients(*model, job.train, rows, /*train=*/true,
                                   1.0 / o.gradient_accumulation_steps) /
              static_cast<double>(o.gradient_accumulation_steps);
      window_samples += static_cast<std::int64_t>(rows.size());
    }
    const double grad_norm = clip_grad_norm(params, o.max_grad_norm);
    const double lr = o.learning_rate * linear_schedule(state.step, warmup, total);
    optimizer.step(lr);
    optimizer.zero_grad();
    ++state.step;
    window_loss += loss;
    ++window_updates;

    const double seconds = std::chrono::duration<double>(Clock::now() - window_start).count();
    const double samples_per_second = static_cast<double>(window_samples) / seconds;
    progress.set_note(fmt::format("epoch {}/{}  loss {:.4f}  lr {:.2e}  {:.2f} samples/s",
                                  epoch + 1, o.epochs, loss, lr, samples_per_second));
    progress.update(static_cast<std::size_t>(state.step - first_step));
    if (state.step % o.logging_steps == 0) {
      JsonWriter w;
      w.begin_object();
      w.key("step").value(state.step);
      w.key("epoch").value(static_cast<double>(state.step) /
                           static_cast<double>(updates_per_epoch));
      w.key("loss").value(window_loss / static_cast<double>(window_updates));
      w.key("learning_rate").value(lr);
      w.key("grad_norm").value(grad_norm);
      w.key("samples_per_second").value(samples_per_second);
      w.end_object();
      log.write(w);
      window_start = Clock::now();
      window_loss = 0;
      window_updates = window_samples = 0;
    }

    const bool epoch_end = state.step % updates_per_epoch == 0;
    std::vector<std::pair<std::string, double>> metrics;
    if (epoch_end) {
      nn::Seq2Seq generator(model, tokenizer, o.generation);
      std::vector<std::string> predictions = generator.generate(job.dev.prompts);
      metrics = job.dev.score(predictions);
      const double value = metric_value(metrics, job.dev.metric);
      const bool better =
          state.best.empty() ||
          (job.dev.greater_is_better ? value > state.best_metric : value < state.best_metric);
      if (better) {
        state.best = checkpoint_name(state.step);
        state.best_metric = value;
      }
      JsonWriter w;
      w.begin_object().key("step").value(state.step);
      w.key("epoch").value(static_cast<double>(state.step / updates_per_epoch));
      w.key("eval").begin_object();
      for (const auto& [name, v] : metrics) w.key(name).value(v);
      w.end_object().end_object();
      log.write(w);
      if (live) std::fputs("\r\x1b[K", stderr);  // over the bar; it redraws below
      if (!job.quiet)
        std::fprintf(stderr, "lamp: epoch %lld dev %s %.6g%s\n",
                     static_cast<long long>(state.step / updates_per_epoch), job.dev.metric.c_str(),
                     value, better ? " (best so far)" : "");
    }
    const bool save =
        epoch_end || state.step == stop_at || (o.save_steps > 0 && state.step % o.save_steps == 0);
    if (save) {
      save_checkpoint(out, state.step, *model, optimizer, job.model_dir, metrics);
      state.latest = checkpoint_name(state.step);
      state.finished = state.step == total;
      write_state(out, state);
      // Only now, with state.json naming the new checkpoint, may older ones go (and the
      // temporary folders of checkpoints a crash interrupted).
      std::vector<fs::path> stale;
      for (const auto& entry : fs::directory_iterator(out)) {
        const std::string name = entry.path().filename().string();
        if ((name.starts_with("checkpoint-") && name != state.latest && name != state.best) ||
            (name.starts_with(".checkpoint-") && name.ends_with(".tmp")))
          stale.push_back(entry.path());
      }
      for (const fs::path& path : stale) fs::remove_all(path);
    }
  }
  progress.finish();
  TrainResult result;
  result.best_dir = state.best.empty() ? fs::path() : out / state.best;
  result.best_metric = state.best_metric;
  result.steps = state.step;
  result.finished = state.step == total;
  return result;
}

}  // namespace lamp::train
