// Reading and writing the official file formats, and one clear error for every bad input.
#include "lamp/data/json_io.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lamp/core/error.h"
#include "lamp/core/files.h"

namespace lamp {
namespace {

namespace fs = std::filesystem;

class JsonIo : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("lamp_json_io_" + std::to_string(::getpid()) + "_" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // The message of the lamp::Error that reading `text` as LaMP-4 questions throws.
  std::string questions_error(const std::string& text) {
    fs::path path = write("q.json", text);
    try {
      read_questions(path, &find_task("LaMP-4"));
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error for " << text;
    return "";
  }

  fs::path dir_;
};

const char* kHeadline = "Generate a headline for the following article: ";

std::string lamp4_sample(const std::string& id, const std::string& profile) {
  return R"({"id": ")" + id + R"(", "input": ")" + kHeadline + R"(body", "profile": )" + profile +
         "}";
}

TEST_F(JsonIo, ReadsQuestionsWithEscapesDatesAndNumericIds) {
  fs::path path = write("q.json", "[" + lamp4_sample("7", R"([
      {"id": "p1", "title": "caf\u00e9 \ud83d\ude00", "text": "a \"quoted\"\\ line\nnext", "date": "2019-05-01"},
      {"text": "second", "title": "", "id": 12, "extra": [1, {"x": 2}]}])") +
                                      "]");
  Questions q = read_questions(path, &find_task("LaMP_4"));
  ASSERT_EQ(q.size(), 1u);
  const Sample& s = q.samples()[0];
  EXPECT_EQ(s.id, "7");
  EXPECT_EQ(s.input, std::string(kHeadline) + "body");
  auto profile = q.profile(s);
  ASSERT_EQ(profile.size(), 2u);
  EXPECT_EQ(profile[0].fields[0], "caf\xc3\xa9 \xf0\x9f\x98\x80");  // title
  EXPECT_EQ(profile[0].fields[1], "a \"quoted\"\\ line\nnext");     // text
  EXPECT_EQ(profile[0].date, "2019-05-01");
  EXPECT_EQ(profile[1].id, "12");
  EXPECT_EQ(profile[1].fields[0], "");
  EXPECT_TRUE(q.has_dates());
}

TEST_F(JsonIo, RecognisesEveryTaskFromItsInputTemplate) {
  for (const TaskSpec& task : all_tasks()) {
    std::string input(task.input_template);
    for (std::size_t at; (at = input.find("{}")) != std::string::npos;) input.replace(at, 2, "x");
    EXPECT_EQ(recognise_task(input), &task) << task.name;
  }
  EXPECT_EQ(recognise_task("Summarise this: x"), nullptr);
}

TEST_F(JsonIo, ReadsWithoutTaskByRecognisingIt) {
  fs::path path =
      write("q.json", "[" + lamp4_sample("1", R"([{"id": "p", "title": "t", "text": "x"}])") + "]");
  EXPECT_EQ(read_questions(path, nullptr).task().name, "LaMP-4");
  fs::path odd = write("odd.json", R"([{"id": "1", "input": "hello", "profile": [{"id": "p"}]}])");
  try {
    read_questions(odd, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pass --task"), std::string::npos) << e.what();
  }
}

TEST_F(JsonIo, NotJsonGivesByteOffset) {
  std::string what = questions_error(
      "[" + lamp4_sample("1", R"([{"id": "p", "title": "t", "text": "x"}])") + ", {\"id\": ");
  EXPECT_NE(what.find("q.json: "), std::string::npos) << what;
  EXPECT_NE(what.find("not valid JSON"), std::string::npos) << what;
  // The array's own faults are found as the file is split into samples.
  what = questions_error("[{\"id\": \"1\", \"input\": \"abc}]");
  EXPECT_NE(what.find("q.json: byte 28: not valid JSON (the file ends inside a string)"),
            std::string::npos)
      << what;
  what =
      questions_error("[" + lamp4_sample("1", R"([{"id": "p", "title": "t", "text": "x"}])") + " " +
                      lamp4_sample("2", R"([{"id": "p", "title": "t", "text": "x"}])") + "]");
  EXPECT_NE(what.find("record 0 (id \"1\"): not valid JSON (a comma is missing after this sample)"),
            std::string::npos)
      << what;
  what = questions_error("[" + lamp4_sample("1", R"([{"id": "p", "title": "t", "text": "x"}])") +
                         "] x");
  EXPECT_NE(what.find("q.json: byte "), std::string::npos) << what;
  EXPECT_NE(what.find("not valid JSON (text after the array)"), std::string::npos) << what;
  what = questions_error("[{\"id\": \"1\", \"input\": tru}]");
  EXPECT_NE(what.find("q.json: byte 22: record 0 (id \"1\"): field \"input\": not valid JSON"),
            std::string::npos)
      << what;
}

TEST_F(JsonIo, ErrorsNameRecordIdAndField) {
  std::string ok_item = R"({"id": "p", "title": "t", "text": "x"})";
  std::string what = questions_error(R"({"id": "1"})");
  EXPECT_NE(what.find("expected a JSON array of samples"), std::string::npos) << what;

  what = questions_error("[" + lamp4_sample("1", "[" + ok_item + "]") + ", 5]");
  EXPECT_NE(what.find("record 1: expected a sample (a JSON object), found a number"),
            std::string::npos)
      << what;

  what = questions_error("[" + lamp4_sample("s9", R"([{"id": "p", "title": ["t"], "text": "x"}])") +
                         "]");
  EXPECT_NE(
      what.find(
          "record 0 (id \"s9\"): field \"profile[0].title\": expected a string, found an array"),
      std::string::npos)
      << what;

  what = questions_error(
      "[" + lamp4_sample("s9", "[" + ok_item + R"(, {"id": "q", "text": "x"}])") + "]");
  EXPECT_NE(what.find("field \"profile[1].title\": missing field"), std::string::npos) << what;

  what = questions_error(R"([{"id": "s1", "profile": []}])");
  EXPECT_NE(what.find("field \"input\": missing field"), std::string::npos) << what;

  what = questions_error("[" + lamp4_sample("s1", "[]") + "]");
  EXPECT_NE(what.find("(id \"s1\"): field \"profile\": empty profile"), std::string::npos) << what;

  what = questions_error("[" + lamp4_sample("s1", "[" + ok_item + "]") + "," +
                         lamp4_sample("s1", "[" + ok_item + "]") + "]");
  EXPECT_NE(what.find("record 1 (id \"s1\"): field \"id\": duplicate sample id (also record 0)"),
            std::string::npos)
      << what;

  what = questions_error("[" + lamp4_sample("s1", "[" + ok_item + "," + ok_item + "]") + "]");
  EXPECT_NE(what.find("duplicate profile id \"p\""), std::string::npos) << what;
  // The first item whose id came before, among many.
  std::string items = "[";
  for (int i = 0; i < 40; ++i) {
    items += R"({"id": "p)" + std::to_string(i % 37) + R"(", "title": "t", "text": "x"},)";
  }
  items.back() = ']';
  what = questions_error("[" + lamp4_sample("s1", items) + "]");
  EXPECT_NE(what.find("field \"profile[37].id\": duplicate profile id \"p0\""), std::string::npos)
      << what;

  what = questions_error(
      "[" + lamp4_sample("s1", R"([{"id": "p", "title": "bad \q escape", "text": "x"}])") + "]");
  EXPECT_NE(what.find("bad escape"), std::string::npos) << what;
}

TEST_F(JsonIo, NullProfileFieldsAreKeptAsPythonWouldFormatThem) {
  fs::path path = write(
      "q.json", "[" + lamp4_sample("1", R"([{"id": "p", "title": null, "text": "x"}])") + "]");
  Questions q = read_questions(path, nullptr);
  std::string_view title = q.items()[0].fields[0];
  EXPECT_TRUE(is_null_field(title));
  EXPECT_EQ(title, "None");  // f"{None}"
  EXPECT_FALSE(is_null_field(q.items()[0].fields[1]));
  write_questions(dir_ / "copy.json", q);
  EXPECT_NE(read_file(dir_ / "copy.json").find(R"("title": null)"), std::string::npos);
  // Ids may not be null.
  EXPECT_THROW(
      read_questions(
          write("n.json",
                "[" + lamp4_sample("1", R"([{"id": null, "title": "t", "text": "x"}])") + "]"),
          nullptr),
      Error);
}

TEST_F(JsonIo, MissingFileIsAnError) {
  EXPECT_THROW(read_questions(dir_ / "absent.json", nullptr), Error);
  EXPECT_THROW(read_outputs(dir_ / "absent.json"), Error);
}

TEST_F(JsonIo, QuestionsRoundTripAcrossManySamples) {
  // More than 256 samples, so the reader releases pages of the mapped file as it goes.
  std::string text = "[";
  for (int i = 0; i < 600; ++i) {
    if (i) text += ",";
    text += lamp4_sample(std::to_string(i),
                         R"([{"id": "a)" + std::to_string(i) +
                             R"(", "title": "t\u00e9", "text": "line\tone", "date": "2020-01"}])");
  }
  text += "]";
  Questions q = read_questions(write("q.json", text), nullptr);
  fs::path copy = dir_ / "copy.json";
  write_questions(copy, q);
  Questions back = read_questions(copy, nullptr);
  ASSERT_EQ(back.size(), 600u);
  for (std::size_t i = 0; i < back.size(); ++i) {
    const ProfileItem& a = q.profile(q.samples()[i])[0];
    const ProfileItem& b = back.profile(back.samples()[i])[0];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.fields, b.fields);
    EXPECT_EQ(a.date, b.date);
    EXPECT_EQ(q.samples()[i].input, back.samples()[i].input);
  }
}

TEST_F(JsonIo, OutputsObjectOrBareListAndNumbers) {
  Outputs o = read_outputs(write(
      "o.json",
      R"({"task": "LaMP_3", "golds": [{"id": "1", "output": 4}, {"output": "x", "id": 2}]})"));
  EXPECT_EQ(o.task, "LaMP_3");
  ASSERT_EQ(o.records.size(), 2u);
  EXPECT_EQ(o.records[0].output, "4");
  EXPECT_EQ(o.records[1].id, "2");
  Outputs bare = read_outputs(write("b.json", R"([{"id": "1", "output": "[1]"}])"));
  EXPECT_TRUE(bare.task.empty());
  EXPECT_EQ(bare.records.size(), 1u);

  fs::path out = dir_ / "written.json";
  write_outputs(out, "LaMP_3", o.records);
  Outputs back = read_outputs(out);
  EXPECT_EQ(back.task, "LaMP_3");
  EXPECT_EQ(back.records[1].output, "x");

  EXPECT_THROW(read_outputs(write("e1.json", R"({"task": "LaMP_3"})")), Error);
  EXPECT_THROW(read_outputs(write("e2.json", R"([{"id": "1"}])")), Error);
  EXPECT_THROW(read_outputs(write("e3.json", R"([{"id": "1", "output": null}])")), Error);
  EXPECT_THROW(read_outputs(write("e4.json", R"("golds")")), Error);
}

TEST_F(JsonIo, RankingRoundTripAndDuplicateKeys) {
  Ranking r = read_ranking(write("r.json", R"({"1": ["p2", "p1"], "2": ["q\u00e9"]})"));
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].profile_ids[0], "p2");
  EXPECT_EQ(r.entries[1].profile_ids[0], "q\xc3\xa9");
  fs::path out = dir_ / "r2.json";
  write_ranking(out, r);
  EXPECT_EQ(read_file(out), R"({"1": ["p2", "p1"], "2": ["q)"
                            "\xc3\xa9"
                            R"("]})");
  EXPECT_THROW(read_ranking(write("d.json", R"({"1": ["a"], "1": ["b"]})")), Error);
}

TEST_F(JsonIo, RankingFileIsTheSameForAnyThreadCount) {
  // Entries are formatted in blocks, one block per work item: several blocks here.
  Ranking r;
  std::string expected = "{";
  for (int i = 0; i < 1000; ++i) {
    Ranking::Entry entry{.sample_id = r.arena.store(std::to_string(i))};
    if (i > 0) expected += ", ";
    expected += "\"" + std::to_string(i) + "\": [";
    for (int j = 0; j < i % 4; ++j) {
      entry.profile_ids.push_back(r.arena.store(std::to_string(i) + "_" + std::to_string(j)));
      expected += std::string(j > 0 ? ", " : "") + "\"" + std::to_string(i) + "_" +
                  std::to_string(j) + "\"";
    }
    expected += "]";
    r.entries.push_back(std::move(entry));
  }
  expected += "}";
  for (int threads : {1, 2, 3}) {
    fs::path out = dir_ / ("r" + std::to_string(threads) + ".json");
    write_ranking(out, r, threads);
    EXPECT_EQ(read_file(out), expected) << threads;
  }
  // Entries added last first, from a profile and its order: the file is still in sample order,
  // and nothing is at the path before commit.
  fs::path out = dir_ / "reversed.json";
  {
    RankingWriter writer(out);
    for (std::size_t i = r.entries.size(); i-- > 0;) {
      std::vector<ProfileItem> profile;
      std::vector<std::uint32_t> order;
      for (std::string_view id : r.entries[i].profile_ids) {
        profile.insert(profile.begin(), ProfileItem{.id = id});  // reversed, so order undoes it
        order.insert(order.begin(), static_cast<std::uint32_t>(order.size()));
      }
      writer.add(i, r.entries[i].sample_id, profile, order);
    }
    EXPECT_FALSE(fs::exists(out));
    writer.commit(r.entries.size());
  }
  EXPECT_EQ(read_file(out), expected);
}

TEST_F(JsonIo, FailedWriteLeavesNothingBehind) {
  Outputs o = read_outputs(write("o.json", R"([{"id": "1", "output": "x"}])"));
  EXPECT_THROW(write_outputs(dir_ / "no_such_dir" / "out.json", "LaMP_4", o.records), Error);
  EXPECT_FALSE(fs::exists(dir_ / "no_such_dir"));
}

TEST(TaskRegistry, NamesInBothSpellingsAndAnError) {
  EXPECT_EQ(find_task("LaMP-3").eval_name, "LaMP_3");
  EXPECT_EQ(find_task("LaMP_3").name, "LaMP-3");
  EXPECT_EQ(find_task("lamp_2n").name, "LaMP-2N");
  EXPECT_EQ(all_tasks().size(), 8u);
  EXPECT_EQ(find_task("LaMP-2").labels.size(), 15u);
  EXPECT_EQ(find_task("LaMP-2N").labels.size(), 15u);
  try {
    find_task("LaMP-9");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("LaMP-7"), std::string::npos);
  }
  for (const TaskSpec& task : all_tasks()) {
    EXPECT_LE(task.profile_fields.size(), kMaxProfileFields) << task.name;
    for (std::string_view field : task.corpus_fields) {
      EXPECT_GE(profile_field_index(task, field), 0) << task.name << " " << field;
    }
    if (!task.target_field.empty()) {
      EXPECT_GE(profile_field_index(task, task.target_field), 0);
    }
    EXPECT_EQ(task.labels.empty(), task.metric == MetricKind::kGeneration) << task.name;
  }
}

}  // namespace
}  // namespace lamp
