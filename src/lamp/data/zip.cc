#include "lamp/data/zip.h"

#include <fmt/format.h>
#include <zip.h>

#include <memory>

#include "lamp/core/error.h"
#include "lamp/core/shared_library.h"

namespace lamp {
namespace {

bool is_json(std::string_view name) {
  if (!name.ends_with(".json") || name.starts_with("__MACOSX/")) return false;
  std::size_t slash = name.rfind('/');
  std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  return !base.starts_with("._");
}

// libzip's functions, loaded the first time an archive is read or written
// (core/shared_library.h says why).
struct Zip {
  decltype(&zip_open) open;
  decltype(&zip_discard) discard;
  decltype(&zip_close) close;
  decltype(&zip_strerror) strerror;
  decltype(&zip_error_init_with_code) error_init_with_code;
  decltype(&zip_error_strerror) error_strerror;
  decltype(&zip_error_fini) error_fini;
  decltype(&zip_get_num_entries) get_num_entries;
  decltype(&zip_stat_index) stat_index;
  decltype(&zip_fopen_index) fopen_index;
  decltype(&zip_fread) fread;
  decltype(&zip_fclose) fclose;
  decltype(&zip_source_buffer) source_buffer;
  decltype(&zip_source_free) source_free;
  decltype(&zip_file_add) file_add;
};

const Zip& zip() {
  static const Zip loaded = [] {
    SharedLibrary library("libzip.so.4");
    Zip z{};
    library.bind(z.open, "zip_open");
    library.bind(z.discard, "zip_discard");
    library.bind(z.close, "zip_close");
    library.bind(z.strerror, "zip_strerror");
    library.bind(z.error_init_with_code, "zip_error_init_with_code");
    library.bind(z.error_strerror, "zip_error_strerror");
    library.bind(z.error_fini, "zip_error_fini");
    library.bind(z.get_num_entries, "zip_get_num_entries");
    library.bind(z.stat_index, "zip_stat_index");
    library.bind(z.fopen_index, "zip_fopen_index");
    library.bind(z.fread, "zip_fread");
    library.bind(z.fclose, "zip_fclose");
    library.bind(z.source_buffer, "zip_source_buffer");
    library.bind(z.source_free, "zip_source_free");
    library.bind(z.file_add, "zip_file_add");
    return z;
  }();
  return loaded;
}

}  // namespace

std::vector<ZipEntry> read_zip_json_entries(const std::filesystem::path& path) {
  return read_zip_entries(path, is_json);
}

std::vector<ZipEntry> read_zip_entries(const std::filesystem::path& path,
                                       const std::function<bool(std::string_view)>& wanted) {
  const Zip& z = zip();
  int code = 0;
  std::unique_ptr<zip_t, decltype(&zip_discard)> archive(z.open(path.c_str(), ZIP_RDONLY, &code),
                                                         z.discard);
  if (!archive) {
    zip_error_t error;
    z.error_init_with_code(&error, code);
    std::string message = z.error_strerror(&error);
    z.error_fini(&error);
    throw Error(Location{.file = path.string()}, "cannot open zip archive: " + message);
  }
  std::vector<ZipEntry> entries;
  zip_int64_t count = z.get_num_entries(archive.get(), 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    if (z.stat_index(archive.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0) continue;
    std::string name = st.name;
    if (!wanted(name)) continue;
    std::unique_ptr<zip_file_t, decltype(&zip_fclose)> file(
        z.fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0), z.fclose);
    std::string bytes(st.size, '\0');
    if (!file || z.fread(file.get(), bytes.data(), st.size) != static_cast<zip_int64_t>(st.size)) {
      throw Error(Location{.file = path.string()},
                  fmt::format("cannot read entry \"{}\": {}", name, z.strerror(archive.get())));
    }
    entries.push_back({std::move(name), std::move(bytes)});
  }
  return entries;
}

void write_zip(const std::filesystem::path& path, const std::vector<ZipEntry>& entries) {
  const Zip& z = zip();
  int code = 0;
  zip_t* archive = z.open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (archive == nullptr) {
    throw Error(Location{.file = path.string()}, "cannot create zip archive");
  }
  for (const ZipEntry& entry : entries) {
    // The buffers are read in zip_close(), while `entries` still holds them.
    zip_source_t* source = z.source_buffer(archive, entry.bytes.data(), entry.bytes.size(), 0);
    if (source == nullptr ||
        z.file_add(archive, entry.name.c_str(), source, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8) < 0) {
      if (source != nullptr) z.source_free(source);
      std::string message = z.strerror(archive);
      z.discard(archive);
      throw Error(Location{.file = path.string()},
                  fmt::format("cannot add \"{}\": {}", entry.name, message));
    }
  }
  if (z.close(archive) != 0) {
    std::string message = z.strerror(archive);
    z.discard(archive);
    throw Error(Location{.file = path.string()}, "cannot write zip archive: " + message);
  }
}

}  // namespace lamp
