// The trainer: golden gradients, the optimiser's and schedule's formulas, batch order, a tiny
// fine-tuning run that learns, resume equivalence and checkpoint round trips.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "lamp/core/error.h"
#include "lamp/core/test_util.h"
#include "lamp/data/synth.h"
#include "lamp/metrics/evaluate.h"
#include "lamp/nn/init.h"
#include "lamp/nn/runtime.h"
#include "lamp/nn/safetensors.h"
#include "lamp/nn/seq2seq.h"
#include "lamp/train/optimizer.h"
#include "lamp/train/trainer.h"

namespace lamp::train {
namespace {
namespace fs = std::filesystem;
using testing_util::slurp;
using testing_util::TempDir;

const fs::path kFixtures(LAMP_FIXTURES);

std::vector<int> ints(simdjson::dom::element row, simdjson::dom::element mask, bool labels) {
  std::vector<int> out;
  auto m = mask.get_array().begin();
  for (simdjson::dom::element v : row.get_array()) {
    const std::int64_t x = v.get_int64();
    const bool keep = labels ? x != -100 : (*m).get_int64().value() == 1;
    if (keep) out.push_back(static_cast<int>(x));
    ++m;
  }
  return out;
}

double rel_error(double got, double want) { return std::abs(got - want) / std::abs(want); }

// The golden batch of tests/fixtures/models/t5_golden.json through the trainer's own step
// (accumulate_gradients in training mode, the config's dropout is 0) and clip_grad_norm.
void check_golden(const char* dtype_key, at::ScalarType dtype) {
  simdjson::dom::parser parser;
  simdjson::dom::element golden = parser.load((kFixtures / "models" / "t5_golden.json").string());
  simdjson::dom::element g = golden[dtype_key];
  nn::T5Model model = nn::T5Model::load(kFixtures / "models" / "t5", dtype);
  std::vector<TrainExample> examples;
  simdjson::dom::array ids = g["input_ids"], mask = g["attention_mask"], labels = g["labels"];
  for (std::size_t b = 0; b < ids.size(); ++b)
    examples.push_back(
        {ints(ids.at(b), mask.at(b), false), ints(labels.at(b), labels.at(b), true)});
  nn::NamedTensors params = model.named_tensors();
  for (auto& [name, t] : params) t.requires_grad_(true);

  std::vector<std::size_t> all(examples.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  const double loss = accumulate_gradients(model, examples, all, /*train=*/true, 1.0);
  EXPECT_LT(rel_error(loss, g["loss"].get_double()), 1e-4);
  // The per-parameter norms before clipping, then the global norm clip_grad_norm reports.
  for (const auto& [name, t] : params) {
    const double want = g["grad_norm_per_param"][name].get_double();
    EXPECT_LT(rel_error(t.grad().norm().item<double>(), want), 1e-4) << name;
  }
  EXPECT_LT(rel_error(clip_grad_norm(params, 0), g["grad_global_norm"].get_double()), 1e-4);

  // Per-example loss: each row as a batch of its own.
  simdjson::dom::array per_example = g["per_example_loss"];
  for (std::size_t b = 0; b < examples.size(); ++b) {
    const std::size_t row[] = {b};
    EXPECT_LT(rel_error(accumulate_gradients(model, examples, row, true, 0.0),
                        per_example.at(b).get_double()),
              1e-4)
        << "row " << b;
  }
}

TEST(Golden, LossAndGradientsInTrainingModeFloat32) { check_golden("float32", at::kFloat); }
TEST(Golden, LossAndGradientsInTrainingModeFloat64) { check_golden("float64", at::kDouble); }

TEST(Optimizer, WeightDecayRuleIsTheTrainers) {
  EXPECT_TRUE(decays("shared.weight"));
  EXPECT_TRUE(decays("encoder.block.0.layer.0.SelfAttention.q.weight"));
  EXPECT_TRUE(decays("lm_head.weight"));
  EXPECT_FALSE(decays("encoder.block.0.layer.0.layer_norm.weight"));
  EXPECT_FALSE(decays("decoder.final_layer_norm.weight"));
  EXPECT_FALSE(decays("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"));
  EXPECT_FALSE(decays("embeddings.LayerNorm.weight"));
}

TEST(Optimizer, LinearScheduleWithWarmup) {
  // get_linear_schedule_with_warmup(warmup 2, total 10) at steps 0..10.
  const double want[] = {0,       0.5,     1,       7.0 / 8, 6.0 / 8, 5.0 / 8,
                         4.0 / 8, 3.0 / 8, 2.0 / 8, 1.0 / 8, 0};
  for (int s = 0; s <= 10; ++s) EXPECT_DOUBLE_EQ(linear_schedule(s, 2, 10), want[s]) << s;
  EXPECT_DOUBLE_EQ(linear_schedule(0, 0, 4), 1.0);  // no warmup starts at the full rate
  EXPECT_DOUBLE_EQ(linear_schedule(3, 0, 4), 0.25);
}

TEST(Optimizer, AdamWStepsAsTransformersAdamW) {
  TrainOptions options;
  options.weight_decay = 0.1;
  at::Tensor w = at::tensor({1.0, -2.0}, at::kDouble).requires_grad_(true);
  at::Tensor norm = at::tensor({1.0}, at::kDouble).requires_grad_(true);
  AdamW adam({{"w", w}, {"x.layer_norm.weight", norm}}, options);
  // The same updates by hand, in double.
  double p[2] = {1.0, -2.0}, m[2] = {0, 0}, v[2] = {0, 0}, q = 1.0, mq = 0, vq = 0;
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  for (int t = 1; t <= 3; ++t) {
    const double g[2] = {0.5 * t, -0.25}, gq = 0.3;
    w.mutable_grad() = at::tensor({g[0], g[1]}, at::kDouble);
    norm.mutable_grad() = at::tensor({gq}, at::kDouble);
    adam.step(lr);
    const double step = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (int i = 0; i < 2; ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      p[i] -= step * m[i] / (std::sqrt(v[i]) + eps);
      p[i] -= lr * 0.1 * p[i];
    }
    mq = b1 * mq + (1 - b1) * gq;
    vq = b2 * vq + (1 - b2) * gq * gq;
    q -= step * mq / (std::sqrt(vq) + eps);  // a layer norm: no decay
  }
  EXPECT_NEAR(w[0].item<double>(), p[0], 1e-12);
  EXPECT_NEAR(w[1].item<double>(), p[1], 1e-12);
  EXPECT_NEAR(norm[0].item<double>(), q, 1e-12);
  EXPECT_EQ(adam.steps(), 3);
}

TEST(Optimizer, ClipGradNormScalesToTheMaximum) {
  at::Tensor a = at::zeros({2}, at::kDouble).requires_grad_(true);
  a.mutable_grad() = at::tensor({3.0, 4.0}, at::kDouble);
  nn::NamedTensors params{{"a", a}};
  EXPECT_DOUBLE_EQ(clip_grad_norm(params, 1.0), 5.0);
  EXPECT_NEAR(a.grad()[0].item<double>(), 3.0 / (5.0 + 1e-6), 1e-15);
  EXPECT_DOUBLE_EQ(clip_grad_norm(params, 10.0), 1.0 * 5.0 / (5.0 + 1e-6));  // under: unchanged
}

std::vector<TrainExample> examples_of_lengths(std::initializer_list<int> lengths) {
  std::vector<TrainExample> out;
  for (int n : lengths) out.push_back({std::vector<int>(static_cast<std::size_t>(n), 5), {1}});
  return out;
}

TEST(Batches, SeededPermutationGroupedByLength) {
  std::vector<TrainExample> ex;
  for (int i = 0; i < 100; ++i)
    ex.push_back({std::vector<int>(static_cast<std::size_t>(1 + (i * 37) % 50), 5), {1}});
  auto a = epoch_batches(ex, 8, true, 3, 0), again = epoch_batches(ex, 8, true, 3, 0);
  auto next = epoch_batches(ex, 8, true, 3, 1);
  EXPECT_EQ(a, again);
  EXPECT_NE(a, next);
  ASSERT_EQ(a.size(), 13u);  // ceil(100 / 8)
  EXPECT_EQ(a.back().size(), 4u);
  std::vector<int> seen(100, 0);
  for (const auto& batch : a)
    for (std::size_t i : batch) ++seen[i];
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 100);
  // One megabatch (100 / 32 = 3 batches of 8 = 24 examples) sorted longest first, and the
  // longest example of all first.
  EXPECT_EQ(ex[a[0][0]].input_ids.size(), 50u);
  std::vector<std::size_t> flat;
  for (const auto& batch : a) flat.insert(flat.end(), batch.begin(), batch.end());
  for (std::size_t i = 1; i + 1 < 24; ++i)
    EXPECT_GE(ex[flat[i]].input_ids.size(), ex[flat[i + 1]].input_ids.size()) << i;
  // Without grouping: a plain permutation, the same one for the same seed.
  auto plain = epoch_batches(examples_of_lengths({1, 2, 3, 4, 5}), 2, false, 7, 0);
  EXPECT_EQ(plain, epoch_batches(examples_of_lengths({1, 2, 3, 4, 5}), 2, false, 7, 0));
  EXPECT_EQ(plain.size(), 3u);
}

// A tiny T5 with Flan-T5's vocabulary (so the T5 tokenizer applies) in dir/model.
fs::path tiny_model(const TempDir& dir, double dropout) {
  dir.write("config.json",
            R"({"model_type": "t5", "vocab_size": 32128, "d_model": 32, "d_kv": 8, "d_ff": 64,
  "num_layers": 1, "num_decoder_layers": 1, "num_heads": 4, "feed_forward_proj": "gated-gelu",
  "tie_word_embeddings": false, "dropout_rate": )" +
                std::to_string(dropout) + R"(,
  "decoder_start_token_id": 0, "eos_token_id": 1, "pad_token_id": 0})");
  const fs::path model = dir / "model";
  nn::init_model(dir / "config.json", 1, model);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(kFixtures / "tokenizers" / "t5" / f, model / f);
  return model;
}

// Synthetic LaMP-3 (inputs only; the label words in a review make the rating learnable).
struct Lamp3 {
  SynthData train, dev;
  explicit Lamp3(std::size_t train_samples, std::size_t dev_samples)
      : train(synthesize({.task = &find_task("LaMP-3"),
                          .samples = train_samples,
                          .profile_size = 1,
                          .seed = 1,
                          .max_words = 12})),
        dev(synthesize({.task = &find_task("LaMP-3"),
                        .samples = dev_samples,
                        .profile_size = 1,
                        .seed = 2,
                        .max_words = 12})) {}
};

struct Recorder {
  std::vector<std::vector<std::string>> predictions;  // per evaluation
};

// The dev set's LaMP-3 metrics of `predictions` (in sample order).
std::vector<std::pair<std::string, double>> dev_metrics(const Lamp3& data,
                                                        std::span<const std::string> predictions) {
  Outputs preds;
  for (std::size_t i = 0; i < predictions.size(); ++i)
    preds.records.push_back({data.dev.golds.records[i].id, predictions[i]});
  return evaluate(find_task("LaMP-3"), data.dev.golds, preds, {}).metrics;
}

double mae_of(const Lamp3& data, std::span<const std::string> predictions) {
  for (const auto& [key, value] : dev_metrics(data, predictions))
    if (key == "MAE") return value;
  return -1;
}

TrainJob lamp3_job(const fs::path& model, const fs::path& out, const Lamp3& data, Recorder& rec) {
  static const text::T5Tokenizer tokenizer =
      text::T5Tokenizer::load(kFixtures / "tokenizers" / "t5");
  TrainJob job;
  job.model_dir = model;
  job.out_dir = out;
  job.task = "LaMP-3";
  job.model_identity = "tiny";
  job.fingerprint = "data";
  job.quiet = true;
  for (std::size_t i = 0; i < data.train.questions.size(); ++i)
    job.train.push_back({tokenizer.encode(data.train.questions.samples()[i].input, 64),
                         tokenizer.encode(data.train.golds.records[i].output, 8)});
  for (const Sample& s : data.dev.questions.samples()) job.dev.prompts.emplace_back(s.input);
  job.dev.metric = "MAE";
  job.dev.greater_is_better = false;
  job.dev.score = [&data, &rec](std::span<const std::string> predictions) {
    rec.predictions.emplace_back(predictions.begin(), predictions.end());
    return dev_metrics(data, predictions);
  };
  job.options.threads = 1;
  job.options.batch_size = 8;
  job.options.learning_rate = 3e-3;
  job.options.logging_steps = 5;
  job.options.generation.generation.num_beams = 2;
  job.options.generation.generation.max_length = 4;
  job.options.generation.max_input_length = 64;
  return job;
}

TEST(FineTune, TinyModelLearnsSyntheticLamp3) {
  TempDir dir;
  const fs::path model = tiny_model(dir, 0.1);
  Lamp3 data(96, 32);
  Recorder rec;
  TrainJob job = lamp3_job(model, dir / "run", data, rec);
  job.options.epochs = 25;  // 12 updates an epoch: 300 updates
  nn::Seq2Seq untrained(model, job.options.generation);
  const double before = mae_of(data, untrained.generate(job.dev.prompts));
  TrainResult result = run_training(job);
  ASSERT_TRUE(result.finished);
  EXPECT_EQ(result.steps, 300);
  EXPECT_LT(result.best_metric, before - 0.5) << "untrained MAE " << before;
  // The run folder: the best and the latest checkpoint, state and log.
  EXPECT_TRUE(fs::exists(result.best_dir / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "run" / "checkpoint-300" / "optimizer.safetensors"));
  EXPECT_TRUE(fs::exists(result.best_dir / "tokenizer.json"));
  const std::string log = slurp(dir / "run" / "log.jsonl");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 60 + 25);  // every 5 updates + 25 evals

  // The best checkpoint loads back and generates what the run scored for it.
  const std::string best_name = result.best_dir.filename().string();
  const std::size_t best_epoch = std::stoul(best_name.substr(best_name.find('-') + 1)) / 12;
  nn::Seq2Seq reloaded(result.best_dir, job.options.generation);
  EXPECT_EQ(reloaded.generate(job.dev.prompts), rec.predictions.at(best_epoch - 1));
}

// Every tensor of two safetensors files, bit for bit.
void expect_same_tensors(const fs::path& a, const fs::path& b) {
  EXPECT_EQ(slurp(a), slurp(b)) << a << " vs " << b;
}

TEST(FineTune, ResumedRunEqualsAnUninterruptedOne) {
  TempDir dir;
  const fs::path model = tiny_model(dir, 0.2);  // dropout on: its randomness must resume too
  Lamp3 data(32, 8);
  Recorder rec_a, rec_b;
  TrainJob whole = lamp3_job(model, dir / "whole", data, rec_a);
  whole.options.epochs = 2;
  whole.options.logging_steps = 1;
  TrainResult a = run_training(whole);
  ASSERT_TRUE(a.finished);

  TrainJob first = lamp3_job(model, dir / "split", data, rec_b);
  first.options = whole.options;
  first.stop_after_steps = 4;  // one epoch of 4 updates
  TrainResult stopped = run_training(first);
  EXPECT_FALSE(stopped.finished);
  EXPECT_EQ(stopped.steps, 4);
  // A crash while writing the next checkpoint leaves its temporary folder (and no state.json
  // naming it): resuming ignores and replaces it.
  for (const char* tmp : {".checkpoint-8.tmp", ".checkpoint-6.tmp"}) {
    fs::create_directories(dir / "split" / tmp);
    dir.write(std::string("split/") + tmp + "/config.json", "{\"partial");
  }
  TrainJob rest = first;
  rest.stop_after_steps = -1;
  rest.resume = true;
  TrainResult b = run_training(rest);
  ASSERT_TRUE(b.finished);
  EXPECT_EQ(b.steps, 8);
  EXPECT_FALSE(fs::exists(dir / "split" / ".checkpoint-6.tmp"));
  expect_same_tensors(dir / "whole" / "checkpoint-8" / "model.safetensors",
                      dir / "split" / "checkpoint-8" / "model.safetensors");
  expect_same_tensors(dir / "whole" / "checkpoint-8" / "optimizer.safetensors",
                      dir / "split" / "checkpoint-8" / "optimizer.safetensors");
  // The same loss curve: log.jsonl equal but for the timing field.
  auto without_speed = [](std::string text) {
    std::string out;
    std::size_t at = 0;
    while (true) {
      std::size_t s = text.find("\"samples_per_second\"", at);
      out += text.substr(at, s == std::string::npos ? std::string::npos : s - at);
      if (s == std::string::npos) break;
      at = text.find('}', s);
    }
    return out;
  };
  EXPECT_EQ(without_speed(slurp(dir / "whole" / "log.jsonl")),
            without_speed(slurp(dir / "split" / "log.jsonl")));
  EXPECT_EQ(a.best_metric, b.best_metric);
}

TEST(FineTune, RefusesToResumeAnotherRun) {
  TempDir dir;
  const fs::path model = tiny_model(dir, 0.0);
  Lamp3 data(16, 4);
  Recorder rec;
  TrainJob job = lamp3_job(model, dir / "run", data, rec);
  job.options.epochs = 1;
  run_training(job);
  // The same folder again without --resume, or resumed with another task, model or data.
  EXPECT_THROW(run_training(job), Error);
  for (auto change :
       {+[](TrainJob& j) { j.task = "LaMP-2"; }, +[](TrainJob& j) { j.model_identity = "another"; },
        +[](TrainJob& j) { j.fingerprint = "other data"; },
        +[](TrainJob& j) { j.options.epochs = 3; }}) {
    TrainJob other = job;
    other.resume = true;
    change(other);
    try {
      run_training(other);
      ADD_FAILURE() << "resumed a mismatched run";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
    }
  }
  TrainJob nothing = job;
  nothing.out_dir = dir / "none";
  nothing.resume = true;
  EXPECT_THROW(run_training(nothing), Error);
  TrainJob empty = job;
  empty.out_dir = dir / "empty";
  empty.train.clear();
  EXPECT_THROW(run_training(empty), Error);
}

}  // namespace
}  // namespace lamp::train
