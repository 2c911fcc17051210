#include "lamp/data/stats.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <string>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/test_util.h"
#include "lamp/data/json_io.h"

namespace lamp {
namespace {

namespace fs = std::filesystem;

class StatsTest : public ::testing::Test {
 protected:
  // A LaMP-3 file worked out by hand: samples 1 and 2 share a profile (in another order), so
  // there are 2 users; sizes 2, 2, 3; 3 of 7 items dated; the template's fixed part is 28 words,
  // so inputs are 28 + 3, 28 + 1 and 28 + 2 words.
  fs::path write_questions_file() {
    const std::string prefix =
        "What is the score of the following review on a scale of 1 to 5? "
        "just answer with 1, 2, 3, 4, or 5 without further explanation. "
        "review: ";
    const std::string json = R"([
 {"id": "1", "input": ")" + prefix +
                             R"(great product works", "profile": [
    {"text": "a b c", "score": "5", "id": "p1", "date": "2020-01-01"},
    {"text": "d e", "score": "4", "id": "p2"}]},
 {"id": "2", "input": ")" + prefix +
                             R"(bad", "profile": [
    {"text": "d e", "score": "4", "id": "p2", "date": "2020-01-02"},
    {"text": "a b c", "score": "5", "id": "p1"}]},
 {"id": "3", "input": ")" + prefix +
                             R"(  two\twords ", "profile": [
    {"text": "x", "score": "1", "id": "q1"},
    {"text": "y", "score": "2", "id": "q2"},
    {"text": "z", "score": "3", "id": "q3", "date": "2021-05-05"}]}
])";
    write_file_atomic(dir_ / "q.json", json);
    return dir_ / "q.json";
  }

  // Golds for it: "5" twice, "3" once, and a record that is no label and matches no sample.
  fs::path write_outputs_file(std::string_view task = "LaMP_3") {
    write_file_atomic(dir_ / "o.json", R"({"task": ")" + std::string(task) + R"(", "golds": [
      {"id": "1", "output": "5"}, {"id": "2", "output": "5"}, {"id": "3", "output": "3"},
      {"id": "9", "output": "seven stars"}]})");
    return dir_ / "o.json";
  }

  testing_util::TempDir temp_;
  const fs::path& dir_ = temp_.path();
};

TEST(CountWordsTest, SplitsOnAsciiWhitespace) {
  EXPECT_EQ(count_words(""), 0u);
  EXPECT_EQ(count_words("   \t\n"), 0u);
  EXPECT_EQ(count_words("one"), 1u);
  EXPECT_EQ(count_words("  two\twords\n"), 2u);
  EXPECT_EQ(count_words("a\vb\fc\rd e"), 5u);
  EXPECT_EQ(count_words("héllo wörld"), 2u);
}

TEST(SummariseTest, MinMeanMedianMax) {
  CountSummary odd = summarise({5, 1, 3});
  EXPECT_EQ(odd.min, 1u);
  EXPECT_EQ(odd.max, 5u);
  EXPECT_DOUBLE_EQ(odd.mean, 3.0);
  EXPECT_DOUBLE_EQ(odd.median, 3.0);
  CountSummary even = summarise({4, 1, 10, 2});
  EXPECT_DOUBLE_EQ(even.median, 3.0);
  EXPECT_DOUBLE_EQ(even.mean, 4.25);
  CountSummary none = summarise({});
  EXPECT_EQ(none.max, 0u);
  EXPECT_DOUBLE_EQ(none.mean, 0.0);
}

TEST_F(StatsTest, HandComputedValues) {
  Questions q = read_questions(write_questions_file(), nullptr);
  Outputs o = read_outputs(write_outputs_file());
  DataStats stats = compute_stats(q, &o);
  EXPECT_EQ(stats.task->name, "LaMP-3");
  EXPECT_EQ(stats.samples, 3u);
  EXPECT_EQ(stats.users, 2u);
  EXPECT_EQ(stats.profile_items, 7u);
  EXPECT_EQ(stats.profile_size.min, 2u);
  EXPECT_EQ(stats.profile_size.max, 3u);
  EXPECT_DOUBLE_EQ(stats.profile_size.median, 2.0);
  EXPECT_DOUBLE_EQ(stats.profile_size.mean, 7.0 / 3);
  EXPECT_EQ(stats.input_words.min, 29u);
  EXPECT_EQ(stats.input_words.max, 31u);
  EXPECT_DOUBLE_EQ(stats.input_words.median, 30.0);
  EXPECT_DOUBLE_EQ(stats.input_words.mean, 30.0);
  EXPECT_DOUBLE_EQ(stats.dated_share, 3.0 / 7);
  EXPECT_EQ(stats.outputs, 4u);
  EXPECT_EQ(stats.outputs_matched, 3u);
  ASSERT_TRUE(stats.output_words.has_value());
  EXPECT_EQ(stats.output_words->min, 1u);
  EXPECT_EQ(stats.output_words->max, 2u);
  EXPECT_DOUBLE_EQ(stats.output_words->median, 1.0);
  EXPECT_DOUBLE_EQ(stats.output_words->mean, 1.25);

  // Registry labels in order, zeros included, then what is not a label.
  ASSERT_EQ(stats.labels.size(), 6u);
  const char* names[] = {"1", "2", "3", "4", "5", "seven stars"};
  const std::size_t counts[] = {0, 0, 1, 0, 2, 1};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(stats.labels[i].label, names[i]);
    EXPECT_EQ(stats.labels[i].count, counts[i]);
    EXPECT_DOUBLE_EQ(stats.labels[i].share, static_cast<double>(counts[i]) / 4);
    EXPECT_EQ(stats.labels[i].known, i < 5);
  }
}

TEST_F(StatsTest, WithoutOutputsThereAreNoOutputNumbers) {
  Questions q = read_questions(write_questions_file(), nullptr);
  DataStats stats = compute_stats(q, nullptr);
  EXPECT_FALSE(stats.outputs.has_value());
  EXPECT_FALSE(stats.output_words.has_value());
  EXPECT_TRUE(stats.labels.empty());
  EXPECT_EQ(format_stats_text(stats).find("output words"), std::string::npos);
}

TEST_F(StatsTest, OutputsOfAnotherTaskAreAnError) {
  Questions q = read_questions(write_questions_file(), nullptr);
  Outputs o = read_outputs(write_outputs_file("LaMP_4"));
  EXPECT_THROW(compute_stats(q, &o), Error);
}

TEST_F(StatsTest, TextTableIsAligned) {
  Questions q = read_questions(write_questions_file(), nullptr);
  Outputs o = read_outputs(write_outputs_file());
  std::string text = format_stats_text(compute_stats(q, &o));
  EXPECT_NE(text.find("task              LaMP-3 (personalized product rating)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("users             2 (distinct profiles)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("items with date   42.9%\n"), std::string::npos) << text;
  EXPECT_NE(text.find("outputs           4 (3 match a sample)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("                      min    median      mean     max\n"
                      "profile size            2       2.0      2.33       3\n"
                      "input words            29      30.0     30.00      31\n"
                      "output words            1       1.0      1.25       2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("label         count   share\n"
                      "1                 0    0.0%\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("seven stars       1   25.0%  (not a task label)\n"), std::string::npos)
      << text;
}

TEST_F(StatsTest, JsonHasEveryNumber) {
  Questions q = read_questions(write_questions_file(), nullptr);
  Outputs o = read_outputs(write_outputs_file());
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(format_stats_json(compute_stats(q, &o)));
  EXPECT_EQ(std::string_view(doc["task"]), "LaMP-3");
  EXPECT_EQ(int64_t(doc["samples"]), 3);
  EXPECT_EQ(int64_t(doc["users"]), 2);
  EXPECT_EQ(int64_t(doc["profile_items"]), 7);
  EXPECT_EQ(int64_t(doc["profile_size"]["max"]), 3);
  EXPECT_DOUBLE_EQ(double(doc["profile_size"]["mean"]), 7.0 / 3);
  EXPECT_DOUBLE_EQ(double(doc["input_words"]["median"]), 30.0);
  EXPECT_DOUBLE_EQ(double(doc["dated_share"]), 3.0 / 7);
  EXPECT_EQ(int64_t(doc["outputs"]), 4);
  EXPECT_EQ(int64_t(doc["outputs_matched"]), 3);
  EXPECT_DOUBLE_EQ(double(doc["output_words"]["mean"]), 1.25);
  simdjson::dom::array labels = doc["labels"];
  EXPECT_EQ(labels.size(), 6u);
  EXPECT_EQ(std::string_view(labels.at(4)["label"]), "5");
  EXPECT_EQ(int64_t(labels.at(4)["count"]), 2);
  EXPECT_EQ(bool(labels.at(5)["known"]), false);
}

TEST_F(StatsTest, CliSynthThenStats) {
  using testing_util::run_lamp;
  const std::string out = "'" + (dir_ / "gen").string() + "'";
  auto synth = run_lamp(
      "data synth --task LaMP-2 --samples 17 --profile-size 6 --seed 3 "
      "--split test --dates --out " +
      out);
  ASSERT_EQ(synth.status, 0) << synth.err;
  ASSERT_TRUE(fs::exists(dir_ / "gen" / "test_questions.json"));
  ASSERT_TRUE(fs::exists(dir_ / "gen" / "test_outputs.json"));

  const std::string files =
      "--questions " + out + "/test_questions.json --outputs " + out + "/test_outputs.json";
  auto json = run_lamp("data stats --json " + files);
  ASSERT_EQ(json.status, 0) << json.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(json.out);
  EXPECT_EQ(std::string_view(doc["task"]), "LaMP-2");
  EXPECT_EQ(int64_t(doc["samples"]), 17);
  EXPECT_EQ(int64_t(doc["users"]), 17);
  EXPECT_EQ(int64_t(doc["outputs_matched"]), 17);
  EXPECT_DOUBLE_EQ(double(doc["dated_share"]), 1.0);
  EXPECT_GE(int64_t(doc["profile_size"]["min"]), 3);
  EXPECT_LE(int64_t(doc["profile_size"]["max"]), 9);
  simdjson::dom::array labels = doc["labels"];
  EXPECT_EQ(labels.size(), 15u);  // every synthesised gold is a registry tag

  auto text = run_lamp("data stats --task LaMP-2 " + files);
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("samples           17\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("label "), std::string::npos) << text.out;

  // A user error is one line on stderr and exit status 1.
  auto missing = run_lamp("data stats --questions " + out + "/missing.json");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err.rfind("lamp: error: ", 0), 0u) << missing.err;
  EXPECT_EQ(run_lamp("data synth --task LaMP-9 --out " + out).status, 1);
  EXPECT_EQ(run_lamp("data synth --task LaMP-4 --samples 0 --out " + out).status, 1);
  auto negative = run_lamp("data synth --task LaMP-4 --samples -5 --out " + out);
  EXPECT_NE(negative.status, 0);
  EXPECT_FALSE(fs::exists(dir_ / "gen" / "dev_questions.json"));
}

}  // namespace
}  // namespace lamp
