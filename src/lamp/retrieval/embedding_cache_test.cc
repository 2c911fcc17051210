// The embedding cache: SipHash against the reference vectors, hits and misses across runs,
// models kept apart, and every way an interrupted or damaged file can look.
#include "lamp/retrieval/embedding_cache.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/test_util.h"

namespace lamp {
namespace {

namespace fs = std::filesystem;
using testing_util::TempDir;

TEST(SipHash128, MatchesTheReferenceVectors) {
  // vectors_sip128 of the reference implementation (veorq/SipHash): key 00 01 .. 0f, message of
  // length i is the bytes 00 01 .. i-1.
  struct Case {
    std::size_t length;
    unsigned char out[16];
  };
  const Case cases[] = {
      {0,
       {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02,
        0x93}},
      {7,
       {0xa1, 0xf1, 0xeb, 0xbe, 0xd8, 0xdb, 0xc1, 0x53, 0xc0, 0xb8, 0x4a, 0xa6, 0x1f, 0xf0, 0x82,
        0x39}},
      {8,
       {0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58, 0xf5, 0x61, 0x0f, 0x83, 0xe2, 0x64, 0xf3, 0x14, 0x97,
        0xb4}},
      {15,
       {0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f, 0x97, 0xcf, 0xc3,
        0xd9}},
      {63,
       {0x51, 0x50, 0xd1, 0x77, 0x2f, 0x50, 0x83, 0x4a, 0x50, 0x3e, 0x06, 0x9a, 0x97, 0x3f, 0xbd,
        0x7c}},
  };
  std::string message;
  for (int i = 0; i < 64; ++i) message.push_back(static_cast<char>(i));
  for (const Case& c : cases) {
    TextHash h = siphash128(std::string_view(message).substr(0, c.length), 0x0706050403020100ull,
                            0x0f0e0d0c0b0a0908ull);
    std::uint64_t lo = 0, hi = 0;
    for (int b = 7; b >= 0; --b) {
      lo = (lo << 8) | c.out[b];
      hi = (hi << 8) | c.out[8 + b];
    }
    EXPECT_EQ(h.lo, lo) << c.length;
    EXPECT_EQ(h.hi, hi) << c.length;
  }
  EXPECT_NE(hash_text("a"), hash_text("b"));
  EXPECT_NE(hash_text(""), hash_text(std::string_view("\0", 1)));
}

constexpr int kDim = 3;

std::vector<float> vec(float a) { return {a, a + 0.5f, -a}; }

std::optional<std::vector<float>> lookup(const EmbeddingCache& cache, std::string_view text) {
  std::vector<float> out(kDim);
  if (!cache.find(hash_text(text), out)) return std::nullopt;
  return out;
}

void add(EmbeddingCache& cache, std::vector<std::string_view> texts, std::vector<float> first) {
  std::vector<TextHash> hashes;
  std::vector<float> vectors;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    hashes.push_back(hash_text(texts[i]));
    for (float x : vec(first[i])) vectors.push_back(x);
  }
  cache.add(hashes, vectors);
}

void flip_byte(const fs::path& path, std::uintmax_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x40);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

TEST(EmbeddingCache, HitsMissesAndASecondRun) {
  TempDir dir;
  fs::path path;
  {
    EmbeddingCache cache(dir / "sub" / "dir", "model-a", kDim);  // folders are created
    path = cache.path();
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_FALSE(lookup(cache, "one"));
    add(cache, {"one", "two"}, {1, 2});
    add(cache, {"three"}, {3});
    EXPECT_EQ(lookup(cache, "one"), vec(1));  // at once, in the same run
    EXPECT_EQ(lookup(cache, "three"), vec(3));
    EXPECT_FALSE(lookup(cache, "four"));
  }
  EXPECT_EQ(path.parent_path(), dir / "sub" / "dir");
  EXPECT_EQ(path.extension(), ".lampemb");
  EmbeddingCache again(dir / "sub" / "dir", "model-a", kDim);
  EXPECT_EQ(again.path(), path);
  EXPECT_EQ(again.size(), 3u);
  EXPECT_EQ(again.dropped_bytes(), 0u);
  EXPECT_EQ(lookup(again, "one"), vec(1));
  EXPECT_EQ(lookup(again, "two"), vec(2));
  EXPECT_EQ(lookup(again, "three"), vec(3));
  EXPECT_FALSE(lookup(again, "One"));
  // A text stored again: the later vector wins, now and after reopening.
  add(again, {"two"}, {20});
  EXPECT_EQ(lookup(again, "two"), vec(20));
  EXPECT_EQ(lookup(EmbeddingCache(dir / "sub" / "dir", "model-a", kDim), "two"), vec(20));
}

TEST(EmbeddingCache, ModelsNeverMix) {
  TempDir dir;
  EmbeddingCache a(dir.path(), "model-a", kDim);
  EmbeddingCache b(dir.path(), "model-b", kDim);
  EXPECT_NE(a.path(), b.path());
  add(a, {"text"}, {1});
  EXPECT_FALSE(lookup(b, "text"));
  add(b, {"text"}, {2});
  EXPECT_EQ(lookup(a, "text"), vec(1));
  EXPECT_EQ(lookup(EmbeddingCache(dir.path(), "model-b", kDim), "text"), vec(2));
  // The same key with another dimension is a conflict, not a silent reuse.
  try {
    EmbeddingCache wrong(dir.path(), "model-a", kDim + 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().file, a.path().string());
    EXPECT_NE(e.message().find("holds the embeddings of \"model-a\" (3 dimensions)"),
              std::string::npos)
        << e.message();
  }
}

TEST(EmbeddingCache, TornLastBlockIsCutOff) {
  TempDir dir;
  fs::path path;
  std::uintmax_t first_end = 0, second_end = 0;
  {
    EmbeddingCache cache(dir.path(), "m", kDim);
    path = cache.path();
    add(cache, {"a", "b"}, {1, 2});
    first_end = fs::file_size(path);
    add(cache, {"c", "d"}, {3, 4});
    second_end = fs::file_size(path);
  }
  // Every length a write could have been interrupted at, within the second block.
  for (std::uintmax_t cut = first_end + 1; cut < second_end; ++cut) {
    fs::resize_file(path, second_end);
    fs::resize_file(path, cut);
    EmbeddingCache cache(dir.path(), "m", kDim);
    EXPECT_EQ(cache.dropped_bytes(), cut - first_end) << cut;
    EXPECT_EQ(fs::file_size(path), first_end) << cut;
    EXPECT_EQ(lookup(cache, "a"), vec(1)) << cut;
    EXPECT_EQ(lookup(cache, "b"), vec(2)) << cut;
    EXPECT_FALSE(lookup(cache, "c")) << cut;
    EXPECT_FALSE(lookup(cache, "d")) << cut;
    EXPECT_EQ(cache.size(), 2u);
  }
  // Appends go after the last whole block, and survive reopening.
  {
    EmbeddingCache cache(dir.path(), "m", kDim);
    add(cache, {"c"}, {30});
  }
  EmbeddingCache cache(dir.path(), "m", kDim);
  EXPECT_EQ(cache.dropped_bytes(), 0u);
  EXPECT_EQ(lookup(cache, "a"), vec(1));
  EXPECT_EQ(lookup(cache, "c"), vec(30));
  EXPECT_FALSE(lookup(cache, "d"));
}

TEST(EmbeddingCache, GarbageAfterTheBlocksIsCutOff) {
  TempDir dir;
  fs::path path;
  std::uintmax_t end = 0;
  {
    EmbeddingCache cache(dir.path(), "m", kDim);
    path = cache.path();
    add(cache, {"a"}, {1});
    end = fs::file_size(path);
  }
  // Zeros (what a file extended by a crash may hold) and a block whose header lies.
  for (std::string tail : {std::string(100, '\0'), std::string("EBLK\x01\0\0\0", 8) +
                                                       std::string(24 + 8 + 4 * kDim, 'x')}) {
    std::ofstream(path, std::ios::binary | std::ios::app) << tail;
    EmbeddingCache cache(dir.path(), "m", kDim);
    EXPECT_EQ(cache.dropped_bytes(), tail.size());
    EXPECT_EQ(fs::file_size(path), end);
    EXPECT_EQ(lookup(cache, "a"), vec(1));
  }
}

TEST(EmbeddingCache, DamagedVectorIsAMissAndIsReplaced) {
  TempDir dir;
  fs::path path;
  {
    EmbeddingCache cache(dir.path(), "m", kDim);
    path = cache.path();
    add(cache, {"a", "b"}, {1, 2});
  }
  flip_byte(path, fs::file_size(path) - 1);  // the last float of "b"
  {
    EmbeddingCache cache(dir.path(), "m", kDim);
    EXPECT_EQ(lookup(cache, "a"), vec(1));
    EXPECT_FALSE(lookup(cache, "b"));
    add(cache, {"b"}, {2});
    EXPECT_EQ(lookup(cache, "b"), vec(2));
  }
  EmbeddingCache cache(dir.path(), "m", kDim);
  EXPECT_EQ(lookup(cache, "b"), vec(2));
}

TEST(EmbeddingCache, DamagedBlockHeaderDropsItAndWhatFollows) {
  TempDir dir;
  fs::path path;
  std::uintmax_t first_end = 0;
  {
    EmbeddingCache cache(dir.path(), "m", kDim);
    path = cache.path();
    add(cache, {"a"}, {1});
    first_end = fs::file_size(path);
    add(cache, {"b"}, {2});
    add(cache, {"c"}, {3});
  }
  flip_byte(path, first_end + 10);  // inside the hash of "b"
  EmbeddingCache cache(dir.path(), "m", kDim);
  EXPECT_EQ(fs::file_size(path), first_end);
  EXPECT_EQ(lookup(cache, "a"), vec(1));
  EXPECT_FALSE(lookup(cache, "b"));
  EXPECT_FALSE(lookup(cache, "c"));
}

TEST(EmbeddingCache, TornOrDamagedFileHeaderStartsAfresh) {
  TempDir dir;
  fs::path path = EmbeddingCache(dir.path(), "m", kDim).path();
  for (std::string bytes : {std::string("LAMPE"), std::string("not a cache file at all")}) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    EmbeddingCache cache(dir.path(), "m", kDim);
    EXPECT_EQ(cache.dropped_bytes(), bytes.size());
    EXPECT_EQ(cache.size(), 0u);
    add(cache, {"a"}, {1});
    EXPECT_EQ(lookup(EmbeddingCache(dir.path(), "m", kDim), "a"), vec(1));
  }
}

TEST(EmbeddingCache, ProcessesSharingAFileSeeEachOthersBlocks) {
  TempDir dir;
  EmbeddingCache first(dir.path(), "m", kDim);
  EmbeddingCache second(dir.path(), "m", kDim);  // another process, in effect
  add(first, {"a"}, {1});
  add(second, {"b"}, {2});  // reads "a"'s block before appending after it
  EXPECT_EQ(lookup(second, "a"), vec(1));
  EXPECT_FALSE(lookup(first, "b"));  // not until first's next add()
  // A third writer dies mid-block; the next add() cuts its bytes off before appending.
  std::ofstream(first.path(), std::ios::binary | std::ios::app) << std::string("EBLK\x02", 5);
  add(first, {"c"}, {3});
  EXPECT_EQ(first.dropped_bytes(), 5u);
  EXPECT_EQ(lookup(first, "b"), vec(2));
  EmbeddingCache reopened(dir.path(), "m", kDim);
  EXPECT_EQ(reopened.dropped_bytes(), 0u);
  EXPECT_EQ(reopened.size(), 3u);
  EXPECT_EQ(lookup(reopened, "a"), vec(1));
  EXPECT_EQ(lookup(reopened, "b"), vec(2));
  EXPECT_EQ(lookup(reopened, "c"), vec(3));
}

TEST(EmbeddingCache, UnwritableFolderIsAnErrorNamingIt) {
  TempDir dir;
  std::ofstream(dir / "file") << "x";
  try {
    EmbeddingCache cache(dir / "file" / "sub", "m", kDim);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().file, (dir / "file" / "sub").string());
  }
}

// Sets environment variables for a scope and restores them.
class ScopedEnv {
 public:
  void set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.push_back({name, old ? std::optional<std::string>(old) : std::nullopt});
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(EmbeddingCache, DefaultFolderFromTheEnvironment) {
  ScopedEnv env;
  env.set("LAMP_CACHE_DIR", "/tmp/lc");
  env.set("XDG_CACHE_HOME", "/tmp/xdg");
  env.set("HOME", "/home/u");
  EXPECT_EQ(default_embedding_cache_dir(), fs::path("/tmp/lc/embeddings"));
  env.set("LAMP_CACHE_DIR", "");
  EXPECT_EQ(default_embedding_cache_dir(), fs::path("/tmp/xdg/lamp/embeddings"));
  env.set("XDG_CACHE_HOME", "relative/is/ignored");
  EXPECT_EQ(default_embedding_cache_dir(), fs::path("/home/u/.cache/lamp/embeddings"));
  env.set("HOME", nullptr);
  EXPECT_THROW(default_embedding_cache_dir(), Error);
}

}  // namespace
}  // namespace lamp
