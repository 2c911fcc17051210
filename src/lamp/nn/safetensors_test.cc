// Tests for the safetensors reader and writer. The expected bytes, names and shapes below were
// read with Python's safetensors library (0.8.0, with numpy), never at test time: the tests need
// no Python. Checked by hand once with that library: files written by write_safetensors (every
// dtype, metadata, zero-size and scalar tensors, given order) load with
// safetensors.numpy.load_file to the same names, dtypes, shapes and values.
#include "lamp/nn/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/test_util.h"

namespace lamp::nn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_util::slurp;
using testing_util::TempDir;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

template <typename T>
std::string raw(std::initializer_list<T> values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

std::string view_bytes(const TensorView& view) {
  return std::string(reinterpret_cast<const char*>(view.data), view.nbytes);
}

// A safetensors file from its parts: the 8-byte length, `header` as given, then `data`.
std::string file_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

// The message of the lamp::Error that opening `path` raises; "" when it opens.
std::string open_error(const std::filesystem::path& path) {
  try {
    Checkpoint::open(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, DTypeNamesAndSizes) {
  EXPECT_EQ(dtype_name(DType::kF32), "F32");
  EXPECT_EQ(dtype_name(DType::kBF16), "BF16");
  EXPECT_EQ(dtype_name(DType::kBool), "BOOL");
  EXPECT_EQ(dtype_size(DType::kF64), 8u);
  EXPECT_EQ(dtype_size(DType::kF16), 2u);
  EXPECT_EQ(dtype_size(DType::kI32), 4u);
  EXPECT_EQ(dtype_size(DType::kU8), 1u);
}

TEST(Safetensors, RoundTripsEveryDType) {
  TempDir dir;
  struct Case {
    std::string name;
    DType dtype;
    std::vector<std::int64_t> shape;
  };
  // Given out of name order, and out of the Python library's alignment order, on purpose.
  std::vector<Case> cases = {
      {"z.f32", DType::kF32, {2, 3}},   {"y.f16", DType::kF16, {5}},
      {"x.bf16", DType::kBF16, {1, 3}}, {"w.f64", DType::kF64, {2}},
      {"v.i64", DType::kI64, {3, 1}},   {"u.i32", DType::kI32, {}},
      {"t.i8", DType::kI8, {7}},        {"s.u8", DType::kU8, {2, 2, 2}},
      {"r.bool", DType::kBool, {3}},    {"q.empty", DType::kF32, {0, 4}},
  };
  std::vector<std::string> data;
  std::vector<TensorToWrite> tensors;
  for (const Case& c : cases) {
    std::int64_t n =
        std::accumulate(c.shape.begin(), c.shape.end(), std::int64_t{1}, std::multiplies<>());
    std::string bytes(static_cast<std::size_t>(n) * dtype_size(c.dtype), '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] = static_cast<char>(c.dtype == DType::kBool ? i % 2 : i * 37 + c.name.size());
    }
    data.push_back(bytes);
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    tensors.push_back({cases[i].name, cases[i].dtype, cases[i].shape, bytes_of(data[i])});
  }
  std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "a \"quoted\"\nline"}};
  write_safetensors(dir / "m.safetensors", tensors, metadata);

  Checkpoint checkpoint = Checkpoint::open(dir / "m.safetensors");
  EXPECT_EQ(checkpoint.path(), dir / "m.safetensors");
  EXPECT_EQ(checkpoint.metadata(), metadata);
  std::vector<std::string> names;
  for (const Case& c : cases) names.push_back(c.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(checkpoint.names(), names);
  const std::byte* previous_end = nullptr;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const TensorView* view = checkpoint.find(cases[i].name);
    ASSERT_NE(view, nullptr) << cases[i].name;
    EXPECT_EQ(view->dtype, cases[i].dtype) << cases[i].name;
    EXPECT_EQ(view->shape, cases[i].shape) << cases[i].name;
    EXPECT_EQ(view_bytes(*view), data[i]) << cases[i].name;
    // Laid out in the given order, back to back.
    if (previous_end != nullptr) {
      EXPECT_EQ(view->data, previous_end) << cases[i].name;
    }
    previous_end = view->data + view->nbytes;
  }
  EXPECT_EQ(checkpoint.find("absent"), nullptr);

  std::string file = slurp(dir / "m.safetensors");
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, file.data(), 8);
  EXPECT_EQ(header_size % 8, 0u);
  std::string header = file.substr(8, header_size);
  EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}'));
  EXPECT_EQ(file.size(), 8 + header_size + (previous_end - checkpoint.find("z.f32")->data));
}

// The same tensors in the same order give the Python library's bytes exactly. Expected: the output
// of safetensors.numpy.save({"b": np.arange(6, dtype=np.float32).reshape(2, 3),
// "a": np.array([1, 2], dtype=np.int64), "c": np.array(True), "z": np.zeros((0, 3), np.uint8)},
// metadata={"format": "np"}), which orders them a, b, z, c.
TEST(Safetensors, WritesThePythonLibrarysBytes) {
  TempDir dir;
  std::string a = raw<std::int64_t>({1, 2});
  std::string b = raw<float>({0, 1, 2, 3, 4, 5});
  std::string c = "\x01";
  std::vector<TensorToWrite> tensors = {{"a", DType::kI64, {2}, bytes_of(a)},
                                        {"b", DType::kF32, {2, 3}, bytes_of(b)},
                                        {"z", DType::kU8, {0, 3}, {}},
                                        {"c", DType::kBool, {}, bytes_of(c)}};
  write_safetensors(dir / "m.safetensors", tensors, {{"format", "np"}});
  const std::string header =
      R"({"__metadata__":{"format":"np"},"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},)"
      R"("b":{"dtype":"F32","shape":[2,3],"data_offsets":[16,40]},"z":{"dtype":"U8","shape":)"
      R"([0,3],"data_offsets":[40,40]},"c":{"dtype":"BOOL","shape":[],"data_offsets":[40,41]}}  )";
  ASSERT_EQ(header.size(), 256u);
  EXPECT_EQ(slurp(dir / "m.safetensors"), file_bytes(header, a + b + c));
}

TEST(Safetensors, WritesNoMetadataWhenThereIsNone) {
  TempDir dir;
  std::string a = raw<float>({1.5f});
  write_safetensors(dir / "m.safetensors",
                    std::vector<TensorToWrite>{{"a", DType::kF32, {1}, bytes_of(a)}});
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}  )";
  ASSERT_EQ(header.size(), 56u);
  EXPECT_EQ(slurp(dir / "m.safetensors"), file_bytes(header, a));
  EXPECT_TRUE(Checkpoint::open(dir / "m.safetensors").metadata().empty());
}

TEST(Safetensors, WriterRefusesBadTensorsAndKeepsTheOldFile) {
  TempDir dir;
  std::filesystem::path path = dir.write("m.safetensors", "old");
  std::string four = raw<float>({1});
  auto write = [&](std::vector<TensorToWrite> tensors) {
    try {
      write_safetensors(path, tensors);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string wrong_size = write({{"w", DType::kF32, {2}, bytes_of(four)}});
  EXPECT_THAT(wrong_size, HasSubstr(path.string()));
  EXPECT_THAT(wrong_size,
              HasSubstr("tensor \"w\": 4 bytes given, but dtype F32 and shape [2] need 8"));
  EXPECT_THAT(
      write({{"w", DType::kF32, {1}, bytes_of(four)}, {"w", DType::kF32, {1}, bytes_of(four)}}),
      HasSubstr("\"w\" is empty, reserved or repeated"));
  EXPECT_THAT(write({{"__metadata__", DType::kF32, {1}, bytes_of(four)}}), HasSubstr("reserved"));
  EXPECT_THAT(write({{"w", DType::kF32, {-1}, {}}}), HasSubstr("need more than 2^64"));
  EXPECT_EQ(slurp(path), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

struct Malformed {
  const char* what;
  std::string bytes;
  const char* message;
};

TEST(Safetensors, MalformedFilesAreErrorsNamingFileAndTensor) {
  const std::string f32x2 = R"("dtype":"F32","shape":[2])";
  std::vector<Malformed> cases = {
      {"short", "1234", "is 4 bytes, too short for a safetensors file"},
      {"past end", file_bytes("{}", "").substr(0, 8) + "{", "runs past the end of the file"},
      {"huge header", std::string("\x00\x00\x00\x00\x01\x00\x00\x00", 8) + "{}",
       "header length 4294967296 is over the limit"},
      {"not an object", file_bytes("[1]", ""), "does not start with '{'"},
      {"bad json", file_bytes("{\"a\":", ""), "the header is not a valid JSON object"},
      {"unknown dtype",
       file_bytes(R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", "x"),
       "tensor \"a\": dtype \"F8_E4M3\" is not supported"},
      {"no dtype", file_bytes(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", "xxxx"),
       "tensor \"a\": \"dtype\" is missing"},
      {"no shape", file_bytes(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", "xxxx"),
       "tensor \"a\": \"shape\" is missing"},
      {"negative dim",
       file_bytes(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "xxxx"),
       "tensor \"a\": a shape dimension is not a non-negative integer"},
      {"three offsets",
       file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", "xxxx"),
       "tensor \"a\": \"data_offsets\" is missing or not [begin, end]"},
      {"not an entry", file_bytes(R"({"a":7})", ""), "tensor \"a\": is not an object"},
      {"outside", file_bytes("{\"a\":{" + f32x2 + ",\"data_offsets\":[0,8]}}", "xxxx"),
       "tensor \"a\": data_offsets [0, 8] are outside the file's 4 data bytes"},
      {"reversed", file_bytes("{\"a\":{" + f32x2 + ",\"data_offsets\":[8,0]}}", "xxxxxxxx"),
       "tensor \"a\": data_offsets [8, 0] end before they begin"},
      {"wrong size", file_bytes("{\"a\":{" + f32x2 + ",\"data_offsets\":[0,4]}}", "xxxx"),
       "tensor \"a\": holds 4 bytes, but dtype F32 and shape [2] need 8"},
      {"overlap",
       file_bytes("{\"a\":{" + f32x2 + ",\"data_offsets\":[0,8]},\"b\":{" + f32x2 +
                      ",\"data_offsets\":[4,12]}}",
                  std::string(12, 'x')),
       "tensor \"b\": data_offsets [4, 12] overlap those of tensor \"a\""},
      {"gap", file_bytes("{\"a\":{" + f32x2 + ",\"data_offsets\":[4,12]}}", std::string(12, 'x')),
       "bytes 0 to 4 of the data belong to no tensor"},
      {"trailing",
       file_bytes("{\"a\":{" + f32x2 + ",\"data_offsets\":[0,8]}}", std::string(10, 'x')),
       "bytes 8 to 10 of the data belong to no tensor"},
      {"twice",
       file_bytes("{\"a\":{" + f32x2 + ",\"data_offsets\":[0,8]},\"a\":{" + f32x2 +
                      ",\"data_offsets\":[8,16]}}",
                  std::string(16, 'x')),
       "tensor \"a\" appears twice in the header"},
      {"metadata", file_bytes(R"({"__metadata__":{"format":1}})", ""),
       "\"__metadata__\" entry \"format\" is not a string"},
  };
  TempDir dir;
  for (const Malformed& c : cases) {
    std::filesystem::path path = dir.write("bad.safetensors", c.bytes);
    std::string error = open_error(path);
    EXPECT_THAT(error, HasSubstr(path.string() + ": ")) << c.what;
    EXPECT_THAT(error, HasSubstr(c.message)) << c.what;
  }
  EXPECT_THAT(open_error(dir / "absent.safetensors"), HasSubstr("absent.safetensors: cannot open"));
}

// Two shards of a checkpoint and their index, as transformers' save_pretrained lays them out.
class ShardedCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    write_safetensors(dir_ / "model-00001-of-00002.safetensors",
                      std::vector<TensorToWrite>{{"a", DType::kF32, {1}, bytes_of(a_)},
                                                 {"b", DType::kF32, {1}, bytes_of(b_)}},
                      {{"format", "pt"}});
    write_safetensors(dir_ / "model-00002-of-00002.safetensors",
                      std::vector<TensorToWrite>{{"c", DType::kI64, {1}, bytes_of(c_)}},
                      {{"format", "other"}});
  }
  std::filesystem::path index(const std::string& weight_map) const {
    return dir_.write("model.safetensors.index.json",
                      R"({"metadata": {"total_size": 16}, "weight_map": )" + weight_map + "}");
  }

  TempDir dir_;
  std::string a_ = raw<float>({1}), b_ = raw<float>({2});
  std::string c_ = raw<std::int64_t>({3});
};

TEST_F(ShardedCheckpoint, ReadsEveryShardThroughTheIndex) {
  std::filesystem::path path = index(
      R"({"c": "model-00002-of-00002.safetensors", "a": "model-00001-of-00002.safetensors",
          "b": "model-00001-of-00002.safetensors"})");
  EXPECT_THAT(index_shards(path),
              ElementsAre("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"));
  for (const std::filesystem::path& open_path : {path, dir_.path()}) {
    Checkpoint checkpoint = Checkpoint::open(open_path);
    EXPECT_EQ(checkpoint.path(), path);
    EXPECT_THAT(checkpoint.names(), ElementsAre("a", "b", "c"));
    EXPECT_EQ(view_bytes(*checkpoint.find("a")), a_);
    EXPECT_EQ(view_bytes(*checkpoint.find("b")), b_);
    EXPECT_EQ(view_bytes(*checkpoint.find("c")), c_);
    EXPECT_EQ(checkpoint.find("c")->dtype, DType::kI64);
    // The first shard's.
    EXPECT_EQ(checkpoint.metadata().at("format"), "pt");
  }
}

TEST_F(ShardedCheckpoint, TheIndexDecidesWhichTensorsThereAre) {
  // "b" is in the first shard but not in the index.
  std::filesystem::path path = index(R"({"a": "model-00001-of-00002.safetensors",
                                         "c": "model-00002-of-00002.safetensors"})");
  EXPECT_THAT(Checkpoint::open(path).names(), ElementsAre("a", "c"));
}

TEST_F(ShardedCheckpoint, ErrorsNameTheIndexAndTensor) {
  std::filesystem::path path = index(R"({"a": "model-00002-of-00002.safetensors"})");
  EXPECT_THAT(open_error(path),
              HasSubstr(path.string() + ": tensor \"a\" is mapped to "
                                        "\"model-00002-of-00002.safetensors\", which has no such "
                                        "tensor"));
  index(R"({"a": "model-00009-of-00009.safetensors"})");
  EXPECT_THAT(open_error(path), HasSubstr("shard \"model-00009-of-00009.safetensors\" is missing"));
  index(R"({"a": "../elsewhere.safetensors"})");
  EXPECT_THAT(open_error(path), HasSubstr("file \"../elsewhere.safetensors\" is not a file name "
                                          "inside the index's folder"));
  EXPECT_THROW(index_shards(path), Error);
  index(R"({"a": 1})");
  EXPECT_THAT(open_error(path), HasSubstr("tensor \"a\": the file is not a string"));
  index(R"([])");
  EXPECT_THAT(open_error(path), HasSubstr("\"weight_map\" is missing or not an object"));
  dir_.write("model.safetensors.index.json", "{");
  EXPECT_THAT(open_error(path), HasSubstr(path.string() + ": not a JSON object"));
}

TEST(SafetensorsFolder, PrefersOneFileThenTheIndex) {
  TempDir dir;
  EXPECT_THAT(open_error(dir.path()), HasSubstr("has no model.safetensors or "
                                                "model.safetensors.index.json"));
  dir.write("model.safetensors.index.json", "{}");
  EXPECT_EQ(find_weights(dir.path()), dir / "model.safetensors.index.json");
  dir.write("model.safetensors", "");
  EXPECT_EQ(find_weights(dir.path()), dir / "model.safetensors");
}

TEST(SafetensorsFolder, PickledWeightsOnlyExplainsTheConversion) {
  TempDir dir;
  dir.write("pytorch_model.bin", "pickle");
  std::string plain = open_error(dir.path());
  EXPECT_THAT(plain, HasSubstr(dir.path().string() + ": holds only pytorch_model.bin"));
  EXPECT_THAT(plain, HasSubstr("python -c \"from transformers import AutoModel as M; "
                               "M.from_pretrained('" +
                               dir.path().string() + "').save_pretrained('" + dir.path().string() +
                               "', safe_serialization=True)\""));
  // The class config.json names keeps every weight (AutoModel would drop T5's lm_head).
  dir.write("config.json", R"({"architectures": ["T5ForConditionalGeneration"]})");
  EXPECT_THAT(open_error(dir.path()),
              HasSubstr("from transformers import T5ForConditionalGeneration as M;"));
  EXPECT_EQ(conversion_command("org/x", dir / "config.json", "out"),
            "python -c \"from transformers import T5ForConditionalGeneration as M; "
            "M.from_pretrained('org/x').save_pretrained('out', safe_serialization=True)\"");
  dir.write("config.json", R"({"architectures": ["Bad'; import os"]})");
  EXPECT_THAT(conversion_command("x", dir / "config.json", "out"),
              HasSubstr("import AutoModel as"));
}

struct Expected {
  const char* name;
  std::vector<std::int64_t> shape;
};

void expect_fixture(const std::string& model, const std::vector<Expected>& expected, double sum) {
  Checkpoint checkpoint = Checkpoint::open(std::filesystem::path(LAMP_FIXTURES) / "models" / model);
  EXPECT_EQ(checkpoint.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  std::vector<std::string> names;
  for (const Expected& e : expected) names.emplace_back(e.name);
  ASSERT_EQ(checkpoint.names(), names);
  // The second pass reads what release() dropped from memory after the first: the same values.
  for (int pass = 0; pass < 2; ++pass) {
    double total = 0;
    for (const Expected& e : expected) {
      const TensorView* view = checkpoint.find(e.name);
      EXPECT_EQ(view->dtype, DType::kF32) << e.name;
      EXPECT_EQ(view->shape, e.shape) << e.name;
      for (std::size_t i = 0; i < view->nbytes / 4; ++i) {
        float x;
        std::memcpy(&x, view->data + 4 * i, 4);
        total += x;
      }
      checkpoint.release(*view);
    }
    EXPECT_NEAR(total, sum, 1e-9 * std::abs(sum)) << "pass " << pass;
  }
}

float at(const Checkpoint& checkpoint, const char* name, std::size_t index) {
  float x;
  std::memcpy(&x, checkpoint.find(name)->data + 4 * index, 4);
  return x;
}

// The fixtures as safetensors.numpy.load_file reads them: every name and shape, and the sum of
// all values (numpy, in float64).
TEST(SafetensorsFixtures, T5) {
  expect_fixture(
      "t5",
      {
          {"decoder.block.0.layer.0.SelfAttention.k.weight", {64, 64}},
          {"decoder.block.0.layer.0.SelfAttention.o.weight", {64, 64}},
          {"decoder.block.0.layer.0.SelfAttention.q.weight", {64, 64}},
          {"decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", {32, 4}},
          {"decoder.block.0.layer.0.SelfAttention.v.weight", {64, 64}},
          {"decoder.block.0.layer.0.layer_norm.weight", {64}},
          {"decoder.block.0.layer.1.EncDecAttention.k.weight", {64, 64}},
          {"decoder.block.0.layer.1.EncDecAttention.o.weight", {64, 64}},
          {"decoder.block.0.layer.1.EncDecAttention.q.weight", {64, 64}},
          {"decoder.block.0.layer.1.EncDecAttention.v.weight", {64, 64}},
          {"decoder.block.0.layer.1.layer_norm.weight", {64}},
          {"decoder.block.0.layer.2.DenseReluDense.wi_0.weight", {128, 64}},
          {"decoder.block.0.layer.2.DenseReluDense.wi_1.weight", {128, 64}},
          {"decoder.block.0.layer.2.DenseReluDense.wo.weight", {64, 128}},
          {"decoder.block.0.layer.2.layer_norm.weight", {64}},
          {"decoder.block.1.layer.0.SelfAttention.k.weight", {64, 64}},
          {"decoder.block.1.layer.0.SelfAttention.o.weight", {64, 64}},
          {"decoder.block.1.layer.0.SelfAttention.q.weight", {64, 64}},
          {"decoder.block.1.layer.0.SelfAttention.v.weight", {64, 64}},
          {"decoder.block.1.layer.0.layer_norm.weight", {64}},
          {"decoder.block.1.layer.1.EncDecAttention.k.weight", {64, 64}},
          {"decoder.block.1.layer.1.EncDecAttention.o.weight", {64, 64}},
          {"decoder.block.1.layer.1.EncDecAttention.q.weight", {64, 64}},
          {"decoder.block.1.layer.1.EncDecAttention.v.weight", {64, 64}},
          {"decoder.block.1.layer.1.layer_norm.weight", {64}},
          {"decoder.block.1.layer.2.DenseReluDense.wi_0.weight", {128, 64}},
          {"decoder.block.1.layer.2.DenseReluDense.wi_1.weight", {128, 64}},
          {"decoder.block.1.layer.2.DenseReluDense.wo.weight", {64, 128}},
          {"decoder.block.1.layer.2.layer_norm.weight", {64}},
          {"decoder.final_layer_norm.weight", {64}},
          {"encoder.block.0.layer.0.SelfAttention.k.weight", {64, 64}},
          {"encoder.block.0.layer.0.SelfAttention.o.weight", {64, 64}},
          {"encoder.block.0.layer.0.SelfAttention.q.weight", {64, 64}},
          {"encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", {32, 4}},
          {"encoder.block.0.layer.0.SelfAttention.v.weight", {64, 64}},
          {"encoder.block.0.layer.0.layer_norm.weight", {64}},
          {"encoder.block.0.layer.1.DenseReluDense.wi_0.weight", {128, 64}},
          {"encoder.block.0.layer.1.DenseReluDense.wi_1.weight", {128, 64}},
          {"encoder.block.0.layer.1.DenseReluDense.wo.weight", {64, 128}},
          {"encoder.block.0.layer.1.layer_norm.weight", {64}},
          {"encoder.block.1.layer.0.SelfAttention.k.weight", {64, 64}},
          {"encoder.block.1.layer.0.SelfAttention.o.weight", {64, 64}},
          {"encoder.block.1.layer.0.SelfAttention.q.weight", {64, 64}},
          {"encoder.block.1.layer.0.SelfAttention.v.weight", {64, 64}},
          {"encoder.block.1.layer.0.layer_norm.weight", {64}},
          {"encoder.block.1.layer.1.DenseReluDense.wi_0.weight", {128, 64}},
          {"encoder.block.1.layer.1.DenseReluDense.wi_1.weight", {128, 64}},
          {"encoder.block.1.layer.1.DenseReluDense.wo.weight", {64, 128}},
          {"encoder.block.1.layer.1.layer_norm.weight", {64}},
          {"encoder.final_layer_norm.weight", {64}},
          {"lm_head.weight", {300, 64}},
          {"shared.weight", {300, 64}},
      },
      479.83792802535254);
  Checkpoint t5 =
      Checkpoint::open(std::filesystem::path(LAMP_FIXTURES) / "models/t5/model.safetensors");
  EXPECT_EQ(at(t5, "shared.weight", 0), -1.190848469734192f);
  EXPECT_EQ(at(t5, "shared.weight", 2), -0.7126924395561218f);
  EXPECT_EQ(at(t5, "lm_head.weight", 64), 4.736965179443359f);
  EXPECT_EQ(at(t5, "encoder.final_layer_norm.weight", 63), 0.9112108945846558f);
}

TEST(SafetensorsFixtures, Bert) {
  expect_fixture("bert",
                 {
                     {"embeddings.LayerNorm.bias", {64}},
                     {"embeddings.LayerNorm.weight", {64}},
                     {"embeddings.position_embeddings.weight", {64, 64}},
                     {"embeddings.token_type_embeddings.weight", {2, 64}},
                     {"embeddings.word_embeddings.weight", {300, 64}},
                     {"encoder.layer.0.attention.output.LayerNorm.bias", {64}},
                     {"encoder.layer.0.attention.output.LayerNorm.weight", {64}},
                     {"encoder.layer.0.attention.output.dense.bias", {64}},
                     {"encoder.layer.0.attention.output.dense.weight", {64, 64}},
                     {"encoder.layer.0.attention.self.key.bias", {64}},
                     {"encoder.layer.0.attention.self.key.weight", {64, 64}},
                     {"encoder.layer.0.attention.self.query.bias", {64}},
                     {"encoder.layer.0.attention.self.query.weight", {64, 64}},
                     {"encoder.layer.0.attention.self.value.bias", {64}},
                     {"encoder.layer.0.attention.self.value.weight", {64, 64}},
                     {"encoder.layer.0.intermediate.dense.bias", {128}},
                     {"encoder.layer.0.intermediate.dense.weight", {128, 64}},
                     {"encoder.layer.0.output.LayerNorm.bias", {64}},
                     {"encoder.layer.0.output.LayerNorm.weight", {64}},
                     {"encoder.layer.0.output.dense.bias", {64}},
                     {"encoder.layer.0.output.dense.weight", {64, 128}},
                     {"encoder.layer.1.attention.output.LayerNorm.bias", {64}},
                     {"encoder.layer.1.attention.output.LayerNorm.weight", {64}},
                     {"encoder.layer.1.attention.output.dense.bias", {64}},
                     {"encoder.layer.1.attention.output.dense.weight", {64, 64}},
                     {"encoder.layer.1.attention.self.key.bias", {64}},
                     {"encoder.layer.1.attention.self.key.weight", {64, 64}},
                     {"encoder.layer.1.attention.self.query.bias", {64}},
                     {"encoder.layer.1.attention.self.query.weight", {64, 64}},
                     {"encoder.layer.1.attention.self.value.bias", {64}},
                     {"encoder.layer.1.attention.self.value.weight", {64, 64}},
                     {"encoder.layer.1.intermediate.dense.bias", {128}},
                     {"encoder.layer.1.intermediate.dense.weight", {128, 64}},
                     {"encoder.layer.1.output.LayerNorm.bias", {64}},
                     {"encoder.layer.1.output.LayerNorm.weight", {64}},
                     {"encoder.layer.1.output.dense.bias", {64}},
                     {"encoder.layer.1.output.dense.weight", {64, 128}},
                     {"pooler.dense.bias", {64}},
                     {"pooler.dense.weight", {64, 64}},
                 },
                 359.0408988545306);
  Checkpoint bert = Checkpoint::open(std::filesystem::path(LAMP_FIXTURES) / "models/bert");
  EXPECT_EQ(at(bert, "embeddings.word_embeddings.weight", 5 * 64 + 1), 0.5043681859970093f);
  EXPECT_EQ(at(bert, "pooler.dense.bias", 63), 0.00893165823072195f);
}

}  // namespace
}  // namespace lamp::nn
