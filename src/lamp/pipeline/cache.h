// Content-hash caching for lamp run: every intermediate result (a ranking, a cell's prompts, a
// chunk of model outputs) is stored under a key that hashes exactly what it depends on, so a
// re-run finds everything, a changed input or setting misses only what depends on it, and an
// interrupted run resumes from the entries already written.
//
// A key is a 128-bit SipHash-2-4 (retrieval/embedding_cache.h) of named parts, each written as
// "<name length>:<name>=<value length>:<value>;" so that no two different part lists hash the
// same bytes. Entries live at DIR/<kind>/<first two hex digits>/<32 hex digits>, written with
// AtomicFile (temporary file, then rename), so an entry is whole or absent, even after SIGKILL.
//
// Thread-safety: distinct keys may be stored concurrently; a CacheKey is not shared.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace lamp {

// 32 lowercase hex digits of the 128-bit SipHash of `bytes`.
std::string content_hash(std::string_view bytes);
// content_hash of a file's bytes; lamp::Error naming the file when it cannot be read.
std::string file_hash(const std::filesystem::path& path);

class CacheKey {
 public:
  // `kind` ("ranking", "prompts", "outputs") is the first part and names the entry's folder.
  explicit CacheKey(std::string_view kind);
  CacheKey& add(std::string_view name, std::string_view value);
  CacheKey& add(std::string_view name, std::int64_t value);
  CacheKey& add(std::string_view name, double value);
  const std::string& kind() const { return kind_; }
  // The key's 32 hex digits.
  std::string hex() const;

 private:
  std::string kind_;
  std::string bytes_;
};

class ContentCache {
 public:
  // Folders are created on the first put().
  explicit ContentCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path path_of(const CacheKey& key) const;
  // The entry's bytes, or nullopt when there is none.
  std::optional<std::string> get(const CacheKey& key) const;
  void put(const CacheKey& key, std::string_view bytes) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace lamp
