// The baselines against values worked out by hand (docs/baselines.md).
#include "lamp/pipeline/baselines.h"

#include <gtest/gtest.h>

#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/test_util.h"
#include "lamp/data/json_io.h"

namespace lamp {
namespace {

using testing_util::TempDir;

// One sample with `profile` (JSON objects without ids; ids are added).
Questions one_sample(const TempDir& dir, const char* task, const std::string& input,
                     const std::vector<std::string>& profile) {
  std::string json = "[{\"id\": \"s\", \"input\": \"" + input + "\", \"profile\": [";
  for (std::size_t i = 0; i < profile.size(); ++i) {
    json += (i ? ", {" : "{") + profile[i] + ", \"id\": \"p" + std::to_string(i) + "\"}";
  }
  json += "]}]";
  return read_questions(dir.write("q.json", json), &find_task(task));
}

struct Case {
  const TaskSpec* task;
  Questions questions;
  std::string vote(std::vector<std::uint32_t> voters) const {
    const Sample& s = questions.samples()[0];
    return profile_vote(*task, s, questions.profile(s), voters);
  }
  std::string majority() const {
    const Sample& s = questions.samples()[0];
    return majority_answer(*task, s, questions.profile(s));
  }
};

Case make_case(const TempDir& dir, const char* task, const std::string& input,
               const std::vector<std::string>& profile) {
  return {&find_task(task), one_sample(dir, task, input, profile)};
}

TEST(Baselines, CitationPicksTheCandidateTheVotersMatch) {
  TempDir dir;
  // Every word occurs in one document (idf ln(5/3) > 0): a candidate scores only on the item
  // that holds its words, and "cats dogs" on b scores exactly what "fish birds" scores on a.
  Case c = make_case(
      dir, "LaMP-1",
      "For an author who has written the paper with the title \\\"alpha beta\\\", "
      "which reference is related? Just answer with [1] or [2] without "
      "explanation. [1]: \\\"cats dogs\\\" [2]: \\\"fish birds\\\"",
      {R"("title": "fish", "abstract": "birds swim")", R"("title": "cats", "abstract": "dogs run")",
       R"("title": "trees", "abstract": "leaves")"});
  EXPECT_EQ(c.vote({0}), "[2]");
  EXPECT_EQ(c.vote({1}), "[1]");
  EXPECT_EQ(c.vote({2, 0}), "[2]");
  EXPECT_EQ(c.vote({0, 1}), "[1]");  // a tie: the first candidate
  EXPECT_EQ(c.vote({2}), "[1]");     // no score at all: a tie
  EXPECT_EQ(c.vote({}), "[1]");      // none: the first label
  EXPECT_EQ(c.majority(), "[1]");    // all three: the tie again
}

TEST(Baselines, TaggingTakesTheMostFrequentTagFirstSeenWinningTies) {
  TempDir dir;
  Case c = make_case(
      dir, "LaMP-2",
      "Which tag does this movie relate to among the following tags? Just answer "
      "with the tag name without further explanation. tags: [sci-fi, based on a "
      "book, comedy, action, twist ending, dystopia, dark comedy, classic, "
      "psychology, fantasy, romance, thought-provoking, social commentary, "
      "violence, true story] description: a film",
      {R"("description": "d0", "tag": "comedy")", R"("description": "d1", "tag": "action")",
       R"("description": "d2", "tag": "action")", R"("description": "d3", "tag": "comedy")",
       R"("description": "d4", "tag": "true story")"});
  EXPECT_EQ(c.vote({0, 1, 2}), "action");
  EXPECT_EQ(c.vote({3, 1, 0, 2}), "comedy");  // 2 each: comedy voted first
  EXPECT_EQ(c.vote({1, 0}), "action");
  EXPECT_EQ(c.vote({4}), "true story");
  EXPECT_EQ(c.vote({}), "sci-fi");    // the registry's first label
  EXPECT_EQ(c.majority(), "comedy");  // 2 each: comedy first in file order
}

TEST(Baselines, RatingRoundsTheMeanHalfUp) {
  TempDir dir;
  Case c = make_case(dir, "LaMP-3",
                     "What is the score of the following review on a scale of 1 to 5? just answer "
                     "with 1, 2, 3, 4, or 5 without further explanation. review: fine",
                     {R"("text": "a", "score": "5")", R"("text": "b", "score": "2")",
                      R"("text": "c", "score": "4")"});
  EXPECT_EQ(c.vote({0, 1}), "4");  // 3.5
  EXPECT_EQ(c.vote({1, 2}), "3");  // 3.0
  EXPECT_EQ(c.vote({1}), "2");
  EXPECT_EQ(c.vote({}), "3");    // the middle label
  EXPECT_EQ(c.majority(), "4");  // 11 / 3 = 3.67

  Case bad = make_case(dir, "LaMP-3",
                       "What is the score of the following review on a scale of 1 to 5? just "
                       "answer with 1, 2, 3, 4, or 5 without further explanation. review: x",
                       {R"("text": "a", "score": "five")"});
  try {
    bad.vote({0});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().field, "profile[0].score");
    EXPECT_NE(std::string(e.what()).find("\"five\""), std::string::npos) << e.what();
  }
}

TEST(Baselines, GenerationCopiesTheTopItemOrEchoesTheQuery) {
  TempDir dir;
  Case news =
      make_case(dir, "LaMP-4", "Generate a headline for the following article:  the article text ",
                {R"("title": "T0", "text": "x")", R"("title": "T1", "text": "y")"});
  EXPECT_EQ(news.vote({1, 0}), "T1");
  EXPECT_EQ(news.vote({}), "the article text");
  EXPECT_EQ(news.majority(), "the article text");
  Case tweets = make_case(dir, "LaMP-7",
                          "Paraphrase the following tweet without any explanation before or "
                          "after it: my tweet",
                          {R"("text": "first")", R"("text": "second")"});
  EXPECT_EQ(tweets.vote({1}), "second");  // LaMP-7 has no target field: the text
  EXPECT_EQ(tweets.majority(), "my tweet");
}

TEST(Baselines, Factory) {
  auto vote = make_baseline("profile-vote");
  auto majority = make_baseline("majority");
  ASSERT_NE(vote, nullptr);
  ASSERT_NE(majority, nullptr);
  EXPECT_EQ(vote->reads(), PredictorReads::kRanking);
  EXPECT_EQ(majority->reads(), PredictorReads::kProfile);
  EXPECT_NE(vote->identity(), majority->identity());
  EXPECT_EQ(make_baseline("google/flan-t5-base"), nullptr);
}

}  // namespace
}  // namespace lamp
