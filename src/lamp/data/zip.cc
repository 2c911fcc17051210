#include "lamp/data/zip.h"

#include <fmt/format.h>
#include <zip.h>

#include <memory>

#include "lamp/core/error.h"

namespace lamp {
namespace {

bool wanted(std::string_view name) {
  if (!name.ends_with(".json") || name.starts_with("__MACOSX/")) return false;
  std::size_t slash = name.rfind('/');
  std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  return !base.starts_with("._");
}

}  // namespace

std::vector<ZipEntry> read_zip_json_entries(const std::filesystem::path& path) {
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

}  // namespace lamp
