#include "lamp/pipeline/cache.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "lamp/core/test_util.h"

namespace lamp {
namespace {

using testing_util::TempDir;

TEST(CacheKey, EveryPartAndItsBoundaryCounts) {
  auto key = [](std::string_view a, std::string_view b) {
    return CacheKey("outputs").add(a, b).hex();
  };
  EXPECT_EQ(key("model", "t5"), key("model", "t5"));
  EXPECT_EQ(key("model", "t5").size(), 32u);
  EXPECT_NE(key("model", "t5"), key("model", "t6"));
  EXPECT_NE(key("model", "t5"), key("mode", "lt5"));  // the boundary is part of the key
  EXPECT_NE(CacheKey("outputs").hex(), CacheKey("prompts").hex());
  EXPECT_NE(CacheKey("x").add("a", "1").add("b", "2").hex(),
            CacheKey("x").add("b", "2").add("a", "1").hex());
  EXPECT_EQ(CacheKey("x").add("k", std::int64_t{2}).hex(), CacheKey("x").add("k", "2").hex());
  EXPECT_NE(CacheKey("x").add("b", 0.75).hex(), CacheKey("x").add("b", 0.5).hex());
}

TEST(ContentCache, StoresWholeEntriesByKindAndKey) {
  TempDir dir;
  ContentCache cache(dir / "cache");
  CacheKey key = CacheKey("ranking").add("questions", "abc");
  EXPECT_FALSE(cache.get(key));
  cache.put(key, "[[0, 1]]");
  EXPECT_EQ(cache.get(key), "[[0, 1]]");
  std::string hex = key.hex();
  EXPECT_EQ(cache.path_of(key), dir / "cache" / "ranking" / hex.substr(0, 2) / hex);
  cache.put(key, "[[1, 0]]");  // replaced whole
  EXPECT_EQ(cache.get(key), "[[1, 0]]");
  std::size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "cache"))
    files += e.is_regular_file();
  EXPECT_EQ(files, 1u);  // no temporary file left behind
  EXPECT_FALSE(cache.get(CacheKey("ranking").add("questions", "abd")));
}

TEST(ContentCache, FileHashFollowsTheBytes) {
  TempDir dir;
  std::string a = file_hash(dir.write("a", "hello"));
  EXPECT_EQ(a, content_hash("hello"));
  EXPECT_NE(a, file_hash(dir.write("b", "hellp")));
  EXPECT_EQ(content_hash("").size(), 32u);
}

}  // namespace
}  // namespace lamp
