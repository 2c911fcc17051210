// lamp train end to end on a tiny random T5 with Flan-T5's vocabulary: a short run with a test
// split, and every input error reported before training starts.
#include <gtest/gtest.h>

#include <filesystem>

#include "lamp/core/test_util.h"

namespace lamp {
namespace {
namespace fs = std::filesystem;

using testing_util::run_lamp;
using testing_util::slurp;
using testing_util::TempDir;

const fs::path kFixtures(LAMP_FIXTURES);

// dir/model: a tiny T5 (with tokenizer.json unless `tokenizer` is false); dir/train_* and
// dir/dev_*: synthetic LaMP-2 splits.
fs::path setup(const TempDir& dir, bool tokenizer = true) {
  dir.write("config.json", R"({"model_type": "t5", "vocab_size": 32128, "d_model": 16,
    "d_kv": 4, "d_ff": 32, "num_layers": 1, "num_decoder_layers": 1, "num_heads": 4,
    "feed_forward_proj": "gated-gelu", "tie_word_embeddings": false, "dropout_rate": 0.1,
    "decoder_start_token_id": 0, "eos_token_id": 1, "pad_token_id": 0})");
  const fs::path model = dir / "model";
  auto r = run_lamp("model init --config " + (dir / "config.json").string() + " --out " +
                    model.string());
  EXPECT_EQ(r.status, 0) << r.err;
  if (tokenizer)
    fs::copy_file(kFixtures / "tokenizers" / "t5" / "tokenizer.json", model / "tokenizer.json");
  for (const char* split : {"train", "dev"}) {
    const bool train = split[0] == 't';  // 12 training samples, 8 dev ones (the same first ids)
    auto s = run_lamp(std::string("data synth --task LaMP-2 --profile-size 4 --max-words 10") +
                      (train ? " --samples 12 --seed 1" : " --samples 8 --seed 2") + " --split " +
                      split + " --out " + dir.path().string());
    EXPECT_EQ(s.status, 0) << s.err;
  }
  return model;
}

std::string train_args(const TempDir& dir, const fs::path& model, const std::string& out) {
  return "train --train " + (dir / "train_questions.json").string() + " --train-outputs " +
         (dir / "train_outputs.json").string() + " --dev " + (dir / "dev_questions.json").string() +
         " --dev-outputs " + (dir / "dev_outputs.json").string() + " --model " + model.string() +
         " --out " + (dir / out).string() +
         " --ranker bm25 --k 1 --epochs 2 --batch-size 4 --num-beams 1 --generation-max-length 6"
         " --max-input-length 64 --threads 1 --quiet";
}

TEST(Train, RunsAndPredictsTheTestSplitWithTheBestCheckpoint) {
  TempDir dir;
  const fs::path model = setup(dir);
  auto r =
      run_lamp(train_args(dir, model, "run") + " --test " + (dir / "dev_questions.json").string() +
               " --test-outputs " + (dir / "dev_outputs.json").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "run" / "state.json"));
  EXPECT_TRUE(
      fs::exists(dir / "run" / "checkpoint-6" / "model.safetensors"));  // 3 updates an epoch
  EXPECT_NE(slurp(dir / "run" / "test_predictions.json").find("\"task\": \"LaMP_2\""),
            std::string::npos);
  EXPECT_NE(r.out.find("\"accuracy\""), std::string::npos) << r.out;
  // The finished run, resumed, has nothing left to do, and its prompts and tokens come from the
  // run's cache.
  std::string resume = train_args(dir, model, "run") + " --resume";
  resume.erase(resume.find(" --quiet"), 8);
  auto again = run_lamp(resume);
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.err.find("prompts and tokens from"), std::string::npos) << again.err;
}

TEST(Train, InputErrorsComeBeforeTraining) {
  TempDir dir;
  const fs::path model = setup(dir, /*tokenizer=*/false);
  auto no_tokenizer = run_lamp(train_args(dir, model, "run"));
  EXPECT_NE(no_tokenizer.status, 0);
  EXPECT_NE(no_tokenizer.err.find("tokenizer.json"), std::string::npos) << no_tokenizer.err;
  EXPECT_FALSE(fs::exists(dir / "run"));

  fs::copy_file(kFixtures / "tokenizers" / "t5" / "tokenizer.json", model / "tokenizer.json");
  // Outputs that miss questions' ids: the dev golds (8) given as the training ones (12).
  std::string args = train_args(dir, model, "run");
  std::string swapped = args;
  swapped.replace(swapped.find("train_outputs.json"), 18, "dev_outputs.json");
  auto uncovered = run_lamp(swapped);
  EXPECT_NE(uncovered.status, 0);
  EXPECT_NE(uncovered.err.find("have no output"), std::string::npos) << uncovered.err;

  dir.write("empty.json", "[]");
  std::string empty = args;
  empty.replace(empty.find((dir / "dev_questions.json").string()),
                (dir / "dev_questions.json").string().size(), (dir / "empty.json").string());
  auto empty_split = run_lamp(empty);
  EXPECT_NE(empty_split.status, 0);
  EXPECT_NE(empty_split.err.find("empty"), std::string::npos) << empty_split.err;

  auto nothing_to_resume = run_lamp(args + " --resume");
  EXPECT_NE(nothing_to_resume.status, 0);
  EXPECT_NE(nothing_to_resume.err.find("no training run"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "run"));
}

TEST(Train, ResumeRefusesAnotherModelOrTask) {
  TempDir dir;
  const fs::path model = setup(dir);
  std::string args = train_args(dir, model, "run");
  args.replace(args.find("--epochs 2"), 10, "--epochs 1");
  ASSERT_EQ(run_lamp(args).status, 0);
  // Another model: the same shape, other weights.
  auto other = dir / "other";
  ASSERT_EQ(run_lamp("model init --seed 9 --config " + (dir / "config.json").string() + " --out " +
                     other.string())
                .status,
            0);
  fs::copy_file(model / "tokenizer.json", other / "tokenizer.json");
  std::string with_other = args;
  with_other.replace(with_other.find(model.string()), model.string().size(), other.string());
  auto r = run_lamp(with_other + " --resume");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("another model"), std::string::npos) << r.err;
  auto task = run_lamp(args + " --resume --task LaMP-2N");
  EXPECT_NE(task.status, 0);
  auto again = run_lamp(args);  // no --resume: the folder holds a run
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;
}

}  // namespace
}  // namespace lamp
