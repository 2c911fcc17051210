// BertTokenizer against Hugging Face transformers' slow BertTokenizer. hf_reference.json was
// written by tests/fixtures/tokenizers/bert-base-uncased/make_reference.py (the transformers
// version is in the file); reference_tokenization_uncased.json comes from pytorch/text's BERT
// tokenizer tests.
#include "lamp/text/bert_tokenizer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/test_util.h"

namespace lamp::text {
namespace {

const std::filesystem::path kDir =
    std::filesystem::path(LAMP_FIXTURES) / "tokenizers" / "bert-base-uncased";

const BertTokenizer& tokenizer() {
  static const BertTokenizer t = BertTokenizer::load(kDir);
  return t;
}

std::vector<int> ints(simdjson::dom::array a) {
  std::vector<int> out;
  for (simdjson::dom::element e : a) out.push_back(static_cast<int>(int64_t(e)));
  return out;
}

std::vector<std::string> strings(simdjson::dom::array a) {
  std::vector<std::string> out;
  for (simdjson::dom::element e : a) out.emplace_back(std::string_view(e));
  return out;
}

TEST(BertTokenizer, MatchesHuggingFaceBertTokenizer) {
  const BertTokenizer& t = tokenizer();
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load((kDir / "hf_reference.json").string());
  int count = 0;
  int failures = 0;
  int truncated = 0;
  for (simdjson::dom::element c : simdjson::dom::array(doc["cases"])) {
    std::string text{std::string_view(c["text"])};
    SCOPED_TRACE("case " + std::to_string(count) + ": \"" + testing_util::escaped(text) + "\"");
    ++count;
    bool ok = true;
    auto check = [&ok](const auto& actual, const auto& expected, const std::string& what) {
      EXPECT_EQ(actual, expected) << what;
      ok = ok && actual == expected;
    };
    check(t.tokenize(text), strings(c["tokens"]), "tokenize");
    check(t.encode(text), ints(c["ids"]), "encode");
    simdjson::dom::object cuts;
    if (c["truncated"].get(cuts) == simdjson::SUCCESS) {
      for (auto [key, value] : cuts) {
        int m = std::stoi(std::string(key));
        check(t.encode(text, m), ints(value), "max_length " + std::to_string(m));
        ++truncated;
      }
    }
    if (!ok) ++failures;
  }
  EXPECT_EQ(count, 150);
  EXPECT_EQ(truncated, 15);
  EXPECT_EQ(failures, 0) << failures << " of " << count << " cases differ";
}

TEST(BertTokenizer, MatchesTorchtextReference) {
  // pytorch/text's cases, without [CLS] / [SEP]. Its tokenizer splits "[UNK]" in text (its
  // never_split is empty); transformers keeps it whole, so such cases are compared by encoding
  // each piece, which is what both agree on.
  const BertTokenizer& t = tokenizer();
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load((kDir / "reference_tokenization_uncased.json").string());
  int count = 0;
  for (simdjson::dom::element c : simdjson::dom::array(doc["cases"])) {
    std::string text{std::string_view(c["text"])};
    SCOPED_TRACE("case " + std::to_string(count) + ": \"" + testing_util::escaped(text) + "\"");
    ++count;
    std::vector<std::string> tokens = strings(c["tokens"]);
    std::vector<int> ids = ints(c["ids"]);
    std::vector<int> mapped;
    for (const std::string& token : tokens) mapped.push_back(t.token_to_id(token).value_or(-1));
    EXPECT_EQ(mapped, ids);
    if (text.find("[UNK]") == std::string::npos) {
      EXPECT_EQ(t.tokenize(text), tokens);
      std::vector<int> expected = {t.cls_id()};
      expected.insert(expected.end(), ids.begin(), ids.end());
      expected.push_back(t.sep_id());
      EXPECT_EQ(t.encode(text), expected);
    }
  }
  EXPECT_GT(count, 0);
}

TEST(BertTokenizer, Vocabulary) {
  const BertTokenizer& t = tokenizer();
  EXPECT_EQ(t.vocab_size(), 30522);
  EXPECT_EQ(t.pad_id(), 0);
  EXPECT_EQ(t.unk_id(), 100);
  EXPECT_EQ(t.cls_id(), 101);
  EXPECT_EQ(t.sep_id(), 102);
  EXPECT_EQ(t.mask_id(), 103);
  EXPECT_EQ(t.token_to_id("hello"), 7592);
  EXPECT_EQ(t.token_to_id("no-such-piece"), std::nullopt);
  EXPECT_EQ(t.id_to_token(7592), "hello");
  EXPECT_EQ(t.id_to_token(-1), "");
  EXPECT_EQ(t.id_to_token(30522), "");
  // The same tokenizer from the file itself.
  EXPECT_EQ(BertTokenizer::load(kDir / "vocab.txt").encode("Hello"), t.encode("Hello"));
}

TEST(BertTokenizer, Truncation) {
  const BertTokenizer& t = tokenizer();
  std::vector<int> full = t.encode("one two three four five");
  ASSERT_EQ(full.size(), 7u);
  EXPECT_EQ(t.encode("one two three four five", 0), full);
  EXPECT_EQ(t.encode("one two three four five", 7), full);
  EXPECT_EQ(t.encode("one two three four five", 4),
            (std::vector<int>{full[0], full[1], full[2], full[6]}));
  // transformers cannot cut the content below nothing, so it leaves it whole.
  EXPECT_EQ(t.encode("one two three four five", 2), full);
  EXPECT_EQ(t.encode("", 8), (std::vector<int>{101, 102}));
}

TEST(BertTokenizer, InvalidUtf8IsDropped) {
  EXPECT_EQ(tokenizer().tokenize("a\xff"
                                 "b"),
            tokenizer().tokenize("ab"));
}

TEST(BertTokenizer, VocabularyLines) {
  // CRLF, a lone CR and a last line without an end all delimit pieces, as in Python's text mode.
  testing_util::TempDir dir;
  auto file = dir.write("vocab.txt", "[PAD]\r\n[UNK]\r[CLS]\n[SEP]\n[MASK]\nab\n##c");
  BertTokenizer t = BertTokenizer::load(file);
  EXPECT_EQ(t.vocab_size(), 7);
  EXPECT_EQ(t.encode("abc"), (std::vector<int>{2, 5, 6, 3}));
  EXPECT_EQ(t.encode("abd"), (std::vector<int>{2, 1, 3}));
}

TEST(BertTokenizer, LoadErrorsNameThePath) {
  auto missing = std::filesystem::path(LAMP_FIXTURES) / "tokenizers" / "no-such-bert";
  try {
    BertTokenizer::load(missing);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-bert"), std::string::npos) << e.what();
  }
  // A folder without vocab.txt names the file it looked for.
  testing_util::TempDir dir;
  try {
    BertTokenizer::load(dir.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vocab.txt"), std::string::npos) << e.what();
  }
  // A vocabulary without the special tokens.
  auto bare = dir.write("bare.txt", "a\nb\n");
  try {
    BertTokenizer::load(bare);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bare.txt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[UNK]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lamp::text
