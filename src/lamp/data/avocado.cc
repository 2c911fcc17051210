#include "lamp/data/avocado.h"

#include <iconv.h>
#include <simdjson.h>

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/data/zip.h"
#include "lamp/text/python_str.h"
#include "lamp/text/utf8.h"

namespace lamp {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ---- Text decoding, as mail-parser's ported_string does it --------------------------------

// `bytes` in `charset` as UTF-8: strictly, else (unknown charset, invalid bytes) as UTF-8 with
// the invalid bytes dropped.
std::string decode_charset(std::string_view bytes, const std::string& charset) {
  std::string name = lower(charset);
  if (name.empty() || name == "utf-8" || name == "utf8" || name == "us-ascii" || name == "ascii") {
    return text::drop_invalid_utf8(bytes);
  }
  iconv_t cd = iconv_open("UTF-8", name.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return text::drop_invalid_utf8(bytes);
  std::string out(bytes.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  char* to = out.data();
  std::size_t out_left = out.size();
  std::size_t result = iconv(cd, &in, &in_left, &to, &out_left);
  iconv_close(cd);
  if (result == static_cast<std::size_t>(-1) || in_left != 0) {
    return text::drop_invalid_utf8(bytes);
  }
  out.resize(out.size() - out_left);
  return out;
}

// ported_string: stripped, then NFC.
std::string ported(std::string_view text) { return text::nfc(text::py_strip(text)); }

// ---- Transfer encodings ---------------------------------------------------------------------

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Quoted-printable (RFC 2045): "=XX" is a byte, "=" at a line end joins the lines, trailing
// whitespace on a line is dropped; anything malformed is kept as it is (Python's quopri).
std::string decode_quoted_printable(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    bool newline = end != std::string_view::npos;
    std::string_view line = text.substr(pos, (newline ? end : text.size()) - pos);
    pos = newline ? end + 1 : text.size();
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    bool soft_break = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] != '=') {
        out.push_back(line[i]);
      } else if (i + 1 == line.size()) {
        soft_break = true;
      } else if (i + 2 < line.size() && hex_value(line[i + 1]) >= 0 &&
                 hex_value(line[i + 2]) >= 0) {
        out.push_back(static_cast<char>(hex_value(line[i + 1]) * 16 + hex_value(line[i + 2])));
        i += 2;
      } else {
        out.push_back('=');
      }
    }
    if (newline && !soft_break) out.push_back('\n');
  }
  return out;
}

// Base64, leniently as Python's binascii: characters outside the alphabet are skipped, decoding
// stops at padding.
std::string decode_base64(std::string_view text) {
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : text) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
            : c == '='             ? -2
                                   : -1;
    if (v == -2) break;
    if (v < 0) continue;
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return out;
}

// ---- RFC 2047 encoded words (email.header.decode_header, then mail-parser) ------------------

struct Word {
  std::string text;                    // raw text, or the encoded bytes once decoded
  std::optional<std::string> charset;  // none: not an encoded word
  char encoding = 0;                   // 'q', 'b', or 0
};

// The next "=?charset?q|b?text?=" in `line` at or after `from` (Python's ecre: the charset up to
// the first "?", the text up to the first "?=").
std::optional<std::pair<std::size_t, std::size_t>> find_encoded_word(std::string_view line,
                                                                     std::size_t from, Word& word) {
  for (std::size_t at = line.find("=?", from); at != std::string_view::npos;
       at = line.find("=?", at + 1)) {
    std::size_t q1 = line.find('?', at + 2);
    if (q1 == std::string_view::npos || q1 + 2 >= line.size() || line[q1 + 2] != '?') continue;
    char encoding = static_cast<char>(std::tolower(static_cast<unsigned char>(line[q1 + 1])));
    if (encoding != 'q' && encoding != 'b') continue;
    std::size_t end = line.find("?=", q1 + 3);
    if (end == std::string_view::npos) continue;
    word = {.text = std::string(line.substr(q1 + 3, end - q1 - 3)),
            .charset = lower(line.substr(at + 2, q1 - at - 2)),
            .encoding = encoding};
    return std::pair{at, end + 2};
  }
  return std::nullopt;
}

std::string decode_header_value(std::string_view value) {
  Word probe;
  if (!find_encoded_word(value, 0, probe)) return ported(value);
  std::vector<Word> words;
  // str.splitlines(): our text has only "\n" line ends by now.
  std::size_t pos = 0;
  while (pos <= value.size()) {
    std::size_t end = std::min(value.find('\n', pos), value.size());
    std::string_view line = value.substr(pos, end - pos);
    pos = end + 1;
    std::size_t at = 0;
    bool first = true;
    for (;;) {
      Word word;
      auto found = find_encoded_word(line, at, word);
      std::string_view plain = line.substr(at, found ? found->first - at : line.size() - at);
      if (first) {
        while (!plain.empty() && (plain.front() == ' ' || plain.front() == '\t'))
          plain.remove_prefix(1);
        first = false;
      }
      if (!plain.empty()) words.push_back({.text = std::string(plain)});
      if (!found) break;
      words.push_back(std::move(word));
      at = found->second;
    }
    if (end == value.size()) break;
  }
  // Whitespace between two encoded words is dropped.
  std::vector<Word> kept;
  for (std::size_t n = 0; n < words.size(); ++n) {
    bool between = n > 0 && n + 1 < words.size() && words[n - 1].charset && words[n + 1].charset &&
                   !words[n].charset && text::py_strip(words[n].text).empty();
    if (!between) kept.push_back(std::move(words[n]));
  }
  // Decode, then join neighbours of one charset (plain text with a space, as Python does).
  std::vector<std::pair<std::string, std::optional<std::string>>> collapsed;
  for (Word& word : kept) {
    std::string bytes = word.text;
    if (word.encoding == 'q') {
      std::replace(bytes.begin(), bytes.end(), '_', ' ');
      bytes = decode_quoted_printable(bytes);
    } else if (word.encoding == 'b') {
      bytes = decode_base64(bytes);
    }
    if (!collapsed.empty() && collapsed.back().second == word.charset) {
      if (!word.charset) collapsed.back().first += ' ';
      collapsed.back().first += bytes;
    } else {
      collapsed.emplace_back(std::move(bytes), word.charset);
    }
  }
  std::string out;
  for (const auto& [bytes, charset] : collapsed) {
    out += ported(decode_charset(bytes, charset.value_or("utf-8")));
  }
  return out;
}

// ---- Messages -------------------------------------------------------------------------------

struct Header {
  std::string name;  // lower case
  std::string value;
};

struct Part {
  std::vector<Header> headers;
  std::string_view body;

  const std::string* header(std::string_view name) const {
    for (const Header& h : headers) {
      if (h.name == name) return &h.value;
    }
    return nullptr;
  }
};

bool is_header_name_byte(char c) { return c >= '\x21' && c <= '\x7e' && c != ':'; }

// Splits headers from body as Python's feedparser does (compat32 values: the first line after
// the colon left-stripped, continuation lines appended with their line breaks, the final line
// break removed).
Part split_part(std::string_view text) {
  Part part;
  std::size_t pos = 0;
  bool first_line = true;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    std::size_t next = end == std::string_view::npos ? text.size() : end + 1;
    std::string_view line = text.substr(pos, next - pos);
    std::string_view bare = line.substr(0, line.size() - (line.ends_with('\n') ? 1 : 0));
    if (bare.empty()) {  // the empty line between headers and body
      pos = next;
      break;
    }
    if (first_line && bare.starts_with("From ")) {  // a Unix mbox envelope line
      pos = next;
      first_line = false;
      continue;
    }
    first_line = false;
    if (line.front() == ' ' || line.front() == '\t') {
      if (!part.headers.empty()) part.headers.back().value += line;
      pos = next;
      continue;
    }
    std::size_t colon = 0;
    while (colon < bare.size() && is_header_name_byte(bare[colon])) ++colon;
    if (colon == bare.size() || bare[colon] != ':') break;  // not a header: the body starts here
    pos = next;
    if (colon == 0) continue;  // ":value": Python drops it
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    part.headers.push_back({lower(bare.substr(0, colon)), std::string(value)});
  }
  for (Header& h : part.headers) {
    while (!h.value.empty() && (h.value.back() == '\n' || h.value.back() == '\r')) {
      h.value.pop_back();
    }
  }
  part.body = text.substr(std::min(pos, text.size()));
  return part;
}

// A parameter of a Content-Type or Content-Disposition value ("charset", "boundary", ...),
// unquoted; empty when absent.
std::string header_param(const std::string* value, std::string_view name) {
  if (value == nullptr) return "";
  std::string_view rest = *value;
  std::size_t semicolon = rest.find(';');
  while (semicolon != std::string_view::npos) {
    rest = rest.substr(semicolon + 1);
    semicolon = rest.find(';');
    std::string_view param = text::py_strip(rest.substr(0, semicolon));
    std::size_t eq = param.find('=');
    if (eq == std::string_view::npos || lower(text::py_strip(param.substr(0, eq))) != name) {
      continue;
    }
    std::string_view v = text::py_strip(param.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return std::string(v);
  }
  return "";
}

// get_content_type(): "maintype/subtype" in lower case; text/plain when missing or invalid.
std::string content_type(const Part& part) {
  const std::string* value = part.header("content-type");
  if (value == nullptr) return "text/plain";
  std::string type = lower(text::py_strip(std::string_view(*value).substr(0, value->find(';'))));
  if (std::count(type.begin(), type.end(), '/') != 1) return "text/plain";
  return type;
}

// The parts of a multipart body between "--boundary" lines, up to "--boundary--".
std::vector<std::string_view> split_multipart(std::string_view body, const std::string& boundary) {
  std::vector<std::string_view> parts;
  const std::string delimiter = "--" + boundary;
  std::optional<std::size_t> start;  // of the current part
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find('\n', pos);
    std::size_t next = end == std::string_view::npos ? body.size() : end + 1;
    std::string_view line = body.substr(pos, next - pos);
    std::string_view trimmed = line;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
      trimmed.remove_suffix(1);
    }
    bool close = trimmed == delimiter + "--";
    if (close || trimmed == delimiter) {
      // The line break before a delimiter belongs to the delimiter.
      if (start) parts.push_back(body.substr(*start, pos - *start - (pos > *start ? 1 : 0)));
      if (close) return parts;
      start = next;
    }
    pos = next;
  }
  if (start) parts.push_back(body.substr(*start));  // no closing delimiter
  return parts;
}

struct Texts {
  std::vector<std::string> plain, html;
};

void walk(std::string_view text, Texts& texts, int depth) {
  Part part = split_part(text);
  std::string type = content_type(part);
  if (depth < 32) {
    if (type.starts_with("multipart/")) {
      std::string boundary = header_param(part.header("content-type"), "boundary");
      if (!boundary.empty()) {
        for (std::string_view sub : split_multipart(part.body, boundary)) {
          walk(sub, texts, depth + 1);
        }
        return;
      }
    } else if (type == "message/rfc822") {
      walk(part.body, texts, depth + 1);
      return;
    }
  }
  std::string filename = header_param(part.header("content-disposition"), "filename");
  if (filename.empty()) filename = header_param(part.header("content-type"), "name");
  if (!decode_header_value(filename).empty()) return;  // an attachment
  std::string encoding;
  if (const std::string* cte = part.header("content-transfer-encoding")) {
    encoding = lower(text::py_strip(*cte));
  }
  std::string payload;
  if (encoding == "quoted-printable" || encoding == "base64") {
    std::string bytes =
        encoding == "base64" ? decode_base64(part.body) : decode_quoted_printable(part.body);
    std::string charset = header_param(part.header("content-type"), "charset");
    payload = ported(decode_charset(bytes, charset.empty() ? "utf-8" : charset));
  } else {
    payload = ported(part.body);  // already text (see docs/differences.md)
  }
  if (payload.empty()) return;
  (type == "text/html" ? texts.html : texts.plain).push_back(std::move(payload));
}

// Universal newlines: "\r\n" and "\r" become "\n".
std::string normalise_newlines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out.push_back(text[i]);
    } else {
      out.push_back('\n');
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    }
  }
  return out;
}

// ---- The dataset ----------------------------------------------------------------------------

constexpr std::string_view kParts[] = {"train", "dev", "test"};
constexpr std::string_view kInputPrefix = "Generate a subject for the following email: ";

// A questions file as LaMP distributes it for LaMP-6, parsed.
struct QuestionsFile {
  std::string part;
  std::filesystem::path path;
  std::string json;  // padded bytes the DOM views into
  simdjson::dom::parser parser;
  simdjson::dom::array samples;
};

std::string_view string_field(const QuestionsFile& file, simdjson::dom::element object,
                              std::size_t record, std::string_view field) {
  std::string_view value;
  if (object[field].get(value)) {
    throw Error(Location{.file = file.path.string(), .record = record, .field = std::string(field)},
                "expected a string");
  }
  return value;
}

simdjson::dom::element id_field(const QuestionsFile& file, simdjson::dom::element sample,
                                std::size_t record) {
  simdjson::dom::element id;
  if (sample["id"].get(id)) {
    throw Error(Location{.file = file.path.string(), .record = record, .field = "id"}, "missing");
  }
  return id;
}

void write_value(JsonWriter& w, simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::ARRAY:
      w.begin_array();
      for (simdjson::dom::element item : value.get_array()) write_value(w, item);
      w.end_array();
      break;
    case simdjson::dom::element_type::OBJECT:
      w.begin_object();
      for (auto [key, item] : value.get_object()) write_value(w.key(key), item);
      w.end_object();
      break;
    case simdjson::dom::element_type::STRING:
      w.value(value.get_string().value());
      break;
    case simdjson::dom::element_type::INT64:
      w.value(value.get_int64().value());
      break;
    case simdjson::dom::element_type::UINT64:
      w.value(static_cast<double>(value.get_uint64().value()));
      break;
    case simdjson::dom::element_type::DOUBLE:
      w.value(value.get_double().value());
      break;
    case simdjson::dom::element_type::BOOL:
      w.value(value.get_bool().value());
      break;
    case simdjson::dom::element_type::NULL_VALUE:
      w.null();
      break;
  }
}

void log_line(const AvocadoOptions& options, const std::string& line) {
  if (options.log != nullptr) std::fprintf(options.log, "%s\n", line.c_str());
}

}  // namespace

EmailMessage parse_email(std::string_view bytes) {
  std::string text = normalise_newlines(text::drop_invalid_utf8(bytes));
  Part top = split_part(text);
  EmailMessage message;
  if (const std::string* subject = top.header("subject")) {
    message.subject = decode_header_value(*subject);
  }
  Texts texts;
  walk(text, texts, 0);
  std::vector<std::string> pieces = std::move(texts.plain);
  pieces.insert(pieces.end(), texts.html.begin(), texts.html.end());
  std::string body;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) body += "\n--- mail_boundary ---\n";
    body += pieces[i];
  }
  message.body = std::string(text::py_strip(body));
  return message;
}

AvocadoReport build_avocado(const AvocadoOptions& options) {
  AvocadoReport report;
  std::vector<std::unique_ptr<QuestionsFile>> files;
  std::unordered_set<std::string> needed;
  for (std::string_view part : kParts) {
    std::filesystem::path path = options.questions_dir / fmt::format("{}_questions.json", part);
    if (!std::filesystem::exists(path)) continue;
    auto file = std::make_unique<QuestionsFile>();
    file->part = std::string(part);
    file->path = path;
    file->json = read_file(path);
    if (auto error = file->parser.parse(file->json).get_array().get(file->samples)) {
      throw Error(
          Location{.file = path.string()},
          fmt::format("expected a JSON array of samples: {}", simdjson::error_message(error)));
    }
    std::size_t record = 0;
    for (simdjson::dom::element sample : file->samples) {
      needed.insert(std::string(string_field(*file, sample, record, "input")));
      simdjson::dom::array profile;
      if (sample["profile"].get(profile)) {
        throw Error(Location{.file = path.string(), .record = record, .field = "profile"},
                    "expected an array");
      }
      for (simdjson::dom::element item : profile) {
        needed.insert(std::string(string_field(*file, item, record, "text")));
      }
      ++record;
    }
    files.push_back(std::move(file));
  }
  if (files.empty()) {
    throw Error(Location{.file = options.questions_dir.string()},
                "no train_questions.json, dev_questions.json or test_questions.json here");
  }
  report.emails_needed = needed.size();

  std::vector<std::filesystem::path> archives;
  if (!std::filesystem::is_directory(options.avocado_dir)) {
    throw Error(Location{.file = options.avocado_dir.string()}, "not a folder");
  }
  for (const auto& entry : std::filesystem::directory_iterator(options.avocado_dir)) {
    if (entry.is_regular_file() && !entry.path().filename().string().starts_with(".")) {
      archives.push_back(entry.path());
    }
  }
  std::sort(archives.begin(), archives.end());
  std::unordered_map<std::string, EmailMessage> emails;
  for (const std::filesystem::path& archive : archives) {
    std::vector<ZipEntry> entries = read_zip_entries(archive, [&](std::string_view name) {
      // glob("*/*") after extraction: FOLDER/NAME, neither hidden.
      std::size_t slash = name.find('/');
      if (slash == std::string_view::npos || slash == 0 || name.front() == '.') return false;
      std::string_view base = name.substr(slash + 1);
      if (base.empty() || base.front() == '.' || base.find('/') != std::string_view::npos) {
        return false;
      }
      return needed.contains(std::string(base));
    });
    for (ZipEntry& entry : entries) {
      std::string base = entry.name.substr(entry.name.find('/') + 1);
      auto [it, inserted] = emails.insert_or_assign(std::move(base), parse_email(entry.bytes));
      if (!inserted) ++report.emails_duplicated;
    }
    ++report.archives;
    log_line(options, fmt::format("lamp: {}: {} e-mails used", archive.string(), entries.size()));
  }

  std::filesystem::create_directories(options.out_dir);
  for (const std::unique_ptr<QuestionsFile>& file : files) {
    auto email = [&](std::string_view name, std::size_t record, std::string field) {
      auto it = emails.find(std::string(name));
      if (it == emails.end()) {
        throw Error(Location{.file = file->path.string(), .record = record, .field = field},
                    fmt::format("e-mail \"{}\" is in none of the {} archives in {}", name,
                                archives.size(), options.avocado_dir.string()));
      }
      return &it->second;
    };
    JsonWriter questions, golds;
    questions.begin_array();
    golds.begin_object().key("task").value("LaMP_6").key("golds").begin_array();
    std::size_t record = 0;
    for (simdjson::dom::element sample : file->samples) {
      const EmailMessage* input =
          email(string_field(*file, sample, record, "input"), record, "input");
      questions.begin_object().key("id");
      write_value(questions, id_field(*file, sample, record));
      questions.key("input").value(std::string(kInputPrefix) + input->body);
      questions.key("profile").begin_array();
      std::size_t index = 0;
      for (simdjson::dom::element item : sample["profile"].get_array()) {
        const EmailMessage* past = email(string_field(*file, item, record, "text"), record,
                                         fmt::format("profile[{}].text", index));
        questions.begin_object();
        bool has_title = false;
        for (auto [key, value] : item.get_object()) {
          questions.key(key);
          if (key == "text") {
            questions.value(past->body);
          } else if (key == "title") {
            questions.value(past->subject);
            has_title = true;
          } else {
            write_value(questions, value);
          }
        }
        if (!has_title) questions.key("title").value(past->subject);
        questions.end_object();
        ++index;
      }
      questions.end_array().end_object();
      golds.begin_object().key("id");
      write_value(golds, id_field(*file, sample, record));
      golds.key("output").value(input->subject).end_object();
      ++record;
    }
    questions.end_array();
    golds.end_array().end_object();
    std::filesystem::path out = options.out_dir / fmt::format("{}_questions.json", file->part);
    write_file_atomic(out, questions.str());
    report.written.push_back(out);
    if (file->part != "test") {
      out = options.out_dir / fmt::format("{}_outputs.json", file->part);
      write_file_atomic(out, golds.str());
      report.written.push_back(out);
    }
    report.parts.push_back(file->part);
    log_line(options, fmt::format("lamp: {}: {} samples", file->part, record));
  }
  return report;
}

}  // namespace lamp
