#include "lamp/retrieval/embedding_cache.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "lamp/core/error.h"

namespace lamp {
namespace {

// The file stores native integers and floats; every platform lamp targets is little-endian.
static_assert(std::endian::native == std::endian::little);

constexpr char kMagic[8] = {'L', 'A', 'M', 'P', 'E', 'M', 'B', '1'};
constexpr std::uint32_t kBlockMagic = 0x4B4C4245;  // "EBLK"
// Bounds a corrupt count, so a damaged header cannot make the scan read far past the block.
constexpr std::uint32_t kMaxBlockCount = 1u << 20;
constexpr std::uint64_t kEntryBytes = 24;  // hash lo, hash hi, vector checksum
// Fixed SipHash keys (any constants do; changing one orphans every existing cache).
constexpr std::uint64_t kTextKey0 = 0x6c616d7074657874ull, kTextKey1 = 0x0f1e2d3c4b5a6978ull;
constexpr std::uint64_t kSumKey0 = 0x6c616d7073756d73ull, kSumKey1 = 0x8796a5b4c3d2e1f0ull;

std::uint64_t load64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::uint32_t load32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

template <typename T>
void append(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

std::uint64_t checksum(std::string_view bytes) { return siphash128(bytes, kSumKey0, kSumKey1).lo; }

std::string file_header(std::string_view cache_key, int dim) {
  std::string header(kMagic, sizeof kMagic);
  append(header, static_cast<std::uint32_t>(dim));
  append(header, static_cast<std::uint32_t>(cache_key.size()));
  header += cache_key;
  append(header, checksum(header));
  return header;
}

[[noreturn]] void throw_errno(const std::filesystem::path& path, std::string_view what) {
  throw Error(Location{.file = path.string()}, fmt::format("{}: {}", what, std::strerror(errno)));
}

void read_at(int fd, const std::filesystem::path& path, std::uint64_t offset, char* out,
             std::size_t size) {
  while (size > 0) {
    ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(path, "cannot read the embedding cache");
    if (n == 0) throw Error(Location{.file = path.string()}, "embedding cache ended early");
    out += n;
    offset += static_cast<std::uint64_t>(n);
    size -= static_cast<std::size_t>(n);
  }
}

// Writes all of `bytes` at `offset`; on failure cuts the file back to `offset` (so no partial
// block stays behind) and throws.
void write_at(int fd, const std::filesystem::path& path, std::uint64_t offset,
              std::string_view bytes) {
  std::uint64_t at = offset;
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int saved = errno;
      [[maybe_unused]] int ignored = ::ftruncate(fd, static_cast<off_t>(offset));
      errno = saved;
      throw_errno(path, "cannot write the embedding cache");
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    at += static_cast<std::uint64_t>(n);
  }
}

std::uint64_t file_size(int fd, const std::filesystem::path& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) throw_errno(path, "cannot stat the embedding cache");
  return static_cast<std::uint64_t>(st.st_size);
}

void truncate_to(int fd, const std::filesystem::path& path, std::uint64_t size) {
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    throw_errno(path, "cannot truncate the embedding cache");
  }
}

// An exclusive flock(2) for the scope: writers and scanners of one file take turns, across
// processes.
class FileLock {
 public:
  FileLock(int fd, const std::filesystem::path& path) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) throw_errno(path, "cannot lock the embedding cache");
    }
  }
  ~FileLock() { ::flock(fd_, LOCK_UN); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

// A set, absolute environment variable, else empty.
std::filesystem::path env_dir(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || value[0] != '/') return {};
  return value;
}

}  // namespace

TextHash siphash128(std::string_view bytes, std::uint64_t k0, std::uint64_t k1) {
  std::uint64_t v0 = 0x736f6d6570736575ull ^ k0;
  std::uint64_t v1 = 0x646f72616e646f6dull ^ k1 ^ 0xee;  // 0xee: the 128-bit variant
  std::uint64_t v2 = 0x6c7967656e657261ull ^ k0;
  std::uint64_t v3 = 0x7465646279746573ull ^ k1;
  auto round = [&] {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  };
  auto compress = [&](std::uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  };
  const std::size_t whole = bytes.size() & ~std::size_t{7};
  for (std::size_t i = 0; i < whole; i += 8) compress(load64(bytes.data() + i));
  std::uint64_t last = static_cast<std::uint64_t>(bytes.size()) << 56;
  for (std::size_t i = whole; i < bytes.size(); ++i) {
    last |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * (i - whole));
  }
  compress(last);
  auto finish = [&](std::uint64_t flag) {
    v2 ^= flag;
    for (int i = 0; i < 4; ++i) round();
    return v0 ^ v1 ^ v2 ^ v3;
  };
  TextHash h;
  h.lo = finish(0xee);
  v1 ^= 0xdd;
  h.hi = finish(0);
  return h;
}

TextHash hash_text(std::string_view text) { return siphash128(text, kTextKey0, kTextKey1); }

std::filesystem::path default_embedding_cache_dir() {
  if (auto dir = env_dir("LAMP_CACHE_DIR"); !dir.empty()) return dir / "embeddings";
  if (auto dir = env_dir("XDG_CACHE_HOME"); !dir.empty()) return dir / "lamp" / "embeddings";
  if (auto dir = env_dir("HOME"); !dir.empty()) return dir / ".cache" / "lamp" / "embeddings";
  throw Error(
      "no folder for the embedding cache: set LAMP_CACHE_DIR or HOME, or pass --embedding-cache "
      "DIR or --no-embedding-cache");
}

EmbeddingCache::EmbeddingCache(const std::filesystem::path& dir, std::string_view cache_key,
                               int dim)
    : dim_(dim) {
  assert(dim > 0);
  const TextHash name = hash_text(cache_key);
  path_ = dir / fmt::format("{:016x}{:016x}.lampemb", name.hi, name.lo);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw Error(Location{.file = dir.string()},
                "cannot create the embedding cache folder: " + ec.message());
  }
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_errno(path_, "cannot open the embedding cache");
  try {
    FileLock lock(fd_, path_);
    const std::string header = file_header(cache_key, dim);
    const std::uint64_t size = file_size(fd_, path_);
    std::string existing(std::min<std::uint64_t>(size, header.size()), '\0');
    read_at(fd_, path_, 0, existing.data(), existing.size());
    if (existing != header) {
      // A whole, valid header of another key or dimension is a real conflict; anything else is
      // a header torn by an interrupted creation (or damage) and starts the cache afresh.
      std::string other(std::min<std::uint64_t>(size, 16), '\0');
      read_at(fd_, path_, 0, other.data(), other.size());
      if (other.size() == 16 && std::memcmp(other.data(), kMagic, 8) == 0) {
        const std::uint64_t key_size = load32(other.data() + 12);
        if (size >= 16 + key_size + 8) {
          other.resize(16 + key_size + 8);
          read_at(fd_, path_, 0, other.data(), other.size());
          if (checksum(std::string_view(other).substr(0, 16 + key_size)) ==
              load64(other.data() + 16 + key_size)) {
            throw Error(
                Location{.file = path_.string()},
                fmt::format("holds the embeddings of \"{}\" ({} dimensions), not of "
                            "\"{}\" ({} dimensions)",
                            other.substr(16, key_size), load32(other.data() + 8), cache_key, dim));
          }
        }
      }
      truncate_to(fd_, path_, 0);
      dropped_bytes_ += size;
      write_at(fd_, path_, 0, header);
    }
    scanned_end_ = header.size();
    scan_new_blocks();
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

EmbeddingCache::~EmbeddingCache() { ::close(fd_); }

void EmbeddingCache::scan_new_blocks() {
  const std::uint64_t size = file_size(fd_, path_);
  const std::uint64_t vector_bytes = 4ull * static_cast<std::uint64_t>(dim_);
  std::uint64_t pos = scanned_end_;
  std::string header;
  while (size - pos >= 8) {
    char prefix[8];
    read_at(fd_, path_, pos, prefix, sizeof prefix);
    const std::uint32_t count = load32(prefix + 4);
    if (load32(prefix) != kBlockMagic || count == 0 || count > kMaxBlockCount) break;
    const std::uint64_t header_bytes = 8 + kEntryBytes * count + 8;
    const std::uint64_t block_bytes = header_bytes + count * vector_bytes;
    if (size - pos < block_bytes) break;
    header.resize(header_bytes);
    read_at(fd_, path_, pos, header.data(), header.size());
    if (checksum(std::string_view(header).substr(0, header_bytes - 8)) !=
        load64(header.data() + header_bytes - 8)) {
      break;
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      const char* entry = header.data() + 8 + kEntryBytes * i;
      index_.insert_or_assign(TextHash{load64(entry), load64(entry + 8)},
                              Entry{pos + header_bytes + i * vector_bytes, load64(entry + 16)});
    }
    pos += block_bytes;
  }
  if (pos < size) {
    truncate_to(fd_, path_, pos);
    dropped_bytes_ += size - pos;
  }
  scanned_end_ = pos;
}

bool EmbeddingCache::find(const TextHash& hash, std::span<float> out) const {
  assert(out.size() == static_cast<std::size_t>(dim_));
  auto it = index_.find(hash);
  if (it == index_.end()) return false;
  char* bytes = reinterpret_cast<char*>(out.data());
  read_at(fd_, path_, it->second.offset, bytes, out.size_bytes());
  return checksum(std::string_view(bytes, out.size_bytes())) == it->second.checksum;
}

void EmbeddingCache::add(std::span<const TextHash> hashes, std::span<const float> vectors) {
  assert(vectors.size() == hashes.size() * static_cast<std::size_t>(dim_));
  const std::size_t vector_bytes = 4 * static_cast<std::size_t>(dim_);
  FileLock lock(fd_, path_);
  scan_new_blocks();
  for (std::size_t begin = 0; begin < hashes.size(); begin += kMaxBlockCount) {
    const std::size_t count = std::min<std::size_t>(kMaxBlockCount, hashes.size() - begin);
    const std::string_view data(
        reinterpret_cast<const char*>(vectors.data()) + begin * vector_bytes, count * vector_bytes);
    std::vector<std::uint64_t> sums(count);
    for (std::size_t i = 0; i < count; ++i) {
      sums[i] = checksum(data.substr(i * vector_bytes, vector_bytes));
    }
    std::string block;
    block.reserve(8 + kEntryBytes * count + 8 + data.size());
    append(block, kBlockMagic);
    append(block, static_cast<std::uint32_t>(count));
    for (std::size_t i = 0; i < count; ++i) {
      append(block, hashes[begin + i].lo);
      append(block, hashes[begin + i].hi);
      append(block, sums[i]);
    }
    append(block, checksum(block));
    const std::uint64_t vectors_at = scanned_end_ + block.size();
    block += data;
    write_at(fd_, path_, scanned_end_, block);
    for (std::size_t i = 0; i < count; ++i) {
      index_.insert_or_assign(hashes[begin + i], Entry{vectors_at + i * vector_bytes, sums[i]});
    }
    scanned_end_ += block.size();
  }
}

}  // namespace lamp
