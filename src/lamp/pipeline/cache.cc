#include "lamp/pipeline/cache.h"

#include <fmt/format.h>

#include <system_error>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/retrieval/embedding_cache.h"

namespace lamp {

std::string content_hash(std::string_view bytes) {
  TextHash h = hash_text(bytes);
  return fmt::format("{:016x}{:016x}", h.hi, h.lo);
}

std::string file_hash(const std::filesystem::path& path) {
  MappedFile file(path, 0);
  return content_hash(std::string_view(file.data(), file.size()));
}

CacheKey::CacheKey(std::string_view kind) : kind_(kind) { add("kind", kind); }

CacheKey& CacheKey::add(std::string_view name, std::string_view value) {
  bytes_ += fmt::format("{}:{}={}:", name.size(), name, value.size());
  bytes_ += value;
  bytes_ += ';';
  return *this;
}

CacheKey& CacheKey::add(std::string_view name, std::int64_t value) {
  return add(name, std::string_view(std::to_string(value)));
}

CacheKey& CacheKey::add(std::string_view name, double value) {
  return add(name, std::string_view(format_double(value)));
}

std::string CacheKey::hex() const { return content_hash(bytes_); }

std::filesystem::path ContentCache::path_of(const CacheKey& key) const {
  std::string hex = key.hex();
  return dir_ / key.kind() / hex.substr(0, 2) / hex;
}

std::optional<std::string> ContentCache::get(const CacheKey& key) const {
  std::filesystem::path path = path_of(key);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  return read_file(path);
}

void ContentCache::put(const CacheKey& key, std::string_view bytes) const {
  std::filesystem::path path = path_of(key);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    throw Error(Location{.file = path.parent_path().string()},
                "cannot create the cache folder: " + ec.message());
  }
  write_file_atomic(path, bytes);
}

}  // namespace lamp
