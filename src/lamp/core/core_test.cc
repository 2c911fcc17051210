#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/core/memory.h"
#include "lamp/core/shared_library.h"

namespace lamp {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("lamp_core_" + std::to_string(::getpid()) + name);
  fs::create_directories(dir);
  return dir;
}

TEST(Error, MessageNamesFileRecordAndField) {
  Error e(Location{.file = "q.json", .record = 3, .record_id = "x", .field = "profile[0].text"},
          "expected a string");
  EXPECT_STREQ(e.what(),
               "q.json: record 3 (id \"x\"): field \"profile[0].text\": expected a string");
  EXPECT_EQ(e.message(), "expected a string");
  EXPECT_STREQ(Error(Location{.file = "a", .byte_offset = 7}, "bad").what(), "a: byte 7: bad");
}

TEST(MappedFile, PaddingIsReadableZerosEvenAtAPageBoundary) {
  fs::path dir = temp_dir("map");
  std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::string content(page, 'x');  // ends exactly on a page boundary
  std::ofstream(dir / "f", std::ios::binary) << content;
  MappedFile file(dir / "f", 64);
  ASSERT_EQ(file.size(), page);
  EXPECT_EQ(std::string(file.data(), file.size()), content);
  for (std::size_t i = 0; i < 64; ++i) EXPECT_EQ(file.data()[page + i], 0);
  file.release_before(file.data() + page);  // pages come back from disk when touched again
  EXPECT_EQ(file.data()[0], 'x');
  MappedFile empty((std::ofstream(dir / "e").close(), dir / "e"), 16);
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.data()[0], 0);
  EXPECT_THROW(MappedFile(dir / "missing", 0), Error);
  EXPECT_THROW(MappedFile(dir, 0), Error);
  fs::remove_all(dir);
}

TEST(MappedFile, LargeFilesStartOnAHugePageBoundary) {
  // So that the kernel can map the page cache's 2 MB folios whole (one entry instead of 512).
  fs::path dir = temp_dir("map_huge");
  std::string content(kHugePage + 3, 'y');
  std::ofstream(dir / "f", std::ios::binary) << content;
  MappedFile file(dir / "f", 64);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(file.data()) % kHugePage, 0u);
  EXPECT_EQ(std::string(file.data(), file.size()), content);
  for (std::size_t i = 0; i < 64; ++i) EXPECT_EQ(file.data()[file.size() + i], 0);
  fs::remove_all(dir);
}

TEST(SharedLibrary, BindsFunctionsAndNamesWhatIsMissing) {
  SharedLibrary libc("libc.so.6");
  decltype(&std::strlen) length = nullptr;
  libc.bind(length, "strlen");
  EXPECT_EQ(length("lamp"), 4u);
  try {
    libc.bind(length, "no_such_function_in_libc");
    FAIL() << "bound a missing symbol";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "libc.so.6 has no function no_such_function_in_libc");
  }
  try {
    SharedLibrary missing("liblamp_no_such_library.so.1");
    FAIL() << "loaded a missing library";
  } catch (const Error& e) {
    EXPECT_TRUE(e.message().starts_with("cannot load liblamp_no_such_library.so.1: ")) << e.what();
  }
}

TEST(AtomicFile, TargetAppearsOnlyOnCommit) {
  fs::path dir = temp_dir("atomic");
  fs::path target = dir / "out.json";
  std::ofstream(target) << "old";
  {
    AtomicFile file(target);
    file.write("new content");
    EXPECT_EQ(read_file(target), "old");  // not replaced before commit
  }                                       // destroyed uncommitted: as if an exception unwound
  EXPECT_EQ(read_file(target), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  write_file_atomic(target, "new");
  EXPECT_EQ(read_file(target), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  EXPECT_THROW(write_file_atomic(dir / "missing_dir" / "x", "y"), Error);
  fs::remove_all(dir);
}

TEST(HugePages, LargeBuffersAreWholeAlignedHugePagesSmallOnesOrdinary) {
  std::size_t bytes = kHugePage + 1;
  void* p = allocate_huge(bytes);
  EXPECT_EQ(bytes, 2 * kHugePage);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % kHugePage, 0u);
  std::memset(p, 1, bytes);  // all of it is usable
  std::free(p);

  struct alignas(32) Entry {
    char bytes[32];
  };
  std::vector<Entry, HugePageAllocator<Entry>> large(kHugePage / 8 / sizeof(Entry)), small(3);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(large.data()) % kHugePage, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(small.data()) % 64, 0u);
  small.resize(kHugePage);  // moves from ordinary memory to huge pages
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(small.data()) % kHugePage, 0u);
}

TEST(JsonWriter, EscapesAndFormatsLikePython) {
  JsonWriter w;
  w.begin_object()
      .key("s")
      .value("q\"b\\n\n\t\x01 \xc3\xa9")
      .key("d")
      .value(0.1)
      .key("i")
      .value(1.0)
      .key("n")
      .value(std::int64_t{-3})
      .key("b")
      .value(true)
      .key("a")
      .begin_array()
      .value("x")
      .value(2.5e-10)
      .end_array()
      .key("e")
      .begin_object()
      .end_object()
      .end_object();
  EXPECT_EQ(w.str(), R"({"s": "q\"b\\n\n\t\u0001 )"
                     "\xc3\xa9"
                     R"(", "d": 0.1, "i": 1.0, "n": -3, "b": true, "a": ["x", 2.5e-10], "e": {}})");
  JsonWriter pretty(2);
  pretty.begin_object().key("a").begin_array().value("x").end_array().end_object();
  EXPECT_EQ(pretty.str(), "{\n  \"a\": [\n    \"x\"\n  ]\n}");
  EXPECT_EQ(format_double(0.6315358952830477), "0.6315358952830477");
  EXPECT_EQ(format_double(2.0), "2.0");
}

}  // namespace
}  // namespace lamp
