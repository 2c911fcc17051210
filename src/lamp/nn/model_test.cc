// The golden files of tests/fixtures/models (made with transformers 4.34 / torch 1.13 on tiny
// random checkpoints) through probe_model, the code path of `lamp model probe`.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <unistd.h>
#include <algorithm>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "lamp/core/error.h"
#include "lamp/nn/probe.h"

namespace lamp::nn {
namespace {

const std::string kModels = std::string(LAMP_FIXTURES) + "/models";

struct Json {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  explicit Json(const std::string& text) {
    simdjson::padded_string padded(text);
    root = parser.parse(padded).value();
  }
  static Json file(const std::string& path) {
    return Json(std::string(simdjson::padded_string::load(path).value()));
  }
};

std::string dump(simdjson::dom::element e) { return simdjson::minify(e); }

// Every number of `got` within tol (absolute + relative * |want|) of `want`, same structure.
void expect_near(simdjson::dom::element want, simdjson::dom::element got, double abs_tol,
                 double rel_tol, const std::string& where) {
  if (want.is_array()) {
    simdjson::dom::array w = want.get_array(), g = got.get_array();
    ASSERT_EQ(w.size(), g.size()) << where;
    std::size_t i = 0;
    auto gi = g.begin();
    for (simdjson::dom::element e : w) {
      expect_near(e, *gi, abs_tol, rel_tol, where + "[" + std::to_string(i++) + "]");
      ++gi;
    }
    return;
  }
  double w = want.get_double(), g = got.get_double();
  EXPECT_NEAR(g, w, abs_tol + rel_tol * std::abs(w)) << where;
}

// Rows of a [B, S, D] state where mask[b][s] == 1 (padded positions hold unspecified values).
void expect_near_masked(simdjson::dom::element want, simdjson::dom::element got,
                        simdjson::dom::element mask, double tol, const std::string& where) {
  std::size_t b = 0;
  for (simdjson::dom::element row_mask : mask.get_array()) {
    std::size_t s = 0;
    for (simdjson::dom::element m : row_mask.get_array()) {
      if (m.get_int64().value() == 1)
        expect_near(want.at(b).at(s), got.at(b).at(s), tol, 0,
                    where + "[" + std::to_string(b) + "][" + std::to_string(s) + "]");
      ++s;
    }
    ++b;
  }
}

// The unpadded row b of input_ids as a one-row request part.
std::string single_row(simdjson::dom::element ids, simdjson::dom::element mask, std::size_t b) {
  std::string row = "[[", ones = "[[";
  std::size_t n = 0;
  simdjson::dom::array id_row = ids.at(b).get_array();
  auto it = id_row.begin();
  for (simdjson::dom::element m : mask.at(b).get_array()) {
    if (m.get_int64().value() == 1) {
      row += (n ? "," : "") + std::to_string((*it).get_int64().value());
      ones += n ? ",1" : "1";
      ++n;
    }
    ++it;
  }
  return "\"input_ids\": " + row + "]], \"attention_mask\": " + ones + "]]";
}

const char* kGenerate =
    R"("generate": {"greedy": {"num_beams": 1, "max_new_tokens": 20},
                    "beam4": {"num_beams": 4, "max_new_tokens": 20, "length_penalty": 1.0,
                              "early_stopping": false}})";

class T5Golden : public ::testing::TestWithParam<const char*> {};

TEST_P(T5Golden, ForwardLossAndGradients) {
  const std::string dtype = GetParam();
  const bool fp64 = dtype == "float64";
  Json golden = Json::file(kModels + "/t5_golden.json");
  simdjson::dom::element want = golden.root[dtype];
  std::string request = "{\"dtype\": \"" + dtype + "\", \"input_ids\": " + dump(want["input_ids"]) +
                        ", \"attention_mask\": " + dump(want["attention_mask"]) +
                        ", \"labels\": " + dump(want["labels"]) + "}";
  Json got(probe_model(kModels + "/t5", request));
  const double tol = fp64 ? 1e-9 : 1e-4;
  expect_near_masked(want["encoder_last_hidden_state"], got.root["encoder_last_hidden_state"],
                     want["attention_mask"], tol, "encoder_last_hidden_state");
  expect_near(want["logits"], got.root["logits"], tol, 0, "logits");
  const double rel = fp64 ? 1e-12 : 1e-5;
  expect_near(want["loss"], got.root["loss"], 0, rel, "loss");
  expect_near(want["per_example_loss"], got.root["per_example_loss"], 0, rel, "per_example_loss");
  expect_near(want["grad_global_norm"], got.root["grad_global_norm"], 0, fp64 ? 1e-10 : 1e-4,
              "grad_global_norm");
  simdjson::dom::object norms = want["grad_norm_per_param"].get_object();
  EXPECT_EQ(norms.size(), got.root["grad_norm_per_param"].get_object().size());
  for (auto [name, value] : norms)
    expect_near(value, got.root["grad_norm_per_param"][name], 0, fp64 ? 1e-10 : 1e-4,
                std::string(name));
}

INSTANTIATE_TEST_SUITE_P(Dtypes, T5Golden, ::testing::Values("float32", "float64"));

TEST(T5GoldenGeneration, GreedyAndBeamBatched) {
  Json golden = Json::file(kModels + "/t5_golden.json");
  simdjson::dom::element in = golden.root["float32"];
  simdjson::dom::element want = golden.root["generation_float32"];
  std::string request = "{\"input_ids\": " + dump(in["input_ids"]) +
                        ", \"attention_mask\": " + dump(in["attention_mask"]) + ", " + kGenerate +
                        "}";
  Json got(probe_model(kModels + "/t5", request));
  EXPECT_EQ(dump(got.root["generate"]["greedy"]["sequences"]),
            dump(want["greedy"]["batched_sequences"]));
  EXPECT_EQ(dump(got.root["generate"]["beam4"]["sequences"]),
            dump(want["beam4"]["batched_sequences"]));
  expect_near(want["beam4"]["batched_sequences_scores"],
              got.root["generate"]["beam4"]["sequences_scores"], 1e-5, 0, "scores");
  EXPECT_FALSE(got.root["generate"]["greedy"].get_object().at_key("sequences_scores").error() ==
               simdjson::SUCCESS);
}

TEST(T5GoldenGeneration, GreedyAndBeamOneByOne) {
  Json golden = Json::file(kModels + "/t5_golden.json");
  simdjson::dom::element in = golden.root["float32"];
  simdjson::dom::element want = golden.root["generation_float32"];
  for (std::size_t b = 0; b < in["input_ids"].get_array().size(); ++b) {
    std::string request =
        "{" + single_row(in["input_ids"], in["attention_mask"], b) + ", " + kGenerate + "}";
    Json got(probe_model(kModels + "/t5", request));
    EXPECT_EQ(dump(got.root["generate"]["greedy"]["sequences"].at(0)),
              dump(want["greedy"]["single_sequences"].at(b)))
        << "row " << b;
    EXPECT_EQ(dump(got.root["generate"]["beam4"]["sequences"].at(0)),
              dump(want["beam4"]["single_sequences"].at(b)))
        << "row " << b;
    expect_near(want["beam4"]["single_sequences_scores"].at(b),
                got.root["generate"]["beam4"]["sequences_scores"].at(0), 1e-5, 0,
                "score of row " + std::to_string(b));
  }
}

TEST(T5Probe, MalformedRequestsAreErrors) {
  EXPECT_THROW(probe_model(kModels + "/t5", "[1]"), Error);
  EXPECT_THROW(probe_model(kModels + "/t5", R"({"input_ids": [[1, 2]]})"), Error);
  EXPECT_THROW(probe_model(kModels + "/t5", R"({"input_ids": [[1, 2]], "attention_mask": [[1]]})"),
               Error);
  EXPECT_THROW(probe_model(kModels + "/t5", R"({"input_ids": [[1, 2], [1]],
                                                "attention_mask": [[1, 1], [1]]})"),
               Error);
  EXPECT_THROW(probe_model(kModels + "/t5", R"({"input_ids": [[1]], "attention_mask": [[1]],
                                                "generate": {"x": {"do_sample": true}}})"),
               Error);
}

class BertGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(BertGolden, HiddenStatesAndMeanPooling) {
  const std::string dtype = GetParam();
  const double tol = dtype == "float64" ? 1e-10 : 1e-5;
  Json golden = Json::file(kModels + "/bert_golden.json");
  simdjson::dom::element want = golden.root[dtype];
  std::string request = "{\"dtype\": \"" + dtype + "\", \"input_ids\": " + dump(want["input_ids"]) +
                        ", \"attention_mask\": " + dump(want["attention_mask"]) + "}";
  Json got(probe_model(kModels + "/bert", request));
  expect_near_masked(want["last_hidden_state"], got.root["last_hidden_state"],
                     want["attention_mask"], tol * 10, "last_hidden_state");
  expect_near(want["mean_pooled"], got.root["mean_pooled"], tol, 0, "mean_pooled");
  expect_near(want["pooler_output"], got.root["pooler_output"], tol, 0, "pooler_output");
  // Row 0 is the query, rows 1-4 the documents: dot products and their torch.topk order.
  simdjson::dom::element pooled = got.root["mean_pooled"];
  std::vector<std::pair<double, int>> scores;
  for (int doc = 1; doc <= 4; ++doc) {
    double dot = 0;
    for (std::size_t j = 0; j < pooled.at(0).get_array().size(); ++j)
      dot += pooled.at(0).at(j).get_double().value() * pooled.at(doc).at(j).get_double().value();
    EXPECT_NEAR(dot, want["query_is_row0_scores_vs_rows1_4"].at(doc - 1).get_double().value(),
                tol * 10)
        << "document " << doc;
    scores.push_back({dot, doc - 1});
  }
  std::sort(scores.begin(), scores.end(), [](auto a, auto b) { return a.first > b.first; });
  std::string order = "[";
  for (std::size_t i = 0; i < scores.size(); ++i)
    order += (i ? "," : "") + std::to_string(scores[i].second);
  EXPECT_EQ(order + "]", dump(want["topk_indices"]));
}

INSTANTIATE_TEST_SUITE_P(Dtypes, BertGolden, ::testing::Values("float32", "float64"));

}  // namespace
}  // namespace lamp::nn

namespace lamp::nn {
namespace {

TEST(T5Load, MisShapedAndMissingTensorsAreErrorsNamingThem) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("lamp_model_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy_file(kModels + "/t5/model.safetensors", dir / "model.safetensors",
                fs::copy_options::overwrite_existing);
  std::string config =
      std::string(simdjson::padded_string::load(kModels + "/t5/config.json").value());
  auto write_config = [&](const std::string& from, const std::string& to) {
    std::string text = config;
    text.replace(text.find(from), from.size(), to);
    std::ofstream(dir / "config.json") << text;
  };
  const char* request = R"({"input_ids": [[5, 1]], "attention_mask": [[1, 1]]})";
  write_config("\"d_ff\": 128", "\"d_ff\": 100");
  try {
    probe_model(dir, request);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("encoder.block.0.layer.1.DenseReluDense.wi_0.weight"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("[128, 64]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[100, 64]"), std::string::npos) << e.what();
  }
  write_config("\"num_layers\": 2", "\"num_layers\": 3");
  try {
    probe_model(dir, request);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("encoder.block.2."), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lamp::nn

namespace lamp::nn {
namespace {

// T5 v1.0: relu feed-forward, tied embeddings (decoder output scaled by d_model^-0.5), fewer
// decoder than encoder layers; made by tests/fixtures/models/make_t5_v1_reference.py.
TEST(T5V1Golden, ForwardLossAndGeneration) {
  Json golden = Json::file(kModels + "/t5_v1_golden.json");
  simdjson::dom::element want = golden.root;
  std::string request = "{\"input_ids\": " + dump(want["input_ids"]) +
                        ", \"attention_mask\": " + dump(want["attention_mask"]) +
                        ", \"labels\": " + dump(want["labels"]) +
                        R"(, "generate": {"greedy": {"num_beams": 1, "max_new_tokens": 12},
                        "beam4": {"num_beams": 4, "max_new_tokens": 12}}})";
  Json got(probe_model(kModels + "/t5-v1", request));
  expect_near_masked(want["encoder_last_hidden_state"], got.root["encoder_last_hidden_state"],
                     want["attention_mask"], 1e-4, "encoder_last_hidden_state");
  expect_near(want["logits"], got.root["logits"], 1e-4, 0, "logits");
  expect_near(want["loss"], got.root["loss"], 0, 1e-5, "loss");
  EXPECT_EQ(dump(got.root["generate"]["greedy"]["sequences"]), dump(want["greedy_sequences"]));
  EXPECT_EQ(dump(got.root["generate"]["beam4"]["sequences"]), dump(want["beam4_sequences"]));
  expect_near(want["beam4_sequences_scores"], got.root["generate"]["beam4"]["sequences_scores"],
              1e-5, 0, "beam scores");
}

}  // namespace
}  // namespace lamp::nn
