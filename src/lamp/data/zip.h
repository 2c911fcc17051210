// Reading files inside zip archives: the JSON files, as eval_all.py does (extract, then glob
// "**/*.json"), skipping entries under "__MACOSX/" and AppleDouble "._*" files (metadata that
// macOS's archiver adds, which made the official script crash); or any entries a caller picks by
// name (the Avocado e-mails); and writing archives.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace lamp {

struct ZipEntry {
  std::string name;   // path inside the archive
  std::string bytes;  // uncompressed content
};

// Every "*.json" entry, in archive order. A missing or corrupt archive is a lamp::Error.
std::vector<ZipEntry> read_zip_json_entries(const std::filesystem::path& path);

// Every entry whose name `wanted` accepts, in archive order. Only those are decompressed.
std::vector<ZipEntry> read_zip_entries(const std::filesystem::path& path,
                                       const std::function<bool(std::string_view)>& wanted);

// Writes `entries` as a new zip archive at `path` (libzip builds it in a temporary file and
// renames it into place). lamp::Error naming the path on failure.
void write_zip(const std::filesystem::path& path, const std::vector<ZipEntry>& entries);

}  // namespace lamp
