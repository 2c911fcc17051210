#include "lamp/data/synth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/test_util.h"
#include "lamp/data/json_io.h"
#include "lamp/data/stats.h"

namespace lamp {
namespace {

namespace fs = std::filesystem;

class SynthTest : public ::testing::Test {
 protected:
  // Writes the options' data to dir_/<name>_{questions,outputs}.json; returns the questions path.
  fs::path write(const SynthOptions& options, const std::string& name) {
    write_synthetic(options, dir_ / (name + "_questions.json"), dir_ / (name + "_outputs.json"));
    return dir_ / (name + "_questions.json");
  }

  testing_util::TempDir temp_;
  const fs::path& dir_ = temp_.path();
};

SynthOptions options_for(std::string_view task, std::size_t samples = 30,
                         std::size_t profile_size = 10, std::uint64_t seed = 7) {
  return SynthOptions{.task = &find_task(task),
                      .samples = samples,
                      .profile_size = profile_size,
                      .seed = seed,
                      .dates = true};
}

std::set<std::string_view> words_of(std::string_view text) {
  std::set<std::string_view> words;
  while (!text.empty()) {
    std::size_t end = text.find(' ');
    std::string_view word = text.substr(0, end);
    while (!word.empty() && (word.back() == '.' || word.back() == '"' || word.back() == ',')) {
      word.remove_suffix(1);
    }
    if (word.size() > 3) words.insert(word);  // skip most function words
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return words;
}

std::size_t overlap(std::string_view a, std::string_view b) {
  std::set<std::string_view> wa = words_of(a), wb = words_of(b);
  std::size_t n = 0;
  for (std::string_view w : wa) n += wb.count(w);
  return n;
}

TEST_F(SynthTest, SameSeedSameBytesOtherSeedOtherBytes) {
  fs::path a = write(options_for("LaMP-4"), "a");
  fs::path b = write(options_for("LaMP-4"), "b");
  fs::path c = write(options_for("LaMP-4", 30, 10, 8), "c");
  EXPECT_EQ(read_file(a), read_file(b));
  EXPECT_EQ(read_file(dir_ / "a_outputs.json"), read_file(dir_ / "b_outputs.json"));
  EXPECT_NE(read_file(a), read_file(c));
  EXPECT_NE(read_file(dir_ / "a_outputs.json"), read_file(dir_ / "c_outputs.json"));
}

TEST_F(SynthTest, StreamedFilesEqualTheOfficialWritersOutput) {
  for (const TaskSpec& task : all_tasks()) {
    SCOPED_TRACE(task.name);
    for (bool dates : {false, true}) {
      SynthOptions options = options_for(task.name, 12, 6);
      options.dates = dates;
      fs::path streamed = write(options, "streamed");
      SynthData data = synthesize(options);
      write_questions(dir_ / "official_questions.json", data.questions);
      write_outputs(dir_ / "official_outputs.json", data.golds.task, data.golds.records);
      EXPECT_EQ(read_file(streamed), read_file(dir_ / "official_questions.json"));
      EXPECT_EQ(read_file(dir_ / "streamed_outputs.json"),
                read_file(dir_ / "official_outputs.json"));
    }
  }
}

TEST_F(SynthTest, EveryTaskRoundTripsWithValidIdsLabelsSizesAndDates) {
  for (const TaskSpec& task : all_tasks()) {
    SCOPED_TRACE(task.name);
    const SynthOptions options = options_for(task.name, 25, 10);
    fs::path path = write(options, "rt");
    SynthData data = synthesize(options);

    // The task is recognised from the inputs, and an explicit task reads the same.
    Questions recognised = read_questions(path, nullptr);
    EXPECT_EQ(&recognised.task(), &task);
    Questions q = read_questions(path, &task);
    Outputs golds = read_outputs(dir_ / "rt_outputs.json");
    EXPECT_EQ(golds.task, task.eval_name);
    ASSERT_EQ(q.size(), options.samples);
    ASSERT_EQ(golds.records.size(), options.samples);
    EXPECT_TRUE(q.has_dates());

    const int label_field =
        task.target_field.empty() ? -1 : profile_field_index(task, task.target_field);
    const std::vector<std::string_view> labels(task.labels.begin(), task.labels.end());
    auto is_label = [&](std::string_view v) {
      return std::find(labels.begin(), labels.end(), v) != labels.end();
    };
    std::unordered_set<std::string_view> item_ids;
    std::string_view prefix = task.input_template.substr(0, task.input_template.find("{}"));
    for (std::size_t s = 0; s < q.size(); ++s) {
      const Sample& sample = q.samples()[s];
      EXPECT_EQ(sample.id, std::to_string(1000 + s));
      EXPECT_EQ(golds.records[s].id, sample.id);
      EXPECT_TRUE(sample.input.starts_with(prefix));
      EXPECT_EQ(sample.input, data.questions.samples()[s].input);
      EXPECT_GE(sample.profile_size, 5u);
      EXPECT_LE(sample.profile_size, 15u);
      if (!labels.empty()) {
        EXPECT_TRUE(is_label(golds.records[s].output)) << golds.records[s].output;
      } else {
        EXPECT_FALSE(golds.records[s].output.empty());
      }
      for (const ProfileItem& item : q.profile(sample)) {
        EXPECT_TRUE(item_ids.insert(item.id).second) << "duplicate profile id " << item.id;
        ASSERT_EQ(item.date.size(), 10u) << item.date;
        EXPECT_EQ(item.date[4], '-');
        EXPECT_EQ(item.date[7], '-');
        const int month = std::stoi(std::string(item.date.substr(5, 2)));
        const int day = std::stoi(std::string(item.date.substr(8, 2)));
        EXPECT_TRUE(month >= 1 && month <= 12 && day >= 1 && day <= 31) << item.date;
        for (std::size_t i = 0; i < task.profile_fields.size(); ++i) {
          if (static_cast<int>(i) == label_field && !labels.empty()) {
            EXPECT_TRUE(is_label(item.fields[i])) << item.fields[i];
          } else {
            EXPECT_FALSE(item.fields[i].empty());
          }
        }
      }
    }
  }
}

TEST_F(SynthTest, NoDatesWithoutTheFlag) {
  SynthOptions options = options_for("LaMP-3", 5, 4);
  options.dates = false;
  Questions q = read_questions(write(options, "nd"), nullptr);
  EXPECT_FALSE(q.has_dates());
  for (const ProfileItem& item : q.items()) EXPECT_TRUE(item.date.empty());
}

TEST_F(SynthTest, ProfileSizesVaryAroundTheMean) {
  SynthData data = synthesize(options_for("LaMP-7", 400, 20));
  std::vector<std::size_t> sizes;
  for (const Sample& s : data.questions.samples()) sizes.push_back(s.profile_size);
  CountSummary summary = summarise(sizes);
  EXPECT_EQ(summary.min, 10u);
  EXPECT_EQ(summary.max, 30u);
  EXPECT_NEAR(summary.mean, 20.0, 1.0);
  // Tiny sizes stay at least one item.
  SynthData tiny = synthesize(options_for("LaMP-7", 50, 1));
  for (const Sample& s : tiny.questions.samples()) {
    EXPECT_EQ(s.profile_size, 1u);
  }
}

TEST_F(SynthTest, ASmallFileIsAPrefixOfALargerOne) {
  SynthData small = synthesize(options_for("LaMP-5", 4, 6));
  SynthData large = synthesize(options_for("LaMP-5", 9, 6));
  for (std::size_t s = 0; s < 4; ++s) {
    EXPECT_EQ(small.questions.samples()[s].input, large.questions.samples()[s].input);
    EXPECT_EQ(small.golds.records[s].output, large.golds.records[s].output);
  }
}

TEST_F(SynthTest, LengthsAreRealisticAndMaxWordsCapsThem) {
  // LaMP-5: abstracts about 155 words, titles about 10.
  SynthData real = synthesize(options_for("LaMP-5", 40, 10));
  std::vector<std::size_t> abstracts, titles;
  const int abstract = profile_field_index(real.questions.task(), "abstract");
  const int title = profile_field_index(real.questions.task(), "title");
  for (const ProfileItem& item : real.questions.items()) {
    abstracts.push_back(count_words(item.fields[static_cast<std::size_t>(abstract)]));
    titles.push_back(count_words(item.fields[static_cast<std::size_t>(title)]));
  }
  EXPECT_NEAR(summarise(abstracts).mean, 155, 15);
  EXPECT_NEAR(summarise(titles).mean, 9.5, 1.5);

  SynthOptions capped = options_for("LaMP-3", 40, 10);
  capped.max_words = 25;
  SynthData small = synthesize(capped);
  for (const ProfileItem& item : small.questions.items()) {
    EXPECT_LE(count_words(item.fields[0]), 25u);
    EXPECT_GE(count_words(item.fields[0]), 6u);
  }
}

TEST_F(SynthTest, GeneratedOutputsShareWordsWithTheirInputs) {
  for (std::string_view name : {"LaMP-4", "LaMP-5", "LaMP-6", "LaMP-7"}) {
    SCOPED_TRACE(name);
    SynthData data = synthesize(options_for(name, 50, 10));
    std::size_t sharing = 0;
    for (std::size_t s = 0; s < 50; ++s) {
      sharing += overlap(data.questions.samples()[s].input, data.golds.records[s].output) > 0;
    }
    EXPECT_GE(sharing, 45u);
  }
}

TEST_F(SynthTest, InputsShareMoreVocabularyWithTheirOwnProfile) {
  // Retrieval is meaningful: the best match in a sample's own profile beats the best match in
  // the next user's profile for most samples.
  SynthData data = synthesize(options_for("LaMP-4", 100, 20));
  const Questions& q = data.questions;
  auto best = [&](const Sample& sample, const Sample& owner) {
    std::size_t top = 0;
    for (const ProfileItem& item : q.profile(owner)) {
      top = std::max(top, overlap(sample.input,
                                  std::string(item.fields[0]) + " " + std::string(item.fields[1])));
    }
    return top;
  };
  std::size_t wins = 0;
  for (std::size_t s = 0; s < q.size(); ++s) {
    wins += best(q.samples()[s], q.samples()[s]) > best(q.samples()[s], q.samples()[(s + 1) % 100]);
  }
  EXPECT_GE(wins, 70u);
}

TEST_F(SynthTest, ProfilesPredictTheirUsersLabels) {
  // The most frequent tag in a profile is the gold far more often than chance (1 in 15).
  for (std::string_view name : {"LaMP-2", "LaMP-2N", "LaMP-3"}) {
    SCOPED_TRACE(name);
    SynthData data = synthesize(options_for(name, 200, 20));
    const Questions& q = data.questions;
    const auto field =
        static_cast<std::size_t>(profile_field_index(q.task(), q.task().target_field));
    std::size_t hits = 0;
    for (std::size_t s = 0; s < q.size(); ++s) {
      std::unordered_map<std::string_view, int> counts;
      for (const ProfileItem& item : q.profile(q.samples()[s])) ++counts[item.fields[field]];
      auto top = std::max_element(counts.begin(), counts.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
      hits += top->first == data.golds.records[s].output;
    }
    EXPECT_GE(hits, 80u);
  }
}

TEST_F(SynthTest, CitationCandidatesFollowTheTemplate) {
  SynthData data = synthesize(options_for("LaMP-1", 30, 8));
  std::size_t first = 0;
  for (std::size_t s = 0; s < 30; ++s) {
    std::string_view input = data.questions.samples()[s].input;
    EXPECT_NE(input.find("[1]: \""), std::string_view::npos);
    EXPECT_TRUE(input.ends_with("\""));
    first += data.golds.records[s].output == "[1]";
  }
  EXPECT_GT(first, 5u);
  EXPECT_LT(first, 25u);
}

TEST_F(SynthTest, BadOptionsAreUserErrors) {
  EXPECT_THROW(synthesize(SynthOptions{}), Error);
  EXPECT_THROW(synthesize(options_for("LaMP-4", 0, 5)), Error);
  EXPECT_THROW(synthesize(options_for("LaMP-4", 5, 0)), Error);
  // A failed write leaves nothing behind.
  EXPECT_THROW(write_synthetic(options_for("LaMP-4", 0, 5), dir_ / "q.json", dir_ / "o.json"),
               Error);
  EXPECT_FALSE(fs::exists(dir_ / "q.json"));
  EXPECT_FALSE(fs::exists(dir_ / "o.json"));
}

}  // namespace
}  // namespace lamp
