// The grid and its cache: what a change of input, model or setting recomputes, and resuming an
// interrupted run, with a fake language model that counts what it is asked.
#include "lamp/pipeline/run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "lamp/core/error.h"
#include "lamp/core/test_util.h"
#include "lamp/pipeline/baselines.h"

namespace lamp {
namespace {

using testing_util::TempDir;

const std::filesystem::path kExamples =
    std::filesystem::path(LAMP_FIXTURES) / ".." / ".." / "examples" / "LaMP-3";
const std::filesystem::path kTokenizer = std::filesystem::path(LAMP_FIXTURES) / "tokenizers" / "t5";

// Answers "3" to every prompt, counting prompts; can fail after a number of prompts.
class FakeModel : public Predictor {
 public:
  std::string name = "fake";
  std::size_t asked = 0;
  std::size_t fail_after = SIZE_MAX;

  std::string identity() const override { return name; }
  PredictorReads reads() const override { return PredictorReads::kPrompts; }
  std::size_t chunk_size() const override { return 16; }
  std::vector<std::string> predict(const TaskSpec&, std::span<const PredictItem> items,
                                   const PredictProgress&) override {
    for (const PredictItem& item : items) {
      EXPECT_FALSE(item.prompt.empty());
      if (asked == fail_after) throw std::runtime_error("killed");
      ++asked;
    }
    return std::vector<std::string>(items.size(), "3");
  }
};

class Grid : public ::testing::Test {
 protected:
  Grid() {
    std::filesystem::copy_file(kExamples / "dev_questions.json", dir_ / "dev_questions.json");
    config_.questions = dir_ / "dev_questions.json";
    config_.golds = kExamples / "dev_outputs.json";
    config_.retrievers = {"none", "bm25", "random"};
    config_.ks = {1, 2};
    config_.tokenizer = kTokenizer;
    config_.model_name = "fake";
    config_.out_dir = dir_ / "run";
    config_.log = nullptr;
    config_.rank.threads = 1;
  }

  // Prompts the model was asked and the cells whose outputs all came from the cache.
  std::pair<std::size_t, std::size_t> run() {
    model_.asked = 0;
    result_ = run_grid(config_, model_);
    std::size_t cached = 0;
    for (const CellResult& cell : result_.cells) cached += cell.outputs_cached;
    return {model_.asked, cached};
  }
  const CellResult& cell(const std::string& name) const {
    for (const CellResult& c : result_.cells)
      if (c.name == name) return c;
    throw std::logic_error("no cell " + name);
  }

  TempDir dir_;
  RunConfig config_;
  FakeModel model_;
  RunResult result_;
};

TEST_F(Grid, ARerunComputesNothingAndANewKOnlyItsCells) {
  EXPECT_EQ(run(), std::make_pair(std::size_t{5 * 40}, std::size_t{0}));
  ASSERT_EQ(result_.cells.size(), 5u);
  EXPECT_EQ(result_.cells[0].name, "none");
  EXPECT_EQ(result_.cells[1].name, "bm25-k1");
  EXPECT_EQ(result_.cells[4].name, "random-k2");
  EXPECT_EQ(result_.cells[1].metrics.front().first, "MAE");
  EXPECT_TRUE(std::filesystem::exists(config_.out_dir / "cells" / "bm25-k2" / "predictions.json"));
  EXPECT_TRUE(std::filesystem::exists(config_.out_dir / "cells" / "none" / "prompts.jsonl"));
  EXPECT_TRUE(std::filesystem::exists(config_.out_dir / "rankings" / "bm25.json"));

  EXPECT_EQ(run(), std::make_pair(std::size_t{0}, std::size_t{5}));
  for (const CellResult& c : result_.cells) {
    EXPECT_TRUE(c.prompts_cached) << c.name;
    EXPECT_TRUE(c.ranking_cached || c.name == "none") << c.name;
  }

  config_.ks = {1, 2, 4};
  EXPECT_EQ(run(), std::make_pair(std::size_t{2 * 40}, std::size_t{5}));
  EXPECT_FALSE(cell("bm25-k4").prompts_cached);
  EXPECT_TRUE(cell("bm25-k4").ranking_cached);
}

TEST_F(Grid, AChangedModelRecomputesOnlyOutputs) {
  run();
  model_.name = "fake, num_beams 1";
  EXPECT_EQ(run(), std::make_pair(std::size_t{5 * 40}, std::size_t{0}));
  for (const CellResult& c : result_.cells) EXPECT_TRUE(c.prompts_cached) << c.name;
}

TEST_F(Grid, AChangedSettingRecomputesWhatDependsOnIt) {
  run();
  config_.max_length = 64;  // prompts change, rankings and the bare inputs do not
  run();
  EXPECT_TRUE(cell("none").prompts_cached);
  EXPECT_TRUE(cell("none").outputs_cached);
  EXPECT_TRUE(cell("bm25-k2").ranking_cached);
  EXPECT_FALSE(cell("bm25-k2").prompts_cached);
  EXPECT_FALSE(cell("bm25-k2").outputs_cached);

  // Another tokenizer file (here: the same one with a byte more): new prompts, but their text is
  // the same, so the outputs keyed by it are found.
  std::filesystem::create_directories(dir_ / "tok");
  std::filesystem::copy_file(kTokenizer / "tokenizer.json", dir_ / "tok" / "tokenizer.json");
  dir_.write("tok/tokenizer_config.json",
             testing_util::slurp(kTokenizer / "tokenizer_config.json") + " ");
  config_.tokenizer = dir_ / "tok";
  EXPECT_EQ(run().first, 0u);
  EXPECT_FALSE(cell("bm25-k2").prompts_cached);
  EXPECT_TRUE(cell("bm25-k2").outputs_cached);

  config_.rank.seed = 7;  // only the random ranking depends on the seed
  run();
  EXPECT_TRUE(cell("bm25-k1").ranking_cached);
  EXPECT_TRUE(cell("bm25-k1").outputs_cached);
  EXPECT_FALSE(cell("random-k1").ranking_cached);
}

TEST_F(Grid, AChangedInputRecomputesOnlyTheChunksItReaches) {
  run();
  // Edit the last sample's review: its chunk of 16 (samples 32..39) changes in every cell.
  std::string text = testing_util::slurp(config_.questions);
  std::size_t at = text.rfind("review: ");
  ASSERT_NE(at, std::string::npos);
  text.insert(at + 8, "changed ");
  dir_.write("dev_questions.json", text);
  EXPECT_EQ(run().first, 5u * 8);
  for (const CellResult& c : result_.cells) {
    EXPECT_FALSE(c.prompts_cached) << c.name;  // keyed by the questions file
    EXPECT_FALSE(c.ranking_cached) << c.name;
  }
}

TEST_F(Grid, AnInterruptedRunResumes) {
  config_.after_cell = [](std::size_t done) {
    if (done == 2) throw std::runtime_error("killed after 2 cells");
  };
  EXPECT_THROW(run(), std::runtime_error);
  config_.after_cell = nullptr;
  // Killed in the middle of a chunk of the third cell: its first chunk is kept.
  model_.fail_after = 20;
  EXPECT_THROW(run(), std::runtime_error);
  model_.fail_after = SIZE_MAX;
  EXPECT_EQ(run(), std::make_pair(std::size_t{40 - 16 + 2 * 40}, std::size_t{2}));
  EXPECT_TRUE(cell("bm25-k1").outputs_cached);
  EXPECT_FALSE(cell("bm25-k2").outputs_cached);
}

TEST_F(Grid, BaselinesAreKeyedByWhatTheyRead) {
  std::unique_ptr<Predictor> majority = make_baseline("majority");
  config_.ks = {1};
  run_grid(config_, *majority);
  config_.ks = {1, 4};
  RunResult again = run_grid(config_, *majority);
  // majority reads only the profile: every cell, new ones included, reuses one entry.
  for (const CellResult& c : again.cells) EXPECT_TRUE(c.outputs_cached) << c.name;
  std::unique_ptr<Predictor> vote = make_baseline("profile-vote");
  RunResult first = run_grid(config_, *vote);
  config_.ks = {1, 2, 4};
  RunResult second = run_grid(config_, *vote);
  ASSERT_EQ(second.cells.size(), 7u);
  EXPECT_TRUE(second.cells[1].outputs_cached);   // bm25-k1
  EXPECT_FALSE(second.cells[2].outputs_cached);  // bm25-k2
  EXPECT_EQ(first.cells[1].metrics, second.cells[1].metrics);
}

TEST_F(Grid, ErrorsNameTheProblem) {
  config_.retrievers = {"bm25", "nearest"};
  EXPECT_THROW(run(), Error);
  config_.retrievers = {"bm25"};
  config_.ks = {0};
  EXPECT_THROW(run(), Error);
}

}  // namespace
}  // namespace lamp
