// Reading the JSON files inside a zip archive, as eval_all.py does (extract, then glob
// "**/*.json"). Entries under "__MACOSX/" and AppleDouble "._*" files (metadata that macOS's
// archiver adds, which made the official script crash) are skipped.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace lamp {

struct ZipEntry {
  std::string name;   // path inside the archive
  std::string bytes;  // uncompressed content
};

// Every "*.json" entry, in archive order. A missing or corrupt archive is a lamp::Error.
std::vector<ZipEntry> read_zip_json_entries(const std::filesystem::path& path);

}  // namespace lamp
