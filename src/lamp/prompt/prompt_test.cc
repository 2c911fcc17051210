// Prompt conformance: tests/fixtures/prompts holds prompts built by the official prompts.py for
// LaMP-1..7, k in {1, 2, 4}, max_length in {256, 512}, retrieved by BM25 or already ranked:
// outputs/ with the slow SentencePiece tokenizer (the selection and settings are read from
// there), outputs_fast/ with Hugging Face's fast tokenizer, which the official runs used and lamp
// follows (make_fast_reference.py; the two differ where an item template ends in a space and
// where an item budget goes negative).
#include "lamp/prompt/prompt.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <map>

#include "lamp/data/json_io.h"
#include "lamp/retrieval/retriever.h"

namespace lamp {
namespace {

namespace fs = std::filesystem;
const fs::path kPrompts = fs::path(LAMP_FIXTURES) / "prompts";

const text::T5Tokenizer& tokenizer() {
  static const text::T5Tokenizer t5 =
      text::T5Tokenizer::load(fs::path(LAMP_FIXTURES) / "tokenizers" / "t5" / "tokenizer.json");
  return t5;
}

struct Counts {
  int checked = 0, underflow = 0, bare = 0;
};

class PromptConformance : public testing::TestWithParam<int> {};

TEST_P(PromptConformance, EqualsOfficialPrompts) {
  const std::string name = "LaMP-" + std::to_string(GetParam());
  const TaskSpec& task = find_task(name);
  Questions plain = read_questions(kPrompts / "inputs" / (name + ".questions.json"), &task);
  Questions ranked = read_questions(kPrompts / "inputs" / (name + ".questions_ranked.json"), &task);
  std::vector<SampleRanking> bm25 = rank_profiles(plain, {.ranker = RankerKind::kBm25});
  std::map<std::string_view, std::size_t> plain_index, ranked_index;
  for (std::size_t i = 0; i < plain.size(); ++i) plain_index[plain.samples()[i].id] = i;
  for (std::size_t i = 0; i < ranked.size(); ++i) ranked_index[ranked.samples()[i].id] = i;

  simdjson::dom::parser parser, fast_parser;
  simdjson::dom::array records =
      parser.load((kPrompts / "outputs" / (name + ".prompts.json")).string());
  simdjson::dom::array fast =
      fast_parser.load((kPrompts / "outputs_fast" / (name + ".prompts.json")).string())["records"];
  ASSERT_EQ(records.size(), fast.size());
  Counts counts;
  std::size_t index = 0;
  for (simdjson::dom::object r : records) {
    simdjson::dom::object expected = fast.at(index++);
    std::string_view id = r["id"];
    ASSERT_EQ(std::string_view(expected["id"]), id);
    counts.underflow += bool(r["budget_underflow"]);
    int k = static_cast<int>(int64_t(r["num_retrieve"]));
    int max_length = static_cast<int>(int64_t(r["max_length"]));
    std::vector<ProfileItem> selected;
    const Sample* sample;
    if (bool(r["is_ranked"])) {
      sample = &ranked.samples()[ranked_index.at(id)];
      auto profile = ranked.profile(*sample);
      selected.assign(profile.begin(), profile.begin() + std::min<std::size_t>(k, profile.size()));
    } else {
      std::size_t i = plain_index.at(id);
      sample = &plain.samples()[i];
      auto profile = plain.profile(*sample);
      for (std::size_t j = 0; j < bm25[i].order.size() && j < static_cast<std::size_t>(k); ++j) {
        selected.push_back(profile[bm25[i].order[j]]);
      }
    }
    std::vector<std::string_view> expected_ids;
    for (std::string_view pid : r["selected_profile_ids"].get_array()) expected_ids.push_back(pid);
    std::vector<std::string_view> ids;
    for (const ProfileItem& item : selected) ids.push_back(item.id);
    EXPECT_EQ(ids, expected_ids) << name << " " << id;

    PromptBuilder builder(task, tokenizer(), max_length);
    Prompt prompt = builder.build(sample->input, selected);
    EXPECT_EQ(prompt.text, std::string_view(expected["prompt"]))
        << name << " id " << id << " k " << k << " max_length " << max_length << " ranked "
        << bool(r["is_ranked"]);
    EXPECT_EQ(prompt.bare_input, bool(expected["returned_bare_input"])) << name << " " << id;
    counts.bare += prompt.bare_input;
    ++counts.checked;
  }
  EXPECT_EQ(counts.checked, 48) << name;
  RecordProperty("checked", counts.checked);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PromptConformance, testing::Range(1, 8),
                         [](const auto& test_case) {
                           return "LaMP_" + std::to_string(test_case.param);
                         });

TEST(PromptTemplate, FillsFieldsAndText) {
  const TaskSpec& lamp3 = find_task("LaMP-3");
  ProfileItem item{.id = "p", .fields = {"great {not a field}", "5", ""}};
  EXPECT_EQ(fill_template(lamp3, lamp3.prompt.item, item, "cut {}"),
            "5 is the score for \"cut {}\" ");
}

}  // namespace
}  // namespace lamp
