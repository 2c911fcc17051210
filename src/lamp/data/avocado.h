// LaMP-6 from the LDC Avocado Research Email Collection (LDC2015T03), as the LaMP authors'
// data/avocado/create_avocado_dataset.py builds it ("lamp data avocado"):
//  - LaMP distributes {train,dev,test}_questions.json in which each sample's "input" and each
//    profile item's "text" are the file names of Avocado e-mails (e.g. "001-000123-EM.txt");
//  - the e-mails are the entries "FOLDER/NAME" (exactly one folder deep, names not starting with
//    ".") of the zip archives in avocado-1.0.2/data/text; an e-mail whose NAME several archives
//    hold is taken from the last archive in name order (the official script: the last in its
//    unsorted directory listing);
//  - each e-mail is parsed as mail-parser (the Python package the script uses) parses it
//    (parse_email below): its subject, and its body with the text parts joined, stripped;
//  - each sample's input becomes "Generate a subject for the following email: " + body and its
//    gold output the subject; each profile item's "text" becomes the body and "title" the
//    subject (other fields are kept, in order).
// The output folder gets {part}_questions.json for every part given and {part}_outputs.json
// ({"task": "LaMP_6", "golds": [...]}) for train and dev. docs/differences.md lists where lamp
// departs from the script (test_questions.json is a plain list, non-ASCII text is kept).
//
// An e-mail that the questions name but no archive holds is a lamp::Error naming the questions
// file, the sample and the field (the official script dies with a KeyError).
//
// Thread-safety: build_avocado() touches only its own files.
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace lamp {

struct EmailMessage {
  std::string subject;
  std::string body;  // text parts joined by "\n--- mail_boundary ---\n", Python-stripped
};

// Parses one RFC 822 / MIME message as Python's email package (compat32) and mail-parser do:
//  - bytes that are not UTF-8 are dropped; line ends become "\n";
//  - headers end at the first empty line (or the first line that is not a header, which starts
//    the body); a leading "From " line is skipped; folded lines are kept in the value with their
//    line break and indentation (mail-parser does not unfold);
//  - the subject is the first Subject header, RFC 2047 encoded words decoded (B and Q, any
//    charset iconv knows), each decoded piece stripped and the pieces concatenated, then NFC;
//  - the body: every non-multipart part without a file name (Content-Disposition filename or
//    Content-Type name), walked depth-first through multipart/* and message/rfc822, with its
//    quoted-printable or base64 transfer encoding undone and its charset decoded, stripped and
//    NFC-normalised; non-empty text/html parts go after all the others, and all are joined by
//    "\n--- mail_boundary ---\n".
EmailMessage parse_email(std::string_view bytes);

struct AvocadoOptions {
  std::filesystem::path avocado_dir;    // the folder of zip archives (avocado-1.0.2/data/text)
  std::filesystem::path questions_dir;  // LaMP's {train,dev,test}_questions.json, any of them
  std::filesystem::path out_dir;        // created when missing
  std::FILE* log = nullptr;             // one line per archive and per file written
};

struct AvocadoReport {
  std::vector<std::string> parts;  // "train", "dev", "test": those found and written
  std::size_t archives = 0;
  std::size_t emails_needed = 0;      // distinct file names the questions refer to
  std::size_t emails_duplicated = 0;  // needed e-mails found more than once (the last counts)
  std::vector<std::filesystem::path> written;
};

AvocadoReport build_avocado(const AvocadoOptions& options);

}  // namespace lamp
