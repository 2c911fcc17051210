#include "lamp/data/zip.h"

#include <fmt/format.h>
#include <zip.h>

#include <memory>

#include "lamp/core/error.h"

namespace lamp {
namespace {

bool is_json(std::string_view name) {
  if (!name.ends_with(".json") || name.starts_with("__MACOSX/")) return false;
  std::size_t slash = name.rfind('/');
  std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  return !base.starts_with("._");
}

}  // namespace

std::vector<ZipEntry> read_zip_json_entries(const std::filesystem::path& path) {
  return read_zip_entries(path, is_json);
}

std::vector<ZipEntry> read_zip_entries(const std::filesystem::path& path,
                                       const std::function<bool(std::string_view)>& wanted) {
  int code = 0;
  std::unique_ptr<zip_t, decltype(&zip_discard)> archive(zip_open(path.c_str(), ZIP_RDONLY, &code),
                                                         &zip_discard);
  if (!archive) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string message = zip_error_strerror(&error);
    zip_error_fini(&error);
    throw Error(Location{.file = path.string()}, "cannot open zip archive: " + message);
  }
  std::vector<ZipEntry> entries;
  zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    if (zip_stat_index(archive.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0) continue;
    std::string name = st.name;
    if (!wanted(name)) continue;
    std::unique_ptr<zip_file_t, decltype(&zip_fclose)> file(
        zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0), &zip_fclose);
    std::string bytes(st.size, '\0');
    if (!file ||
        zip_fread(file.get(), bytes.data(), st.size) != static_cast<zip_int64_t>(st.size)) {
      throw Error(Location{.file = path.string()},
                  fmt::format("cannot read entry \"{}\": {}", name, zip_strerror(archive.get())));
    }
    entries.push_back({std::move(name), std::move(bytes)});
  }
  return entries;
}

void write_zip(const std::filesystem::path& path, const std::vector<ZipEntry>& entries) {
  int code = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (archive == nullptr) {
    throw Error(Location{.file = path.string()}, "cannot create zip archive");
  }
  for (const ZipEntry& entry : entries) {
    // The buffers are read in zip_close(), while `entries` still holds them.
    zip_source_t* source = zip_source_buffer(archive, entry.bytes.data(), entry.bytes.size(), 0);
    if (source == nullptr || zip_file_add(archive, entry.name.c_str(), source,
                                          ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8) < 0) {
      if (source != nullptr) zip_source_free(source);
      std::string message = zip_strerror(archive);
      zip_discard(archive);
      throw Error(Location{.file = path.string()},
                  fmt::format("cannot add \"{}\": {}", entry.name, message));
    }
  }
  if (zip_close(archive) != 0) {
    std::string message = zip_strerror(archive);
    zip_discard(archive);
    throw Error(Location{.file = path.string()}, "cannot write zip archive: " + message);
  }
}

}  // namespace lamp
