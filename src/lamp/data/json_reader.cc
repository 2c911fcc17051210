#include <fmt/format.h>
#include <simdjson.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/data/json_io.h"
#include "lamp/data/json_split.h"
#include "lamp/text/utf8.h"

namespace lamp {
namespace {

namespace od = simdjson::ondemand;

std::string_view type_name(od::json_type type) {
  switch (type) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "an unknown value";
}

// Where the parse is; turned into a Location when something goes wrong. Updating it is a few
// assignments (it runs for every field of every record); the field path is only formatted for
// an error.
struct Cursor {
  std::string file;
  std::optional<std::size_t> record;
  std::string_view record_id;          // a view into the result's arena
  std::string_view field;              // "profile"
  std::optional<std::size_t> element;  // index inside an array field: "profile[3]"
  std::string_view member;             // member of that element: "profile[3].text"

  void at(std::string_view name, std::optional<std::size_t> index = {},
          std::string_view member_name = {}) {
    field = name;
    element = index;
    member = member_name;
  }
  void start_record(std::size_t index) {
    record = index;
    record_id = {};
    at({});
  }
  std::string path() const {
    std::string out(field);
    if (element) out += fmt::format("[{}]", *element);
    if (!member.empty()) out += fmt::format(".{}", member);
    return out;
  }
  Location location() const {
    return Location{
        .file = file, .record = record, .record_id = std::string(record_id), .field = path()};
  }
  [[noreturn]] void fail(const std::string& message) const { throw Error(location(), message); }
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

// Unescapes a JSON string's content. Without escapes (nearly every string) the result is `raw`
// itself, a view into the input; with escapes it is written into the arena. simdjson has
// validated UTF-8 and string boundaries, not escapes: a bad escape is reported here. Lone
// surrogates (which Python's json accepts) become U+FFFD, since UTF-8 cannot carry them.
std::string_view unescape(std::string_view raw, Arena& arena, const Cursor& cursor) {
  if (std::memchr(raw.data(), '\\', raw.size()) == nullptr) return raw;
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
      case '"':
        out[n++] = '"';
        break;
      case '\\':
        out[n++] = '\\';
        break;
      case '/':
        out[n++] = '/';
        break;
      case 'b':
        out[n++] = '\b';
        break;
      case 'f':
        out[n++] = '\f';
        break;
      case 'n':
        out[n++] = '\n';
        break;
      case 'r':
        out[n++] = '\r';
        break;
      case 't':
        out[n++] = '\t';
        break;
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
  if (type == od::json_type::string || type == od::json_type::number) {
    // The token runs to the next structural character: drop the whitespace before it, and
    // for a string the quotes (no scan over the string itself).
    std::string_view token = value.raw_json_token();
    while (!token.empty() && is_json_space(token.back())) token.remove_suffix(1);
    if (type == od::json_type::number) return token;
    return unescape(token.substr(1, token.size() - 2), arena, cursor);
  }
  // Malformed atoms ("tru", "nul") look like booleans and nulls until parsed: parse them so
  // they are reported as invalid JSON with a byte offset, not as a wrong type.
  if (type == od::json_type::boolean) (void)bool(value.get_bool());
  if (type == od::json_type::null) (void)bool(value.is_null());
  cursor.fail(fmt::format("expected a string, found {}", type_name(type)));
}

// Whether a field's key is `name`, byte for byte (escapes not decoded, as simdjson's ==), compared
// inline: simdjson's == calls memcmp for every key as long as the name, which was most keys of
// every profile item. The byte after `name`'s length is inside the file's padding at worst.
bool key_is(od::raw_json_string key, std::string_view name) {
  const char* raw = key.raw();
  if (raw[name.size()] != '"') return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (raw[i] != name[i]) return false;
  }
  return true;
}

// A value or a document.
template <typename Value>
od::object object_of(Value& value, const Cursor& cursor, std::string_view what) {
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

// The first item whose id an earlier item has, or items.size(). `slots` is scratch: an
// open-addressing set of item indices by the ids' hashes, linear in the profile (sorting the
// hashes instead took 1.6 % of lamp rank on a 185-item profile set).
std::size_t first_duplicate_id(std::span<const ProfileItem> items,
                               std::vector<std::uint32_t>& slots) {
  std::size_t size = 16;
  while (size < 2 * items.size()) size *= 2;
  slots.assign(size, 0);  // 1 + item index, or 0
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (std::size_t slot = std::hash<std::string_view>{}(items[i].id) & (size - 1);;
         slot = (slot + 1) & (size - 1)) {
      if (slots[slot] == 0) {
        slots[slot] = static_cast<std::uint32_t>(i + 1);
        break;
      }
      if (items[slots[slot] - 1].id == items[i].id) return i;
    }
  }
  return items.size();
}

// Runs `parse` over the document in data[0, size) (capacity bytes readable), turning simdjson's
// errors into lamp::Errors with the byte offset and the record being read. Offsets count from
// `file`, where data is.
template <typename Parse>
void parse_document(od::parser& parser, const char* file, const char* data, std::size_t size,
                    std::size_t capacity, Cursor& cursor, Parse&& parse) {
  od::document doc;
  bool indexed = false;  // a file that fails the structural index (unbalanced brackets) has no doc
  try {
    doc = parser.iterate(simdjson::padded_string_view(data, size, capacity));
    indexed = true;
    parse(doc);
  } catch (const simdjson::simdjson_error& e) {
    Location where = cursor.location();
    if (indexed) {
      auto location = doc.current_location();
      if (!location.error()) where.byte_offset = static_cast<std::size_t>(location.value() - file);
    }
    throw Error(where, fmt::format("not valid JSON ({})", simdjson::error_message(e.error())));
  }
}

// Asks for transparent huge pages over the 2 MB-aligned part of a large allocation, cutting
// its page faults 512-fold (faults are the main cost of filling fresh memory on a VM).
void advise_huge_pages(void* data, std::size_t bytes) {
#ifdef MADV_HUGEPAGE
  constexpr std::uintptr_t kHuge = 2u << 20;
  auto begin = (reinterpret_cast<std::uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

// Copies `json` into the arena followed by simdjson's zero padding, so views into it (which the
// parse hands out) live as long as the arena.
std::string_view store_padded(std::string_view json, Arena& arena) {
  char* p = arena.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(p, json.data(), json.size());
  std::memset(p + json.size(), 0, simdjson::SIMDJSON_PADDING);
  return arena.commit(p, json.size() + simdjson::SIMDJSON_PADDING).substr(0, json.size());
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

namespace {

// read_questions, with an optional sink.
Questions read_questions_into(const std::filesystem::path& path, const TaskSpec* task,
                              SampleSink* sink) {
  auto mapped = std::make_shared<MappedFile>(path, simdjson::SIMDJSON_PADDING);
  MappedFile& file = *mapped;
  Cursor cursor{.file = path.string()};
  Arena arena;
  std::vector<Sample> samples;
  std::vector<ProfileItem> items;
  bool has_dates = false;
  std::unordered_map<std::string_view, std::size_t> sample_index;
  std::vector<std::uint32_t> id_slots;  // first_duplicate_id's scratch
  // Untouched capacity costs address space, not memory: reserving for the smallest plausible
  // items (32 bytes of JSON each) saves regrowing a vector of millions of items.
  items.reserve(file.size() / 32);
  advise_huge_pages(items.data(), items.capacity() * sizeof(ProfileItem));

  auto read_item = [&](od::value value, std::size_t position) {
    cursor.at("profile", position);
    od::object object = object_of(value, cursor, "a profile item");
    ProfileItem item;
    unsigned seen = 0;  // bit i: profile_fields[i]; bit 31: id
    const std::size_t n_fields = task->profile_fields.size();
    for (od::field field : object) {
      od::raw_json_string key = field.key();
      if (key_is(key, "id")) {
        cursor.at("profile", position, "id");
        // Copied out of the file (a few bytes an item): a ranking file is written from the ids
        // after the parse has let the file's pages go (release_before below), and faulting
        // those pages back in to read the ids cost far more than the copies.
        item.id = arena.store(scalar(field.value(), arena, cursor));
        seen |= 1u << 31;
      } else if (key_is(key, "date")) {
        cursor.at("profile", position, "date");
        item.date = scalar(field.value(), arena, cursor);
        has_dates = true;
      } else {
        for (std::size_t i = 0; i < n_fields; ++i) {
          if (key_is(key, task->profile_fields[i])) {
            cursor.at("profile", position, task->profile_fields[i]);
            od::value field_value = field.value();
            // null is kept (official code formats it as "None"); see dataset.h.
            item.fields[i] =
                field_value.is_null() ? null_field() : scalar(field_value, arena, cursor);
            seen |= 1u << i;
            break;
          }
        }
      }
    }
    if (!(seen & (1u << 31))) {
      cursor.at("profile", position, "id");
      cursor.fail("missing field");
    }
    for (std::size_t i = 0; i < n_fields; ++i) {
      if (!(seen & (1u << i))) {
        cursor.at("profile", position, task->profile_fields[i]);
        cursor.fail(fmt::format("missing field (a {} profile item has {})", task->name,
                                fmt::join(task->profile_fields, ", ")));
      }
    }
    if (sink != nullptr && items.size() == items.capacity()) sink->release_profiles();
    items.push_back(item);
  };

  // Sample `index`, a document that ends at byte `end` of the file.
  auto read_sample = [&](od::document& doc, std::size_t index, std::size_t end) {
    od::object sample = object_of(doc, cursor, "a sample");
    Sample s{.profile_begin = items.size()};
    bool has_id = false, has_input = false, has_profile = false;
    for (od::field field : sample) {
      od::raw_json_string key = field.key();
      if (key_is(key, "id")) {
        cursor.at("id");
        // Copied, as profile ids are: the ranking file is written after the file's pages
        // have been let go.
        s.id = arena.store(scalar(field.value(), arena, cursor));
        cursor.record_id = s.id;
        has_id = true;
      } else if (key_is(key, "input")) {
        cursor.at("input");
        s.input = scalar(field.value(), arena, cursor);
        has_input = true;
        if (task == nullptr) {
          task = recognise_task(s.input);
          if (task == nullptr) cursor.fail("cannot tell which LaMP task this is: pass --task");
        }
      } else if (key_is(key, "profile")) {
        cursor.at("profile");
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
    if (!has_id || !has_input || !has_profile) {
      cursor.at(!has_id ? "id" : !has_input ? "input" : "profile");
      cursor.fail("missing field");
    }
    s.profile_size = items.size() - s.profile_begin;
    if (s.profile_size == 0) {
      cursor.at("profile");
      cursor.fail("empty profile (a LaMP sample needs at least one profile item)");
    }
    const auto profile = std::span(items).subspan(s.profile_begin);
    if (std::size_t i = first_duplicate_id(profile, id_slots); i < profile.size()) {
      cursor.at("profile", i, "id");
      cursor.fail(fmt::format("duplicate profile id \"{}\" in this sample", profile[i].id));
    }
    auto [it, inserted] = sample_index.emplace(s.id, index);
    if (!inserted) {
      cursor.at("id");
      cursor.fail(fmt::format("duplicate sample id (also record {})", it->second));
    }
    samples.push_back(s);
    // The splitter ends an element at a comma: "{...} {...}" is one element.
    if (!doc.current_location().error()) {
      cursor.at({});
      cursor.fail("not valid JSON (a comma is missing after this sample)");
    }
    if (sink != nullptr) {
      sink->take(*task, index, s, std::span(items).subspan(s.profile_begin), end);
    }
  };

  try {
    // Each sample is parsed as its own document as soon as the splitter has found it (see
    // json_split.h): its structural index is built while its bytes are in cache, and the first
    // sample reaches the sink without waiting for the index of the whole file.
    JsonArraySplitter splitter(std::string_view(file.data(), file.size()));
    if (!splitter.is_array()) cursor.fail("expected a JSON array of samples");
    static_assert(simdjson::SIMDJSON_PADDING >= JsonArraySplitter::kPadding);
    od::parser parser;
    for (std::size_t index = 0;; ++index) {
      std::string_view element;
      try {
        if (!splitter.next(element)) break;
      } catch (const Error& e) {
        throw Error(Location{.file = path.string(), .byte_offset = e.where().byte_offset},
                    e.message());
      }
      cursor.start_record(index);
      const auto begin = static_cast<std::size_t>(element.data() - file.data());
      const std::size_t end = begin + element.size();
      parse_document(parser, file.data(), element.data(), element.size(),
                     file.size() + simdjson::SIMDJSON_PADDING - begin, cursor,
                     [&](od::document& doc) { read_sample(doc, index, end); });
      // Let the pages already parsed leave the resident set; the views into them stay valid
      // (the kernel maps them back from the page cache when they are read).
      if ((index + 1) % 256 == 0) file.release_before(file.data() + end);
    }
  } catch (...) {
    // The sink may still be reading the samples it took: it must let go of them while the file
    // and the items they view are alive.
    if (sink != nullptr) sink->release_profiles();
    throw;
  }
  if (task == nullptr) {
    throw Error(Location{.file = path.string()}, "no samples: cannot tell which task; pass --task");
  }
  return Questions(*task, std::move(arena), std::move(samples), std::move(items), has_dates,
                   std::move(mapped));
}

}  // namespace

Questions read_questions(const std::filesystem::path& path, const TaskSpec* task) {
  return read_questions_into(path, task, nullptr);
}

Questions read_questions(const std::filesystem::path& path, const TaskSpec* task,
                         SampleSink& sink) {
  return read_questions_into(path, task, &sink);
}

Outputs parse_outputs(std::string_view json, const std::string& name) {
  Cursor cursor{.file = name};
  Outputs outputs;
  outputs.source = name;
  std::string_view padded = store_padded(json, outputs.arena);
  od::parser parser;
  parse_document(
      parser, padded.data(), padded.data(), padded.size(),
      padded.size() + simdjson::SIMDJSON_PADDING, cursor, [&](od::document& doc) {
        auto read_records = [&](od::array records) {
          std::size_t index = 0;
          for (od::value value : records) {
            cursor.start_record(index);
            od::object record = object_of(value, cursor, "an {\"id\", \"output\"} record");
            Output out;
            bool has_id = false, has_output = false;
            for (od::field field : record) {
              od::raw_json_string key = field.key();
              if (key_is(key, "id")) {
                cursor.at("id");
                out.id = scalar(field.value(), outputs.arena, cursor);
                cursor.record_id = out.id;
                has_id = true;
              } else if (key_is(key, "output")) {
                cursor.at("output");
                out.output = scalar(field.value(), outputs.arena, cursor);
                has_output = true;
              }
            }
            if (!has_id || !has_output) {
              cursor.at(!has_id ? "id" : "output");
              cursor.fail("missing field");
            }
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
          if (key_is(key, "task")) {
            cursor.at("task");
            Arena scratch;
            outputs.task = std::string(scalar(field.value(), scratch, cursor));
          } else if (key_is(key, "golds")) {
            cursor.at("golds");
            read_records(array_of(field.value(), cursor, "the records"));
            has_golds = true;
          }
        }
        if (!has_golds) {
          cursor.record.reset();
          cursor.record_id = {};
          cursor.at("golds");
          cursor.fail("missing field");
        }
      });
  return outputs;
}

Outputs read_outputs(const std::filesystem::path& path) {
  MappedFile file(path, 0);
  return parse_outputs(std::string_view(file.data(), file.size()), path.string());
}

Ranking read_ranking(const std::filesystem::path& path) {
  Cursor cursor{.file = path.string()};
  Ranking ranking;
  std::string_view json;
  {
    MappedFile file(path, 0);
    json = store_padded(std::string_view(file.data(), file.size()), ranking.arena);
  }
  std::unordered_set<std::string_view> seen;
  od::parser parser;
  parse_document(
      parser, json.data(), json.data(), json.size(), json.size() + simdjson::SIMDJSON_PADDING,
      cursor, [&](od::document& doc) {
        if (doc.type() != od::json_type::object) {
          cursor.fail("expected a JSON object {\"<sample id>\": [\"<profile id>\", ...]}");
        }
        std::size_t index = 0;
        for (od::field field : doc.get_object()) {
          cursor.start_record(index);
          Ranking::Entry entry;
          entry.sample_id = unescape(escaped_content(field.key().raw()), ranking.arena, cursor);
          cursor.record_id = entry.sample_id;
          if (!seen.insert(entry.sample_id).second) cursor.fail("duplicate sample id");
          std::size_t position = 0;
          for (od::value id : array_of(field.value(), cursor, "the ranked profile ids")) {
            cursor.at("", position++);
            entry.profile_ids.push_back(scalar(id, ranking.arena, cursor));
          }
          ranking.entries.push_back(std::move(entry));
          ++index;
        }
      });
  return ranking;
}

}  // namespace lamp
