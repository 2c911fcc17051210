// T5Tokenizer against Hugging Face's fast tokenizer. hf_fast_reference.json was written by
// tests/fixtures/tokenizers/t5/make_reference.py with the `tokenizers` package (its version is in
// the file); reference_tokenization.json comes from pytorch/text's T5 tests.
#include "lamp/text/t5_tokenizer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <string>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/test_util.h"

namespace lamp::text {
namespace {

const std::filesystem::path kDir = std::filesystem::path(LAMP_FIXTURES) / "tokenizers" / "t5";

const T5Tokenizer& tokenizer() {
  static const T5Tokenizer t = T5Tokenizer::load(kDir);
  return t;
}

std::vector<int> ints(simdjson::dom::array a) {
  std::vector<int> out;
  for (simdjson::dom::element e : a) out.push_back(static_cast<int>(int64_t(e)));
  return out;
}

TEST(T5Tokenizer, MatchesHuggingFaceFastTokenizer) {
  const T5Tokenizer& t = tokenizer();
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load((kDir / "hf_fast_reference.json").string());
  simdjson::dom::array cases = doc["cases"];
  int count = 0;
  int failures = 0;
  for (simdjson::dom::element c : cases) {
    std::string text{std::string_view(c["text"])};
    SCOPED_TRACE("case " + std::to_string(count) + ": \"" + testing_util::escaped(text) + "\"");
    ++count;
    bool ok = true;
    auto check = [&ok](const auto& actual, const auto& expected, const std::string& what) {
      EXPECT_EQ(actual, expected) << what;
      ok = ok && actual == expected;
    };
    check(t.normalize(text), std::string_view(c["normalized"]), "normalize");
    std::vector<int> ids = ints(c["ids"]);
    check(t.encode(text), ids, "encode");
    check(t.encode(text, -1, false), ints(c["ids_no_eos"]), "encode without </s>");
    check(t.encode(text, 0), ids, "max_length 0");
    for (auto [key, value] : simdjson::dom::object(c["truncated"])) {
      int m = std::stoi(std::string(key));
      check(t.encode(text, m), ints(value), "max_length " + std::to_string(m));
    }
    check(t.decode(ids), std::string_view(c["decoded"]), "decode");
    check(t.decode(ids, true, false), std::string_view(c["decoded_raw"]), "decode, no clean-up");
    check(t.decode(ids, false, false), std::string_view(c["decoded_special"]),
          "decode with special tokens");
    if (!ok) ++failures;
  }
  EXPECT_EQ(count, 300);
  EXPECT_EQ(failures, 0) << failures << " of " << count << " cases differ";
}

TEST(T5Tokenizer, MatchesTorchtextReference) {
  const T5Tokenizer& t = tokenizer();
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load((kDir / "reference_tokenization.json").string());
  for (simdjson::dom::element c : simdjson::dom::array(doc["cases"])) {
    std::string_view text = c["text"];
    EXPECT_EQ(t.encode(text), ints(c["ids_with_eos"])) << text;
  }
  for (auto [piece, id] : simdjson::dom::object(doc["extra_checks_from_spiece_dump"])) {
    EXPECT_EQ(t.piece_to_id(piece), static_cast<int>(int64_t(id))) << piece;
    EXPECT_EQ(t.id_to_piece(static_cast<int>(int64_t(id))), piece);
  }
}

TEST(T5Tokenizer, Vocabulary) {
  const T5Tokenizer& t = tokenizer();
  EXPECT_EQ(t.vocab_size(), 32100);
  EXPECT_EQ(t.eos_id(), 1);
  EXPECT_EQ(t.pad_id(), 0);
  EXPECT_EQ(t.unk_id(), 2);
  EXPECT_EQ(t.piece_to_id("<extra_id_0>"), 32099);
  EXPECT_EQ(t.piece_to_id("<extra_id_99>"), 32000);
  EXPECT_EQ(t.piece_to_id("\xe2\x96\x81the"), 8);
  EXPECT_EQ(t.piece_to_id("no such piece"), std::nullopt);
  EXPECT_EQ(t.id_to_piece(32099), "<extra_id_0>");
  EXPECT_EQ(t.id_to_piece(3), "\xe2\x96\x81");
  EXPECT_EQ(t.id_to_piece(-1), "");
  EXPECT_EQ(t.id_to_piece(32100), "");
}

TEST(T5Tokenizer, SpecialTokensInsideText) {
  const T5Tokenizer& t = tokenizer();
  // Matched in the raw text; the text around them is tokenized on its own, each part with its
  // own prepended "▁" (3).
  EXPECT_EQ(t.encode("Hello </s> world"), (std::vector<int>{8774, 3, 1, 296, 1}));
  EXPECT_EQ(t.encode("x<extra_id_5>y"), (std::vector<int>{3, 226, 32094, 3, 63, 1}));
  EXPECT_EQ(t.encode("</s>"), (std::vector<int>{1, 1}));
  // Truncation counts the added tokens like any other.
  EXPECT_EQ(t.encode("<pad><pad><pad>", 3), (std::vector<int>{0, 0, 1}));
  std::vector<int> ids{8774, 32094, 1, 0, 2, 296};
  EXPECT_EQ(t.decode(ids), "Hello world");
  EXPECT_EQ(t.decode(ids, false), "Hello<extra_id_5></s><pad><unk> world");
  // Unknown ids are skipped, as tokenizers does.
  EXPECT_EQ(t.decode(std::vector<int>{8774, 99999, -5, 296}), "Hello world");
}

TEST(T5Tokenizer, ReusesCallerBuffer) {
  const T5Tokenizer& t = tokenizer();
  std::vector<int> ids{7, 7, 7};
  t.encode("Hello world", ids);
  EXPECT_EQ(ids, (std::vector<int>{8774, 296, 1}));
  t.encode("", ids, 5);
  EXPECT_EQ(ids, (std::vector<int>{1}));
}

TEST(T5Tokenizer, InvalidUtf8ReadsAsReplacementCharacter) {
  const T5Tokenizer& t = tokenizer();
  EXPECT_EQ(t.encode("a\xff"
                     "b"),
            t.encode("a\xef\xbf\xbd"
                     "b"));
  EXPECT_EQ(t.encode("\xed\xa0\x80"), t.encode("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"));
}

TEST(T5Tokenizer, LoadErrorsNameThePath) {
  auto missing = std::filesystem::path(LAMP_FIXTURES) / "tokenizers" / "no-such-model";
  try {
    T5Tokenizer::load(missing);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-model"), std::string::npos) << e.what();
  }
  // A JSON file that is not a tokenizer.
  auto other = kDir / "reference_tokenization.json";
  try {
    T5Tokenizer::load(other);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("reference_tokenization.json"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace lamp::text

namespace lamp::text {
namespace {

TEST(T5Tokenizer, CleanUpDefaultComesFromTokenizerConfig) {
  // The fixture folder's tokenizer_config.json says false (as files saved by newer transformers
  // do); a bare tokenizer.json elsewhere gets transformers' old default, true.
  EXPECT_FALSE(T5Tokenizer::load(std::filesystem::path(LAMP_FIXTURES) / "tokenizers" / "t5")
                   .clean_up_by_default());
  testing_util::TempDir dir;
  std::filesystem::copy_file(
      std::filesystem::path(LAMP_FIXTURES) / "tokenizers" / "t5" / "tokenizer.json",
      dir / "tokenizer.json");
  EXPECT_TRUE(T5Tokenizer::load(dir.path()).clean_up_by_default());
  dir.write("tokenizer_config.json", R"({"clean_up_tokenization_spaces": true})");
  EXPECT_TRUE(T5Tokenizer::load(dir / "tokenizer.json").clean_up_by_default());
}

}  // namespace
}  // namespace lamp::text
