// lamp model init / probe and lamp predict end to end, on a tiny random T5 with Flan-T5's
// vocabulary (so lamp's T5 tokenizer applies).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>

#include "lamp/core/test_util.h"
#include "lamp/nn/blas_env.h"
#include "lamp/nn/probe.h"
#include "lamp/text/t5_tokenizer.h"

namespace lamp {
namespace {

using testing_util::run_lamp;
using testing_util::slurp;
using testing_util::TempDir;

const std::filesystem::path kFixtures(LAMP_FIXTURES);
const std::filesystem::path kExamples = kFixtures.parent_path().parent_path() / "examples";

const char* kTinyT5 = R"({"model_type": "t5", "vocab_size": 32128, "d_model": 32, "d_kv": 8,
  "d_ff": 64, "num_layers": 2, "num_decoder_layers": 1, "num_heads": 4,
  "feed_forward_proj": "gated-gelu", "tie_word_embeddings": false, "dropout_rate": 0.0,
  "decoder_start_token_id": 0, "eos_token_id": 1, "pad_token_id": 0})";

// A tiny random T5 with the T5 tokenizer fixture, in dir/model.
std::filesystem::path make_model(const TempDir& dir, int seed = 1) {
  dir.write("config.json", kTinyT5);
  auto model = dir / ("model" + std::to_string(seed));
  auto r = run_lamp("model init --config " + (dir / "config.json").string() + " --seed " +
                    std::to_string(seed) + " --out " + model.string());
  EXPECT_EQ(r.status, 0) << r.err;
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    std::filesystem::copy_file(kFixtures / "tokenizers" / "t5" / f, model / f);
  return model;
}

TEST(ModelInit, SeededAndLoadable) {
  TempDir dir;
  auto a = make_model(dir, 1), b = make_model(dir, 2);
  TempDir other;
  auto a_again = make_model(other, 1);
  EXPECT_EQ(slurp(a / "model.safetensors"), slurp(a_again / "model.safetensors"));
  EXPECT_NE(slurp(a / "model.safetensors"), slurp(b / "model.safetensors"));
  EXPECT_EQ(slurp(a / "config.json"), kTinyT5);
  // Loadable: the probe runs on it.
  std::string out =
      nn::probe_model(a, R"({"input_ids": [[5, 6, 1]], "attention_mask": [[1, 1, 1]]})");
  EXPECT_NE(out.find("encoder_last_hidden_state"), std::string::npos);
}

// lamp names OpenBLAS's kernels for the CPU before the model plugin loads libtorch
// (nn/blas_env.h); OpenBLAS says which it runs when OPENBLAS_VERBOSE=2. The user's setting wins.
// A libtorch without OpenBLAS (MKL) prints no such line, and the test has nothing to check.
TEST(ModelInit, OpenBlasRunsTheKernelsLampNames) {
  const char* want = nn::openblas_core_type(nn::cpu_features());
  if (want == nullptr) GTEST_SKIP() << "no AVX2 on this CPU";
  TempDir dir;
  dir.write("config.json", kTinyT5);
  const std::string args =
      "model init --config " + (dir / "config.json").string() + " --out " + (dir / "m").string();
  auto r = run_lamp(args, "env -u OPENBLAS_CORETYPE OPENBLAS_VERBOSE=2");
  ASSERT_EQ(r.status, 0) << r.err;
  if (r.err.find("Core: ") == std::string::npos) GTEST_SKIP() << "libtorch without OpenBLAS";
  EXPECT_NE(r.err.find(std::string("Core: ") + want + "\n"), std::string::npos) << r.err;
  r = run_lamp(args, "OPENBLAS_CORETYPE=Prescott OPENBLAS_VERBOSE=2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("Core: Prescott\n"), std::string::npos) << r.err;
}

TEST(Predict, WritesOfficialOutputsThatMatchTheProbeOneByOne) {
  TempDir dir;
  auto model = make_model(dir);
  auto questions = kExamples / "LaMP-7" / "dev_questions.json";
  auto r = run_lamp("predict --questions " + questions.string() + " --model " + model.string() +
                    " --no-profile --num-beams 2 --max-new-tokens 6 --batch-size 3 --out " +
                    (dir / "p.json").string());
  ASSERT_EQ(r.status, 0) << r.err;
  auto eval = run_lamp("eval --golds " + (kExamples / "LaMP-7" / "dev_outputs.json").string() +
                       " --preds " + (dir / "p.json").string());
  EXPECT_EQ(eval.status, 0) << eval.err;

  // Each prediction equals what the model generates for that input alone.
  simdjson::dom::parser qp, pp;
  simdjson::dom::array samples = qp.load(questions.string());
  simdjson::dom::element preds = pp.load((dir / "p.json").string());
  EXPECT_EQ(std::string_view(preds["task"]), "LaMP_7");
  text::T5Tokenizer tokenizer = text::T5Tokenizer::load(model);
  std::size_t i = 0, checked = 0;
  for (simdjson::dom::element pred : preds["golds"].get_array()) {
    simdjson::dom::element sample = samples.at(i++);
    ASSERT_EQ(std::string_view(pred["id"]), std::string_view(sample["id"]));
    if (i > 5) continue;  // a few suffice; the probe reloads the model each time
    std::vector<int> ids = tokenizer.encode(std::string_view(sample["input"]), 256);
    std::string row, ones;
    for (int id : ids) {
      row += (row.empty() ? "" : ",") + std::to_string(id);
      ones += ones.empty() ? "1" : ",1";
    }
    std::string out = nn::probe_model(
        model, "{\"input_ids\": [[" + row + "]], \"attention_mask\": [[" + ones +
                   "]], \"generate\": {\"b\": {\"num_beams\": 2, \"max_new_tokens\": 6}}}");
    simdjson::dom::parser op;
    std::vector<int> tokens;
    for (int64_t t : op.parse(out)["generate"]["b"]["sequences"].at(0).get_array())
      tokens.push_back(static_cast<int>(t));
    EXPECT_EQ(std::string_view(pred["output"]), tokenizer.decode(tokens, true, false))
        << "sample " << i;
    ++checked;
  }
  EXPECT_EQ(checked, 5u);
}

TEST(Predict, SameOutputsWithRetrievalAtAnyThreadCount) {
  TempDir dir;
  auto model = make_model(dir);
  std::string common = "predict --questions " +
                       (kExamples / "LaMP-3" / "dev_questions.json").string() + " --model " +
                       model.string() + " --ranker bm25 --k 2 --num-beams 1 --max-new-tokens 3 ";
  auto one = run_lamp(common + "--threads 1 --out " + (dir / "1.json").string());
  auto two = run_lamp(common + "--threads 2 --out " + (dir / "2.json").string());
  ASSERT_EQ(one.status, 0) << one.err;
  ASSERT_EQ(two.status, 0) << two.err;
  EXPECT_EQ(slurp(dir / "1.json"), slurp(dir / "2.json"));
}

TEST(Predict, Int8ComputeTypeRunsAndUnknownTypesAreRefused) {
  TempDir dir;
  auto model = make_model(dir);
  std::string common = "predict --questions " +
                       (kExamples / "LaMP-3" / "dev_questions.json").string() + " --model " +
                       model.string() + " --no-profile --num-beams 1 --max-new-tokens 3 ";
  auto fp32 = run_lamp(common + "--out " + (dir / "fp32.json").string());
  auto int8 = run_lamp(common + "--compute-type int8 --out " + (dir / "int8.json").string());
  ASSERT_EQ(fp32.status, 0) << fp32.err;
  ASSERT_EQ(int8.status, 0) << int8.err;
  simdjson::dom::parser a, b;
  simdjson::dom::element want = a.load((dir / "fp32.json").string());
  simdjson::dom::element got = b.load((dir / "int8.json").string());
  EXPECT_EQ(got["golds"].get_array().size(), want["golds"].get_array().size());

  auto bad = run_lamp(common + "--compute-type int4 --out " + (dir / "bad.json").string());
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("--compute-type"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.json"));
}

TEST(Predict, ClearErrors) {
  TempDir dir;
  auto model = make_model(dir);
  std::filesystem::remove(model / "tokenizer.json");
  auto r =
      run_lamp("predict --questions " + (kExamples / "LaMP-3" / "dev_questions.json").string() +
               " --model " + model.string() + " --no-profile --out " + (dir / "p.json").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("tokenizer"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "p.json"));

  r = run_lamp("predict --questions " + (kExamples / "LaMP-3" / "dev_questions.json").string() +
               " --model " + (kFixtures / "models" / "bert").string() + " --no-profile --out " +
               (dir / "p.json").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("t5"), std::string::npos) << r.err;

  r = run_lamp("predict --questions " + (kExamples / "LaMP-3" / "dev_questions.json").string() +
               " --model " + model.string() + " --out " + (dir / "p.json").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--ranker"), std::string::npos) << r.err;
}

TEST(ModelProbe, WritesTheResultFile) {
  TempDir dir;
  dir.write("req.json", R"({"input_ids": [[2, 15, 3]], "attention_mask": [[1, 1, 1]]})");
  auto r = run_lamp("model probe --model " + (kFixtures / "models" / "bert").string() + " --in " +
                    (dir / "req.json").string() + " --out " + (dir / "out.json").string());
  ASSERT_EQ(r.status, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element out = parser.load((dir / "out.json").string());
  EXPECT_EQ(out["mean_pooled"].at(0).get_array().size(), 64u);
}

}  // namespace
}  // namespace lamp
