// Tests for the LaMP-6 builder: e-mail parsing as mail-parser does it (headers, folding, encoded
// words, MIME parts), and the whole build from small zip archives written by the test.
#include "lamp/data/avocado.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/test_util.h"
#include "lamp/data/zip.h"

namespace lamp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_util::slurp;
using testing_util::TempDir;

TEST(ParseEmailTest, SubjectAndBodyOfAPlainMessage) {
  EmailMessage m = parse_email(
      "From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject:  Budget review  \r\n"
      "\r\n  Hi Bob,\r\n\r\nsee attached.\r\n\r\n");
  EXPECT_EQ(m.subject, "Budget review");
  EXPECT_EQ(m.body, "Hi Bob,\n\nsee attached.");
}

TEST(ParseEmailTest, HeaderRules) {
  // Folded lines stay in the value (mail-parser does not unfold); the first Subject counts;
  // an mbox "From " line is skipped; header names are case-insensitive.
  EXPECT_EQ(parse_email("From ann Mon Jan 1\nSUBJECT: Re: the plan\n\tfor Q3\nsubject: other\n\nx")
                .subject,
            "Re: the plan\n\tfor Q3");
  EmailMessage none = parse_email("To: bob\n\nbody only\n");
  EXPECT_EQ(none.subject, "");
  EXPECT_EQ(none.body, "body only");
  // A line that is not a header ends the headers and starts the body.
  EmailMessage no_gap = parse_email("Subject: s\nthis is text\nmore\n");
  EXPECT_EQ(no_gap.subject, "s");
  EXPECT_EQ(no_gap.body, "this is text\nmore");
  // Bytes that are not UTF-8 are dropped; text is NFC-normalised; old Mac line ends count.
  EXPECT_EQ(parse_email("Subject: caf\xff"
                        "e\xcc\x81\r\rbody\rline")
                .subject,
            "caf\xc3\xa9");
  EXPECT_EQ(parse_email("Subject: a\r\rbody\rline").body, "body\nline");
}

TEST(ParseEmailTest, EncodedWordsAsMailParserJoinsThem) {
  // Each decoded piece is stripped before the pieces are joined, so the spaces around an encoded
  // word go (mail-parser's result, kept).
  EXPECT_EQ(parse_email("Subject: =?utf-8?q?caf=C3=A9_au?= lait\n\n").subject,
            "caf\xc3\xa9 aulait");
  // Whitespace between encoded words is dropped; charsets go through iconv; B is padded.
  EXPECT_EQ(parse_email("Subject: =?ISO-8859-1?Q?caf=E9?= =?utf-8?B?IGNyw6htZQ?=\n\n").subject,
            "caf\xc3\xa9"
            "cr\xc3\xa8me");
  // An unknown charset falls back to UTF-8.
  EXPECT_EQ(parse_email("Subject: =?x-nonsense?q?ok?=\n\n").subject, "ok");
}

TEST(ParseEmailTest, MimePartsInOrderWithoutAttachments) {
  std::string message =
      "Subject: parts\n"
      "Content-Type: multipart/mixed; boundary=\"outer\"\n"
      "\n"
      "preamble is ignored\n"
      "--outer\n"
      "Content-Type: multipart/alternative; boundary=inner\n"
      "\n"
      "--inner\n"
      "Content-Type: text/html; charset=utf-8\n"
      "\n"
      "<p>hello</p>\n"
      "--inner\n"
      "Content-Type: text/plain; charset=iso-8859-1\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "caf=E9 soft=\n"
      "break  \n"
      "--inner--\n"
      "--outer\n"
      "Content-Type: text/plain; name=notes.txt\n"
      "\n"
      "attachment text\n"
      "--outer\n"
      "Content-Type: text/plain\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "c2Vjb25k\n"
      "IHBhcnQ=\n"
      "--outer\n"
      "Content-Type: text/plain\n"
      "Content-Disposition: attachment; filename=\"a.txt\"\n"
      "\n"
      "also an attachment\n"
      "--outer--\n"
      "epilogue\n";
  EmailMessage m = parse_email(message);
  EXPECT_EQ(m.subject, "parts");
  EXPECT_EQ(m.body,
            "caf\xc3\xa9 softbreak\n--- mail_boundary ---\nsecond part\n"
            "--- mail_boundary ---\n<p>hello</p>");
}

TEST(ParseEmailTest, ForwardedMessagesAndMultipartsWithoutBoundary) {
  // A message/rfc822 part is walked into: its own body is a text part, its headers are not.
  EmailMessage forwarded = parse_email(
      "Subject: Fwd: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nsee below\n--b\n"
      "Content-Type: message/rfc822\n\nSubject: x\nFrom: c\n\ninner text\n--b--\n");
  EXPECT_EQ(forwarded.subject, "Fwd: x");
  EXPECT_EQ(forwarded.body, "see below\n--- mail_boundary ---\ninner text");
  // multipart without a boundary: Python keeps the whole body as one text part.
  EXPECT_EQ(parse_email("Content-Type: multipart/mixed\n\n--b\nall of it\n").body,
            "--b\nall of it");
}

const char* kEmail1 = "Subject: Lunch\n\nLet us meet at noon.\n";
const char* kEmail2 = "Subject: Old report\n\nfirst version\n";
const char* kEmail2b = "Subject: Report\n\nsecond version\n";
const char* kEmail3 = "Subject: \"Quoted\"\n\nText with \xc3\xa9.\n";

class AvocadoBuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "text");
    std::filesystem::create_directories(dir_ / "questions");
    write_zip(dir_ / "text" / "001.zip", {{"001/m1.txt", kEmail1},
                                          {"001/m2.txt", kEmail2},
                                          {"001/deeper/m3.txt", "Subject: no\n\nnot at */*"},
                                          {"m3.txt", "Subject: no\n\nnot at */*"}});
    // A later archive (in name order) replaces m2.
    write_zip(dir_ / "text" / "002.zip", {{"002/m2.txt", kEmail2b}, {"002/m3.txt", kEmail3}});
    options_ = {
        .avocado_dir = dir_ / "text", .questions_dir = dir_ / "questions", .out_dir = dir_ / "out"};
  }

  TempDir dir_;
  AvocadoOptions options_;
};

TEST_F(AvocadoBuildTest, BuildsQuestionsAndGoldsLikeTheOfficialScript) {
  dir_.write(
      "questions/dev_questions.json",
      R"([{"id": "600", "input": "m1.txt", "profile": [)"
      R"({"id": "6000", "text": "m2.txt", "date": "2001-03-04"}, {"text": "m3.txt", "id": 7}]}])");
  dir_.write(
      "questions/test_questions.json",
      R"([{"id": "601", "input": "m3.txt", "profile": [{"id": "6010", "text": "m1.txt"}]}])");
  AvocadoReport report = build_avocado(options_);
  EXPECT_THAT(report.parts, ElementsAre("dev", "test"));
  EXPECT_EQ(report.archives, 2u);
  EXPECT_EQ(report.emails_needed, 3u);
  EXPECT_EQ(report.emails_duplicated, 1u);
  EXPECT_EQ(slurp(dir_ / "out" / "dev_questions.json"),
            R"([{"id": "600", "input": "Generate a subject for the following email: Let us meet )"
            R"(at noon.", "profile": [{"id": "6000", "text": "second version", "date": )"
            R"("2001-03-04", "title": "Report"}, {"text": "Text with )"
            "\xc3\xa9"
            R"(.", "id": 7, "title": "\"Quoted\""}]}])");
  EXPECT_EQ(slurp(dir_ / "out" / "dev_outputs.json"),
            R"({"task": "LaMP_6", "golds": [{"id": "600", "output": "Lunch"}]})");
  // The test part has no golds; its questions are a plain list (the official script wraps them).
  EXPECT_EQ(
      slurp(dir_ / "out" / "test_questions.json"),
      R"([{"id": "601", "input": "Generate a subject for the following email: Text with )"
      "\xc3\xa9"
      R"(.", "profile": [{"id": "6010", "text": "Let us meet at noon.", "title": "Lunch"}]}])");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "test_outputs.json"));
}

TEST_F(AvocadoBuildTest, AMissingEmailNamesTheSampleAndField) {
  dir_.write("questions/train_questions.json",
             R"([{"id": "1", "input": "m1.txt", "profile": [{"id": "p", "text": "m1.txt"}]},)"
             R"( {"id": "2", "input": "m1.txt", "profile": [{"id": "q", "text": "m1.txt"},)"
             R"( {"id": "r", "text": "gone.txt"}]}])");
  try {
    build_avocado(options_);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("train_questions.json: record 1: field \"profile[1].text\": "
                                    "e-mail \"gone.txt\" is in none of the 2 archives"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "train_questions.json"));
}

TEST_F(AvocadoBuildTest, NeedsSomeQuestions) { EXPECT_THROW(build_avocado(options_), Error); }

TEST_F(AvocadoBuildTest, TheCommandLine) {
  dir_.write("questions/dev_questions.json",
             R"([{"id": "600", "input": "m1.txt", "profile": [{"id": "1", "text": "m2.txt"}]}])");
  testing_util::CommandResult result = testing_util::run_lamp(fmt::format(
      "data avocado --avocado-dir '{}' --questions-dir '{}' --out '{}'", (dir_ / "text").string(),
      (dir_ / "questions").string(), (dir_ / "cli").string()));
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("dev_outputs.json"));
  EXPECT_EQ(slurp(dir_ / "cli" / "dev_outputs.json"),
            R"({"task": "LaMP_6", "golds": [{"id": "600", "output": "Lunch"}]})");
}

}  // namespace
}  // namespace lamp
