#include <fmt/format.h>
#include <simdjson.h>

#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/data/json_io.h"
#include "lamp/text/utf8.h"

namespace lamp {
namespace {

namespace od = simdjson::ondemand;

std::string_view type_name(od::json_type type) {
  switch (type) {
    case od::json_type::array: return "an array";
    case od::json_type::object: return "an object";
    case od::json_type::number: return "a number";
    case od::json_type::string: return "a string";
    case od::json_type::boolean: return "a boolean";
    case od::json_type::null: return "null";
  }
  return "an unknown value";
}

// Where the parse is; turned into a Location when something goes wrong.
struct Cursor {
  std::string file;
  const char* base = nullptr;
  std::optional<std::size_t> record;
  std::string record_id;
  std::string field;

  [[noreturn]] void fail(const std::string& message) const {
    throw Error(Location{.file = file, .record = record, .record_id = record_id, .field = field},
                message);
  }
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The escaped content of a JSON string whose opening quote is just before `begin`.
std::string_view escaped_content(const char* begin) {
  const char* p = begin;
  while (*p != '"') p += (*p == '\\') ? 2 : 1;
  return {begin, static_cast<std::size_t>(p - begin)};
}

// Unescapes a JSON string's content into the arena. simdjson has validated UTF-8 and string
// boundaries, not escapes: a bad escape is reported here. Lone surrogates (which Python's json
// accepts) become U+FFFD, since UTF-8 cannot carry them.
std::string_view unescape(std::string_view raw, Arena& arena, const Cursor& cursor) {
  if (std::memchr(raw.data(), '\\', raw.size()) == nullptr) return arena.store(raw);
  char* out = arena.reserve(raw.size());
  std::size_t n = 0;
  auto read_hex4 = [&](std::size_t at) -> int {
    if (at + 4 > raw.size()) return -1;
    int v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      int h = hex_value(raw[at + k]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    return v;
  };
  for (std::size_t i = 0; i < raw.size();) {
    char c = raw[i];
    if (c != '\\') {
      out[n++] = c;
      ++i;
      continue;
    }
    char e = raw[i + 1];
    i += 2;
    switch (e) {
      case '"': out[n++] = '"'; break;
      case '\\': out[n++] = '\\'; break;
      case '/': out[n++] = '/'; break;
      case 'b': out[n++] = '\b'; break;
      case 'f': out[n++] = '\f'; break;
      case 'n': out[n++] = '\n'; break;
      case 'r': out[n++] = '\r'; break;
      case 't': out[n++] = '\t'; break;
      case 'u': {
        int u = read_hex4(i);
        if (u < 0) cursor.fail("bad \\u escape in string");
        i += 4;
        char32_t cp = static_cast<char32_t>(u);
        if (u >= 0xD800 && u <= 0xDBFF && i + 1 < raw.size() && raw[i] == '\\' &&
            raw[i + 1] == 'u') {
          int low = read_hex4(i + 2);
          if (low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((static_cast<char32_t>(u) - 0xD800) << 10) +
                 (static_cast<char32_t>(low) - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        // A \uXXXX escape (6 bytes) never encodes to more than 3 bytes, a pair (12) to 4.
        std::string utf8;
        text::append_utf8(utf8, cp);
        std::memcpy(out + n, utf8.data(), utf8.size());
        n += utf8.size();
        break;
      }
      default:
        cursor.fail(fmt::format("bad escape \"\\{}\" in string", e));
    }
  }
  return arena.commit(out, n);
}

// A string value, or a number kept as its JSON text (ids are sometimes numbers).
std::string_view scalar(od::value value, Arena& arena, const Cursor& cursor) {
  od::json_type type = value.type();
  if (type == od::json_type::string) {
    std::string_view token = value.raw_json_token();
    return unescape(escaped_content(token.data() + 1), arena, cursor);
  }
  if (type == od::json_type::number) {
    std::string_view token = value.raw_json_token();
    while (!token.empty() && std::strchr(" \t\r\n", token.back()) != nullptr) token.remove_suffix(1);
    return arena.store(token);
  }
  // Malformed atoms ("tru", "nul") look like booleans and nulls until parsed: parse them so
  // they are reported as invalid JSON with a byte offset, not as a wrong type.
  if (type == od::json_type::boolean) (void)bool(value.get_bool());
  if (type == od::json_type::null) (void)bool(value.is_null());
  cursor.fail(fmt::format("expected a string, found {}", type_name(type)));
}

od::object object_of(od::value value, const Cursor& cursor, std::string_view what) {
  od::json_type type = value.type();
  if (type != od::json_type::object) {
    cursor.fail(fmt::format("expected {} (a JSON object), found {}", what, type_name(type)));
  }
  return value.get_object();
}

od::array array_of(od::value value, const Cursor& cursor, std::string_view what) {
  od::json_type type = value.type();
  if (type != od::json_type::array) {
    cursor.fail(fmt::format("expected {} (a JSON array), found {}", what, type_name(type)));
  }
  return value.get_array();
}

// Runs `parse` over the file's document, turning simdjson's errors into lamp::Errors with the
// byte offset and the record being read.
template <typename Parse>
void parse_document(const char* data, std::size_t size, std::size_t capacity, Cursor& cursor,
                    Parse&& parse) {
  od::parser parser;
  od::document doc;
  cursor.base = data;
  try {
    doc = parser.iterate(simdjson::padded_string_view(data, size, capacity));
    parse(doc);
  } catch (const simdjson::simdjson_error& e) {
    Location where{.file = cursor.file, .record = cursor.record, .record_id = cursor.record_id,
                   .field = cursor.field};
    auto location = doc.current_location();
    if (!location.error()) where.byte_offset = static_cast<std::size_t>(location.value() - data);
    throw Error(where, fmt::format("not valid JSON ({})", simdjson::error_message(e.error())));
  }
}

}  // namespace

const TaskSpec* recognise_task(std::string_view input) {
  const TaskSpec* found = nullptr;
  std::size_t best = 0;
  for (const TaskSpec& task : all_tasks()) {
    std::string_view prefix = task.input_template.substr(0, task.input_template.find("{}"));
    if (input.starts_with(prefix) && prefix.size() > best) {
      found = &task;
      best = prefix.size();
    }
  }
  return found;
}

Questions read_questions(const std::filesystem::path& path, const TaskSpec* task) {
  MappedFile file(path, simdjson::SIMDJSON_PADDING);
  Cursor cursor{.file = path.string()};
  Arena arena;
  std::vector<Sample> samples;
  std::vector<ProfileItem> items;
  bool has_dates = false;
  std::unordered_map<std::string_view, std::size_t> sample_index;
  std::unordered_set<std::string_view> profile_ids;

  auto read_item = [&](od::value value, std::size_t position) {
    cursor.field = fmt::format("profile[{}]", position);
    od::object object = object_of(value, cursor, "a profile item");
    ProfileItem item;
    unsigned seen = 0;  // bit i: profile_fields[i]; bit 31: id
    const std::size_t n_fields = task->profile_fields.size();
    for (od::field field : object) {
      od::raw_json_string key = field.key();
      if (key == "id") {
        cursor.field = fmt::format("profile[{}].id", position);
        item.id = scalar(field.value(), arena, cursor);
        seen |= 1u << 31;
      } else if (key == "date") {
        cursor.field = fmt::format("profile[{}].date", position);
        item.date = scalar(field.value(), arena, cursor);
        has_dates = true;
      } else {
        for (std::size_t i = 0; i < n_fields; ++i) {
          if (key == task->profile_fields[i]) {
            cursor.field = fmt::format("profile[{}].{}", position, task->profile_fields[i]);
            item.fields[i] = scalar(field.value(), arena, cursor);
            seen |= 1u << i;
            break;
          }
        }
      }
    }
    if (!(seen & (1u << 31))) {
      cursor.field = fmt::format("profile[{}].id", position);
      cursor.fail("missing field");
    }
    for (std::size_t i = 0; i < n_fields; ++i) {
      if (!(seen & (1u << i))) {
        cursor.field = fmt::format("profile[{}].{}", position, task->profile_fields[i]);
        cursor.fail(fmt::format("missing field (a {} profile item has {})", task->name,
                                fmt::join(task->profile_fields, ", ")));
      }
    }
    if (!profile_ids.insert(item.id).second) {
      cursor.field = fmt::format("profile[{}].id", position);
      cursor.fail(fmt::format("duplicate profile id \"{}\" in this sample", item.id));
    }
    items.push_back(item);
  };

  parse_document(file.data(), file.size(), file.size() + simdjson::SIMDJSON_PADDING, cursor,
                 [&](od::document& doc) {
    if (doc.type() != od::json_type::array) cursor.fail("expected a JSON array of samples");
    std::size_t index = 0;
    for (od::value sample_value : doc.get_array()) {
      cursor.record = index;
      cursor.record_id.clear();
      cursor.field.clear();
      od::object sample = object_of(sample_value, cursor, "a sample");
      Sample s{.profile_begin = items.size()};
      bool has_id = false, has_input = false, has_profile = false;
      profile_ids.clear();
      for (od::field field : sample) {
        od::raw_json_string key = field.key();
        if (key == "id") {
          cursor.field = "id";
          s.id = scalar(field.value(), arena, cursor);
          cursor.record_id = std::string(s.id);
          has_id = true;
        } else if (key == "input") {
          cursor.field = "input";
          s.input = scalar(field.value(), arena, cursor);
          has_input = true;
          if (task == nullptr) {
            task = recognise_task(s.input);
            if (task == nullptr) cursor.fail("cannot tell which LaMP task this is: pass --task");
          }
        } else if (key == "profile") {
          cursor.field = "profile";
          if (task == nullptr) {
            cursor.fail("cannot tell which LaMP task this is before its profile: pass --task");
          }
          std::size_t position = 0;
          for (od::value item : array_of(field.value(), cursor, "the profile")) {
            read_item(item, position++);
          }
          has_profile = true;
        }
      }
      cursor.field.clear();
      if (!has_id) cursor.field = "id";
      else if (!has_input) cursor.field = "input";
      else if (!has_profile) cursor.field = "profile";
      if (!cursor.field.empty()) cursor.fail("missing field");
      s.profile_size = items.size() - s.profile_begin;
      if (s.profile_size == 0) {
        cursor.field = "profile";
        cursor.fail("empty profile (a LaMP sample needs at least one profile item)");
      }
      auto [it, inserted] = sample_index.emplace(s.id, index);
      if (!inserted) {
        cursor.field = "id";
        cursor.fail(fmt::format("duplicate sample id (also record {})", it->second));
      }
      samples.push_back(s);
      ++index;
      // Parsed text now lives in the arena: let the file's pages go as we pass them.
      if (index % 256 == 0) file.release_before(doc.current_location().value());
    }
  });
  if (task == nullptr) {
    throw Error(Location{.file = path.string()}, "no samples: cannot tell which task; pass --task");
  }
  return Questions(*task, std::move(arena), std::move(samples), std::move(items), has_dates);
}

Outputs parse_outputs(std::string_view json, const std::string& name) {
  simdjson::padded_string padded(json);
  Cursor cursor{.file = name};
  Outputs outputs;
  outputs.source = name;
  parse_document(padded.data(), padded.size(), padded.size() + simdjson::SIMDJSON_PADDING, cursor,
                 [&](od::document& doc) {
    auto read_records = [&](od::array records) {
      std::size_t index = 0;
      for (od::value value : records) {
        cursor.record = index;
        cursor.record_id.clear();
        cursor.field.clear();
        od::object record = object_of(value, cursor, "an {\"id\", \"output\"} record");
        Output out;
        bool has_id = false, has_output = false;
        for (od::field field : record) {
          od::raw_json_string key = field.key();
          if (key == "id") {
            cursor.field = "id";
            out.id = scalar(field.value(), outputs.arena, cursor);
            cursor.record_id = std::string(out.id);
            has_id = true;
          } else if (key == "output") {
            cursor.field = "output";
            out.output = scalar(field.value(), outputs.arena, cursor);
            has_output = true;
          }
        }
        cursor.field = !has_id ? "id" : !has_output ? "output" : "";
        if (!cursor.field.empty()) cursor.fail("missing field");
        outputs.records.push_back(out);
        ++index;
      }
    };
    od::json_type type = doc.type();
    if (type == od::json_type::array) {
      read_records(doc.get_array());
      return;
    }
    if (type != od::json_type::object) {
      cursor.fail(fmt::format("expected {{\"task\", \"golds\"}} or a list of records, found {}",
                              type_name(type)));
    }
    bool has_golds = false;
    for (od::field field : doc.get_object()) {
      od::raw_json_string key = field.key();
      if (key == "task") {
        cursor.field = "task";
        Arena scratch;
        outputs.task = std::string(scalar(field.value(), scratch, cursor));
      } else if (key == "golds") {
        cursor.field = "golds";
        read_records(array_of(field.value(), cursor, "the records"));
        has_golds = true;
      }
    }
    cursor.record.reset();
    cursor.record_id.clear();
    cursor.field = "golds";
    if (!has_golds) cursor.fail("missing field");
  });
  return outputs;
}

Outputs read_outputs(const std::filesystem::path& path) {
  MappedFile file(path, 0);
  return parse_outputs(std::string_view(file.data(), file.size()), path.string());
}

Ranking read_ranking(const std::filesystem::path& path) {
  MappedFile file(path, simdjson::SIMDJSON_PADDING);
  Cursor cursor{.file = path.string()};
  Ranking ranking;
  std::unordered_set<std::string_view> seen;
  parse_document(file.data(), file.size(), file.size() + simdjson::SIMDJSON_PADDING, cursor,
                 [&](od::document& doc) {
    if (doc.type() != od::json_type::object) {
      cursor.fail("expected a JSON object {\"<sample id>\": [\"<profile id>\", ...]}");
    }
    std::size_t index = 0;
    for (od::field field : doc.get_object()) {
      cursor.record = index;
      cursor.field.clear();
      Ranking::Entry entry;
      entry.sample_id = unescape(escaped_content(field.key().raw()), ranking.arena, cursor);
      cursor.record_id = std::string(entry.sample_id);
      if (!seen.insert(entry.sample_id).second) cursor.fail("duplicate sample id");
      std::size_t position = 0;
      for (od::value id : array_of(field.value(), cursor, "the ranked profile ids")) {
        cursor.field = fmt::format("[{}]", position++);
        entry.profile_ids.push_back(scalar(id, ranking.arena, cursor));
      }
      ranking.entries.push_back(std::move(entry));
      ++index;
    }
  });
  return ranking;
}

}  // namespace lamp
