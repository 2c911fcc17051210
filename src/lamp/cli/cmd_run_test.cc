// lamp run end to end on the bundled examples: the table, the files, the cache across re-runs
// and a run killed with SIGKILL, the TOML config.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>

#include "lamp/cli/run_config.h"
#include "lamp/cli/run_models.h"
#include "lamp/core/error.h"
#include "lamp/core/test_util.h"

namespace lamp {
namespace {

using testing_util::run_lamp;
using testing_util::TempDir;

const std::filesystem::path kExamples =
    std::filesystem::path(LAMP_FIXTURES) / ".." / ".." / "examples";

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(RunCli, TableFilesAndCache) {
  TempDir dir;
  std::string args = "run --task LaMP-3 --data " + (kExamples / "LaMP-3").string() +
                     " --retrievers none,random,recency,bm25 --k 1,2 --model profile-vote --out " +
                     (dir / "run").string();
  auto first = run_lamp(args);
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_NE(first.out.find("| retriever |   k |    MAE |   RMSE |"), std::string::npos)
      << first.out;
  EXPECT_EQ(count(first.out, "\n| bm25 "), 2u);
  EXPECT_EQ(count(first.err, "outputs computed"), 7u) << first.err;
  for (const char* file :
       {"results.md", "results.json", "results.svg", "manifest.json", "cells/none/predictions.json",
        "cells/bm25-k2/prompts.jsonl", "rankings/recency.json"})
    EXPECT_TRUE(std::filesystem::exists(dir / "run" / file)) << file;
  EXPECT_EQ(testing_util::slurp(dir / "run" / "results.md"), first.out);

  auto again = run_lamp(args);
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(again.out, first.out);
  EXPECT_EQ(count(again.err, "computed"), 0u) << again.err;
  EXPECT_NE(again.err.find("7 cells, 7 entirely from the cache"), std::string::npos) << again.err;
  simdjson::dom::parser parser;
  simdjson::dom::element manifest = parser.load((dir / "run" / "manifest.json").string());
  EXPECT_TRUE(bool(manifest["cells"].at(3)["outputs_cached"]));
  EXPECT_EQ(std::string_view(manifest["model"]["name"]), "profile-vote");

  auto more = run_lamp(args + " --k 1,2,4");
  ASSERT_EQ(more.status, 0) << more.err;
  EXPECT_EQ(count(more.err, "outputs computed"), 3u) << more.err;  // the k = 4 cells
}

TEST(RunCli, ResumesAfterSigkill) {
  TempDir dir;
  std::string args = "run --data " + (kExamples / "LaMP-2").string() +
                     " --retrievers none,bm25 --k 1,2,4 --model profile-vote --out " +
                     (dir / "run").string();
  auto killed = run_lamp(args, "LAMP_TEST_KILL_AFTER_CELLS=2");
  EXPECT_NE(killed.status, 0);
  EXPECT_FALSE(std::filesystem::exists(dir / "run" / "results.md"));
  auto resumed = run_lamp(args);
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("4 cells, 2 entirely from the cache"), std::string::npos)
      << resumed.err;
  EXPECT_EQ(count(resumed.err, "outputs computed"), 2u) << resumed.err;
  EXPECT_NE(resumed.out.find("accuracy"), std::string::npos);
  // No temporary file survived the kill.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "run"))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

TEST(RunCli, ConfigFileAndErrors) {
  TempDir dir;
  std::filesystem::path config = dir.write(
      "run.toml", "# the example\ntask = \"LaMP-7\"\ndata = \"" + (kExamples / "LaMP-7").string() +
                      "\"\nretrievers = [\"none\", \"recency\"]  # two\nk = [1]\n"
                      "model = 'majority'\nout = \"" +
                      (dir / "run").string() + "\"\n");
  auto r = run_lamp("run --quiet --config " + config.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("rouge-1"), std::string::npos) << r.out;
  EXPECT_EQ(count(r.out, "\n| recency "), 1u) << r.out;
  // A flag wins over the file.
  auto k2 = run_lamp("run --quiet --k 2 --config " + config.string());
  ASSERT_EQ(k2.status, 0) << k2.err;
  EXPECT_NE(k2.out.find("| recency   |   2 |"), std::string::npos) << k2.out;

  auto bad =
      run_lamp("run --config " + dir.write("bad.toml", "task = \"LaMP-7\"\nnope = 1\n").string());
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("bad.toml: field \"line 2\": `nope` is not a setting of lamp run"),
            std::string::npos)
      << bad.err;
  auto no_out = run_lamp("run --data " + (kExamples / "LaMP-7").string() + " --model majority");
  EXPECT_EQ(no_out.status, 1);
  EXPECT_NE(no_out.err.find("--out"), std::string::npos) << no_out.err;
  auto retriever = run_lamp("run --data " + (kExamples / "LaMP-7").string() +
                            " --model majority --retrievers bm26 --out " + (dir / "x").string());
  EXPECT_EQ(retriever.status, 1);
  EXPECT_NE(retriever.err.find("bm26"), std::string::npos) << retriever.err;
  auto split = run_lamp("run --data " + (kExamples / "LaMP-7").string() +
                        " --split train --model majority --out " + (dir / "x").string());
  EXPECT_EQ(split.status, 1);
  EXPECT_NE(split.err.find("train_questions.json"), std::string::npos) << split.err;
}

TEST(RunCli, T5ModelGivesLampPredictsOutputsAndIsCached) {
  TempDir dir;
  // A tiny random T5 with Flan-T5's vocabulary and tokenizer.
  dir.write("config.json",
            R"({"model_type": "t5", "vocab_size": 32128, "d_model": 16, "d_kv": 4, "d_ff": 32,
                "num_layers": 1, "num_decoder_layers": 1, "num_heads": 4,
                "feed_forward_proj": "gated-gelu", "tie_word_embeddings": false,
                "decoder_start_token_id": 0, "eos_token_id": 1, "pad_token_id": 0})");
  std::filesystem::path model = dir / "t5";
  ASSERT_EQ(run_lamp("model init --seed 3 --config " + (dir / "config.json").string() + " --out " +
                     model.string())
                .status,
            0);
  std::filesystem::path tokenizer = std::filesystem::path(LAMP_FIXTURES) / "tokenizers" / "t5";
  std::filesystem::copy(tokenizer / "tokenizer.json", model / "tokenizer.json");
  std::filesystem::copy(tokenizer / "tokenizer_config.json", model / "tokenizer_config.json");
  std::string data = (kExamples / "LaMP-3").string();
  std::string args = "run --data " + data +
                     " --retrievers none,bm25 --k 2 --max-length 4 --model " + model.string() +
                     " --out " + (dir / "run").string();
  auto first = run_lamp(args + " --num-beams 1");
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(count(first.err, "outputs computed"), 2u) << first.err;
  auto predict = run_lamp("predict --questions " + data + "/dev_questions.json --model " +
                          model.string() + " --ranker bm25 --k 2 --max-length 4 --num-beams 1 " +
                          "--out " + (dir / "p.json").string());
  ASSERT_EQ(predict.status, 0) << predict.err;
  EXPECT_EQ(testing_util::slurp(dir / "run" / "cells" / "bm25-k2" / "predictions.json"),
            testing_util::slurp(dir / "p.json"));
  auto again = run_lamp(args + " --num-beams 1");
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(count(again.err, "computed"), 0u) << again.err;
  // Another generation setting: new outputs from the cached prompts.
  auto beams = run_lamp(args + " --num-beams 2");
  ASSERT_EQ(beams.status, 0) << beams.err;
  EXPECT_EQ(count(beams.err, "prompts cached, outputs computed"), 2u) << beams.err;
}

TEST(RunCli, OpenAiCompatibleServerAnswersArePostprocessedAndCached) {
  TempDir dir;
  testing_util::HttpServer server(
      [](const testing_util::HttpRequest&) -> testing_util::HttpResponse {
        return {.body = R"({"choices": [{"index": 0, "message": {"role": "assistant", )"
                        R"("content": " Tag: comedy."}, "finish_reason": "stop"}]})"};
      },
      true);
  std::string args = "run --data " + (kExamples / "LaMP-2").string() +
                     " --retrievers none,recency --k 1 --model openai:tiny --base-url " +
                     server.url() + "/v1 --out " + (dir / "run").string();
  auto first = run_lamp(args);
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(server.requests().size(), 80u);
  EXPECT_EQ(server.requests().front().path, "/v1/chat/completions");
  std::string predictions =
      testing_util::slurp(dir / "run" / "cells" / "recency-k1" / "predictions.json");
  EXPECT_EQ(count(predictions, "\"output\": \"comedy\""), 40u) << predictions;
  auto again = run_lamp(args);
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(server.requests().size(), 80u);  // nothing asked again
}

TEST(RunCli, SplitWithoutGoldsGivesPredictionsOnly) {
  TempDir dir;
  std::filesystem::create_directories(dir / "data");
  std::filesystem::copy(kExamples / "LaMP-5" / "dev_questions.json",
                        dir / "data" / "test_questions.json");
  auto r = run_lamp("run --split test --data " + (dir / "data").string() +
                    " --retrievers none,bm25 --k 1 --model profile-vote --out " +
                    (dir / "run").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("predictions only"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("| bm25      |   1 | cells/bm25-k1/predictions.json |"), std::string::npos)
      << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "results.svg"));
}

TEST(RunCli, ContrieverRetrieverEncodesOnce) {
  TempDir dir;
  std::string args = "run --data " + (kExamples / "LaMP-3").string() +
                     " --retrievers contriever --k 1,2 --model profile-vote --retriever-model " +
                     (std::filesystem::path(LAMP_FIXTURES) / "models" / "bert").string() +
                     " --embedding-cache " + (dir / "emb").string() + " --out " +
                     (dir / "run").string();
  auto first = run_lamp(args);
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(count(first.err, "ranking computed"), 2u) << first.err;
  EXPECT_NE(first.err.find("embeddings: 0 texts from the cache"), std::string::npos) << first.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "run" / "rankings" / "contriever.json"));
  auto again = run_lamp(args + " --k 1,2,3");
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(count(again.err, "ranking cached, prompts computed"), 1u) << again.err;  // k = 3
  EXPECT_EQ(again.err.find("embeddings:"), std::string::npos) << again.err;  // no model loaded
}

TEST(RunModels, IdentityFollowsTheModelFilesAndSettings) {
  TempDir dir;
  dir.write("config.json", "{}");
  std::string before = cli::model_files_identity(dir.path());
  EXPECT_EQ(cli::model_files_identity(dir.path()), before);
  EXPECT_NE(before.find("config.json:2:"), std::string::npos) << before;
  dir.write("config.json", "{ }");  // another size
  EXPECT_NE(cli::model_files_identity(dir.path()), before);
  dir.write("model.safetensors", "x");
  EXPECT_NE(cli::model_files_identity(dir.path()).find("model.safetensors:1:"), std::string::npos);

  cli::RunModelFlags flags;
  flags.model = dir.path().string();
  flags.seq2seq.generation.num_beams = 1;
  std::string greedy = cli::make_run_model(flags).predictor->identity();
  flags.seq2seq.generation.num_beams = 4;
  EXPECT_NE(cli::make_run_model(flags).predictor->identity(), greedy);
  flags.seq2seq.batch_size = 3;  // batching changes nothing but float rounding
  std::string beams = cli::make_run_model(flags).predictor->identity();
  flags.seq2seq.batch_size = 16;
  EXPECT_EQ(cli::make_run_model(flags).predictor->identity(), beams);
  EXPECT_EQ(cli::make_run_model(flags).tokenizer, dir.path());

  flags.model = "openai:";
  EXPECT_THROW(cli::make_run_model(flags), Error);
  flags.model = "openai:gpt-x";
  flags.base_url = "http://127.0.0.1:1/v1/";
  EXPECT_EQ(cli::make_run_model(flags).predictor->identity(),
            "openai|http://127.0.0.1:1/v1|gpt-x|temperature=0|max_tokens=256");
  flags.model = "";
  EXPECT_THROW(cli::make_run_model(flags), Error);
}

TEST(RunConfig, ParsesTheTomlSubset) {
  auto entries = cli::parse_run_config(
      "a_b = \"x \\\"q\\\" # not a comment\"  # comment\n\n  k = [1, 2,4]\nflag = true\n"
      "lit = 'c:\\path'\nempty = []\r\n",
      "f.toml");
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].key, "a-b");
  EXPECT_EQ(entries[0].values, std::vector<std::string>{"x \"q\" # not a comment"});
  EXPECT_EQ(entries[1].values, (std::vector<std::string>{"1", "2", "4"}));
  EXPECT_EQ(entries[1].line, 3);
  EXPECT_EQ(entries[2].values, std::vector<std::string>{"true"});
  EXPECT_EQ(entries[3].values, std::vector<std::string>{"c:\\path"});
  EXPECT_TRUE(entries[4].values.empty());
  for (const char* bad : {"[run]\n", "a = \"open\n", "a = 1 2\n", "a = bare word\n",
                          "a = [1,\n2]\n", "= 1\n", "a = 1\na = 2\n"}) {
    EXPECT_THROW(cli::parse_run_config(bad, "f.toml"), Error) << bad;
  }
}

}  // namespace
}  // namespace lamp
