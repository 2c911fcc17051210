// An on-disk cache of text embeddings, so that repeated runs and k sweeps never encode a text
// twice. One file per model: `<dir>/<hash of the embedder's cache_key()>.lampemb`, so vectors of
// different models (or of one model with different settings) never mix; the file's header repeats
// the full key and the dimension, and a file whose header disagrees is a lamp::Error.
//
// Texts are looked up by a 128-bit SipHash-2-4 of their bytes (hash_text); the text itself is not
// stored. A chance collision needs about 2^64 texts.
//
// File layout (little-endian, native floats):
//   header: "LAMPEMB1", u32 dim, u32 key length, the key, u64 checksum of the preceding bytes
//   blocks, appended one per add():
//     u32 block magic, u32 count, count x {u64 hash lo, u64 hash hi, u64 checksum of the vector},
//     u64 checksum of the block header so far, then count x dim floats.
// Crash safety: blocks are only ever appended, each with one write under an exclusive flock(2), so
// a run killed mid-write leaves at most a torn last block. Opening (and every add()) re-reads the
// blocks appended since, keeps the whole ones whose header checksum holds, and truncates the file
// after the last of them; a vector whose own checksum fails is a miss, encoded again and appended
// (later blocks win). Nothing is fsync'ed: after a power loss the cache may lose its last blocks,
// but it never returns a vector that was not written for that text. An unreadable file header is
// rewritten as an empty cache. Several processes may share one file: each sees its own additions
// at once and the others' on its next add() or when reopened.
//
// Thread-safety: find() may run concurrently with other find() calls; add() needs exclusive use.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace lamp {

struct TextHash {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  friend auto operator<=>(const TextHash&, const TextHash&) = default;
};

// SipHash-2-4 with a 128-bit output under the key (k0, k1): the reference `siphash` of Aumasson
// and Bernstein with outlen 16; `lo` holds output bytes 0-7 and `hi` bytes 8-15, little-endian.
TextHash siphash128(std::string_view bytes, std::uint64_t k0, std::uint64_t k1);

// The cache's key of a text: siphash128 under a fixed key.
TextHash hash_text(std::string_view text);

// Where caches live by default: $LAMP_CACHE_DIR/embeddings, else $XDG_CACHE_HOME/lamp/embeddings,
// else $HOME/.cache/lamp/embeddings (empty and relative values are ignored). lamp::Error when
// none is set.
std::filesystem::path default_embedding_cache_dir();

class EmbeddingCache {
 public:
  // Opens, or creates with its folders, the cache of `cache_key` in `dir`. lamp::Error naming the
  // path when it cannot be created, read or written, or holds another key or dimension.
  EmbeddingCache(const std::filesystem::path& dir, std::string_view cache_key, int dim);
  ~EmbeddingCache();
  EmbeddingCache(const EmbeddingCache&) = delete;
  EmbeddingCache& operator=(const EmbeddingCache&) = delete;

  const std::filesystem::path& path() const { return path_; }
  int dim() const { return dim_; }
  // Distinct texts with a stored vector.
  std::size_t size() const { return index_.size(); }
  // Bytes of torn or corrupt blocks cut off the file so far (0 unless a run was interrupted).
  std::size_t dropped_bytes() const { return dropped_bytes_; }

  // Copies the vector of the text with `hash` into `out` (dim() floats) and returns true; false
  // when the text is not cached or its stored vector fails its checksum.
  bool find(const TextHash& hash, std::span<float> out) const;

  // Stores vectors (hashes.size() x dim(), row-major) as one block, for find() and later runs.
  void add(std::span<const TextHash> hashes, std::span<const float> vectors);

 private:
  struct Entry {
    std::uint64_t offset;    // of the vector in the file
    std::uint64_t checksum;  // of its bytes
  };
  struct Hasher {
    std::size_t operator()(const TextHash& h) const { return static_cast<std::size_t>(h.lo); }
  };

  // Under the lock: indexes the whole blocks after scanned_end_, cuts off anything after them.
  void scan_new_blocks();

  std::filesystem::path path_;
  int dim_ = 0;
  int fd_ = -1;
  std::uint64_t scanned_end_ = 0;  // the end of the last whole block read or written
  std::size_t dropped_bytes_ = 0;
  std::unordered_map<TextHash, Entry, Hasher> index_;
};

}  // namespace lamp
