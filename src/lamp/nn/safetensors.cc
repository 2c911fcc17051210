#include "lamp/nn/safetensors.h"

#include <simdjson.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"

namespace lamp::nn {
namespace {

// The Python library refuses larger headers (safetensors' MAX_HEADER_SIZE); so does lamp, so a
// corrupt length is reported instead of allocating it.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  std::size_t size;
};

constexpr std::array<DTypeInfo, 9> kDTypes = {{
    {DType::kF32, "F32", 4},
    {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2},
    {DType::kF64, "F64", 8},
    {DType::kI64, "I64", 8},
    {DType::kI32, "I32", 4},
    {DType::kI8, "I8", 1},
    {DType::kU8, "U8", 1},
    {DType::kBool, "BOOL", 1},
}};

const DTypeInfo& info(DType dtype) {
  for (const DTypeInfo& d : kDTypes) {
    if (d.dtype == dtype) return d;
  }
  return kDTypes[0];  // unreachable: every enumerator has a row
}

std::string shape_text(std::span<const std::int64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// product(shape) * element size, or nullopt when it does not fit in 64 bits.
std::optional<std::uint64_t> byte_size(std::span<const std::int64_t> shape, std::size_t element) {
  std::uint64_t total = element;
  for (std::int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(total, static_cast<std::uint64_t>(d), &total)) {
      return std::nullopt;
    }
  }
  return total;
}

using TensorMap = std::map<std::string, TensorView, std::less<>>;

// One mapped .safetensors file and what its header says.
struct Shard {
  std::unique_ptr<MappedFile> file;
  TensorMap tensors;
  std::map<std::string, std::string> metadata;
};

// Reads the header of one file and checks it against the file the way the Python library does:
// every tensor's bytes inside the data, the tensors tiling the data without gaps or overlaps.
class HeaderReader {
 public:
  explicit HeaderReader(std::filesystem::path path) : path_(std::move(path)) {}

  Shard read() {
    Shard shard;
    shard.file = std::make_unique<MappedFile>(path_, 0);
    const MappedFile& file = *shard.file;
    if (file.size() < 8)
      fail(fmt::format("is {} bytes, too short for a safetensors file", file.size()));
    std::uint64_t header_size = 0;
    for (int i = 7; i >= 0; --i) {
      header_size = header_size << 8 | static_cast<unsigned char>(file.data()[i]);
    }
    if (header_size > kMaxHeaderBytes) {
      fail(fmt::format("header length {} is over the limit of {} bytes (not a safetensors file?)",
                       header_size, kMaxHeaderBytes));
    }
    if (header_size > file.size() - 8) {
      fail(fmt::format("header length {} runs past the end of the file ({} bytes)", header_size,
                       file.size()));
    }
    const char* header = file.data() + 8;
    if (header_size == 0 || header[0] != '{') fail("the header does not start with '{'");
    const std::byte* data = reinterpret_cast<const std::byte*>(header + header_size);
    const std::uint64_t data_size = file.size() - 8 - header_size;

    simdjson::padded_string json(header, header_size);
    simdjson::dom::parser parser;
    simdjson::dom::object root;
    if (auto err = parser.parse(json).get(root); err != simdjson::SUCCESS) {
      fail(fmt::format("the header is not a valid JSON object: {}", simdjson::error_message(err)));
    }

    struct Span {
      std::uint64_t begin, end;
      const std::string* name;
    };
    std::vector<Span> spans;
    for (auto [key, value] : root) {
      if (key == "__metadata__") {
        shard.metadata = read_metadata(value);
        continue;
      }
      auto [at, inserted] = shard.tensors.try_emplace(std::string(key));
      if (!inserted) fail(fmt::format("tensor \"{}\" appears twice in the header", key));
      auto [begin, end] = read_tensor(at->first, value, at->second);
      if (end < begin) {
        fail(fmt::format("tensor \"{}\": data_offsets [{}, {}] end before they begin", key, begin,
                         end));
      }
      if (end > data_size) {
        fail(
            fmt::format("tensor \"{}\": data_offsets [{}, {}] are outside the file's {} data bytes",
                        key, begin, end, data_size));
      }
      if (end - begin != at->second.nbytes) {
        fail(fmt::format("tensor \"{}\": holds {} bytes, but dtype {} and shape {} need {}", key,
                         end - begin, dtype_name(at->second.dtype), shape_text(at->second.shape),
                         at->second.nbytes));
      }
      at->second.data = data + begin;
      spans.push_back({begin, end, &at->first});
    }

    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
      return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
    });
    std::uint64_t next = 0;
    const std::string* previous = nullptr;
    for (const Span& s : spans) {
      if (s.begin < next) {
        fail(fmt::format("tensor \"{}\": data_offsets [{}, {}] overlap those of tensor \"{}\"",
                         *s.name, s.begin, s.end, *previous));
      }
      if (s.begin > next) {
        fail(
            fmt::format("bytes {} to {} of the data belong to no tensor (the data must be "
                        "contiguous)",
                        next, s.begin));
      }
      next = s.end;
      previous = s.name;
    }
    if (next != data_size) {
      fail(
          fmt::format("bytes {} to {} of the data belong to no tensor (the data must be "
                      "contiguous)",
                      next, data_size));
    }
    return shard;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw Error(Location{.file = path_.string()}, message);
  }

  std::map<std::string, std::string> read_metadata(simdjson::dom::element value) const {
    std::map<std::string, std::string> out;
    simdjson::dom::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) {
      fail("\"__metadata__\" is not an object of strings");
    }
    for (auto [key, text] : object) {
      std::string_view s;
      if (text.get_string().get(s) != simdjson::SUCCESS) {
        fail(fmt::format("\"__metadata__\" entry \"{}\" is not a string", key));
      }
      out[std::string(key)] = std::string(s);
    }
    return out;
  }

  std::uint64_t unsigned_at(simdjson::dom::element e, std::string_view name,
                            std::string_view what) const {
    std::uint64_t out = 0;
    if (e.get_uint64().get(out) != simdjson::SUCCESS) {
      fail(fmt::format("tensor \"{}\": {} is not a non-negative integer", name, what));
    }
    return out;
  }

  // Fills `view` (all but data) and returns the data offsets.
  std::pair<std::uint64_t, std::uint64_t> read_tensor(const std::string& name,
                                                      simdjson::dom::element value,
                                                      TensorView& view) const {
    simdjson::dom::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) {
      fail(fmt::format("tensor \"{}\": is not an object", name));
    }
    std::string_view dtype;
    if (object["dtype"].get_string().get(dtype) != simdjson::SUCCESS) {
      fail(fmt::format("tensor \"{}\": \"dtype\" is missing or not a string", name));
    }
    auto known = std::find_if(kDTypes.begin(), kDTypes.end(),
                              [&](const DTypeInfo& d) { return d.name == dtype; });
    if (known == kDTypes.end()) {
      fail(
          fmt::format("tensor \"{}\": dtype \"{}\" is not supported (lamp reads F32, F16, BF16, "
                      "F64, I64, I32, I8, U8, BOOL)",
                      name, dtype));
    }
    view.dtype = known->dtype;

    simdjson::dom::array shape;
    if (object["shape"].get_array().get(shape) != simdjson::SUCCESS) {
      fail(fmt::format("tensor \"{}\": \"shape\" is missing or not an array", name));
    }
    for (simdjson::dom::element d : shape) {
      std::uint64_t dim = unsigned_at(d, name, "a shape dimension");
      if (dim > static_cast<std::uint64_t>(INT64_MAX)) {
        fail(fmt::format("tensor \"{}\": shape dimension {} is too large", name, dim));
      }
      view.shape.push_back(static_cast<std::int64_t>(dim));
    }
    std::optional<std::uint64_t> nbytes = byte_size(view.shape, known->size);
    if (!nbytes)
      fail(fmt::format("tensor \"{}\": shape {} is too large", name, shape_text(view.shape)));
    view.nbytes = *nbytes;

    simdjson::dom::array offsets;
    if (object["data_offsets"].get_array().get(offsets) != simdjson::SUCCESS ||
        offsets.size() != 2) {
      fail(fmt::format("tensor \"{}\": \"data_offsets\" is missing or not [begin, end]", name));
    }
    return {unsigned_at(offsets.at(0).value_unsafe(), name, "a data offset"),
            unsigned_at(offsets.at(1).value_unsafe(), name, "a data offset")};
  }

  std::filesystem::path path_;
};

// A file name from an index that stays inside the index's folder.
bool is_plain_relative(const std::filesystem::path& name) {
  if (name.empty() || name.is_absolute()) return false;
  for (const auto& part : name) {
    if (part == "..") return false;
  }
  return true;
}

// The index's weight_map: tensor name -> shard file.
std::map<std::string, std::string> read_weight_map(const std::filesystem::path& index) {
  Location where{.file = index.string()};
  simdjson::padded_string json;
  if (simdjson::padded_string::load(index.string()).get(json) != simdjson::SUCCESS) {
    throw Error(where, "cannot read the file");
  }
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (auto err = parser.parse(json).get(root); err != simdjson::SUCCESS) {
    throw Error(where, fmt::format("not a JSON object: {}", simdjson::error_message(err)));
  }
  simdjson::dom::object map;
  if (root["weight_map"].get_object().get(map) != simdjson::SUCCESS) {
    throw Error(where, "\"weight_map\" is missing or not an object");
  }
  std::map<std::string, std::string> out;
  for (auto [name, file] : map) {
    std::string_view shard;
    if (file.get_string().get(shard) != simdjson::SUCCESS) {
      throw Error(where, fmt::format("weight_map: tensor \"{}\": the file is not a string", name));
    }
    if (!is_plain_relative(std::filesystem::path(shard))) {
      throw Error(where, fmt::format("weight_map: tensor \"{}\": file \"{}\" is not a file name "
                                     "inside the index's folder",
                                     name, shard));
    }
    out[std::string(name)] = std::string(shard);
  }
  if (out.empty()) throw Error(where, "\"weight_map\" names no tensors");
  return out;
}

std::string architecture_of(const std::filesystem::path& config) {
  simdjson::padded_string json;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view name;
  if (simdjson::padded_string::load(config.string()).get(json) != simdjson::SUCCESS ||
      parser.parse(json).get(doc) != simdjson::SUCCESS ||
      doc["architectures"].at(0).get_string().get(name) != simdjson::SUCCESS) {
    return "";
  }
  // Only an identifier may go into the command line.
  bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
  return plain ? std::string(name) : "";
}

}  // namespace

std::string_view dtype_name(DType dtype) { return info(dtype).name; }

std::size_t dtype_size(DType dtype) { return info(dtype).size; }

struct Checkpoint::Impl {
  std::filesystem::path path;
  std::vector<std::unique_ptr<MappedFile>> files;
  TensorMap tensors;
  std::map<std::string, std::string> metadata;
};

Checkpoint::Checkpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Checkpoint::Checkpoint(Checkpoint&&) noexcept = default;
Checkpoint& Checkpoint::operator=(Checkpoint&&) noexcept = default;
Checkpoint::~Checkpoint() = default;

Checkpoint Checkpoint::open(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path file = std::filesystem::is_directory(path, ec) ? find_weights(path) : path;
  auto impl = std::make_unique<Impl>();
  impl->path = file;
  if (!file.string().ends_with(".index.json")) {
    Shard shard = HeaderReader(file).read();
    impl->files.push_back(std::move(shard.file));
    impl->tensors = std::move(shard.tensors);
    impl->metadata = std::move(shard.metadata);
    return Checkpoint(std::move(impl));
  }

  std::map<std::string, std::string> weight_map = read_weight_map(file);
  std::map<std::string, Shard> shards;
  for (const auto& [name, shard_name] : weight_map) {
    auto [at, inserted] = shards.try_emplace(shard_name);
    if (!inserted) continue;
    std::filesystem::path shard_path = file.parent_path() / shard_name;
    if (!std::filesystem::exists(shard_path, ec)) {
      throw Error(
          Location{.file = file.string()},
          fmt::format("shard \"{}\" is missing (expected at {})", shard_name, shard_path.string()));
    }
    at->second = HeaderReader(shard_path).read();
  }
  // The index decides which tensors the checkpoint has, as in transformers.
  for (const auto& [name, shard_name] : weight_map) {
    const Shard& shard = shards.at(shard_name);
    auto found = shard.tensors.find(name);
    if (found == shard.tensors.end()) {
      throw Error(Location{.file = file.string()},
                  fmt::format("tensor \"{}\" is mapped to \"{}\", which has no such tensor", name,
                              shard_name));
    }
    impl->tensors.emplace(name, found->second);
  }
  impl->metadata = shards.begin()->second.metadata;
  for (auto& [name, shard] : shards) impl->files.push_back(std::move(shard.file));
  return Checkpoint(std::move(impl));
}

const TensorView* Checkpoint::find(std::string_view name) const {
  auto found = impl_->tensors.find(name);
  return found == impl_->tensors.end() ? nullptr : &found->second;
}

void Checkpoint::release(const TensorView& view) const {
  // Only whole pages inside the tensor: a neighbour may share the first and last page.
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  auto begin = reinterpret_cast<std::uintptr_t>(view.data);
  std::uintptr_t first = (begin + page - 1) / page * page,
                 last = (begin + view.nbytes) / page * page;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  out.reserve(impl_->tensors.size());
  for (const auto& [name, view] : impl_->tensors) out.push_back(name);
  return out;
}

const std::map<std::string, std::string>& Checkpoint::metadata() const { return impl_->metadata; }

const std::filesystem::path& Checkpoint::path() const { return impl_->path; }

std::filesystem::path find_weights(const std::filesystem::path& folder) {
  std::error_code ec;
  for (const char* name : {"model.safetensors", "model.safetensors.index.json"}) {
    if (std::filesystem::exists(folder / name, ec)) return folder / name;
  }
  for (const char* name : {"pytorch_model.bin", "pytorch_model.bin.index.json"}) {
    if (std::filesystem::exists(folder / name, ec)) {
      throw Error(
          Location{.file = folder.string()},
          fmt::format(
              "holds only {} (PyTorch pickle), which lamp does not read; convert it to "
              "safetensors once with: {}",
              name, conversion_command(folder.string(), folder / "config.json", folder.string())));
    }
  }
  throw Error(Location{.file = folder.string()},
              "has no model.safetensors or model.safetensors.index.json");
}

std::vector<std::string> index_shards(const std::filesystem::path& index) {
  std::vector<std::string> out;
  for (const auto& [name, shard] : read_weight_map(index)) out.push_back(shard);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string conversion_command(std::string_view source, const std::filesystem::path& config,
                               std::string_view out) {
  std::string architecture = architecture_of(config);
  return fmt::format(
      "python -c \"from transformers import {} as M; M.from_pretrained('{}')"
      ".save_pretrained('{}', safe_serialization=True)\"",
      architecture.empty() ? "AutoModel" : architecture, source, out);
}

void write_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata) {
  // The layout of the Python library's serializer: compact JSON, "__metadata__" first, then the
  // tensors with contiguous offsets.
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [key, value] : metadata) {
      if (!first) header += ',';
      first = false;
      append_json_string(header, key);
      header += ':';
      append_json_string(header, value);
    }
    header += '}';
  }
  std::uint64_t offset = 0;
  std::set<std::string_view> seen;
  for (const TensorToWrite& t : tensors) {
    Location where{.file = path.string()};
    if (t.name.empty() || t.name == "__metadata__" || !seen.insert(t.name).second) {
      throw Error(where, fmt::format("tensor name \"{}\" is empty, reserved or repeated", t.name));
    }
    std::optional<std::uint64_t> nbytes = byte_size(t.shape, dtype_size(t.dtype));
    if (!nbytes || *nbytes != t.data.size()) {
      throw Error(where,
                  fmt::format("tensor \"{}\": {} bytes given, but dtype {} and shape {} "
                              "need {}",
                              t.name, t.data.size(), dtype_name(t.dtype), shape_text(t.shape),
                              nbytes ? fmt::format("{}", *nbytes) : "more than 2^64"));
    }
    if (header.size() > 1) header += ',';
    append_json_string(header, t.name);
    header += fmt::format(R"(:{{"dtype":"{}","shape":[{}],"data_offsets":[{},{}]}})",
                          dtype_name(t.dtype), fmt::join(t.shape, ","), offset, offset + *nbytes);
    offset += *nbytes;
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');

  std::array<char, 8> length;
  for (int i = 0; i < 8; ++i) {
    length[static_cast<std::size_t>(i)] = static_cast<char>(header.size() >> (8 * i) & 0xff);
  }
  AtomicFile out(path);
  out.write(std::string_view(length.data(), length.size()));
  out.write(header);
  for (const TensorToWrite& t : tensors) {
    // An empty tensor's span may hold a null pointer, which fwrite must not get.
    if (!t.data.empty()) {
      out.write(std::string_view(reinterpret_cast<const char*>(t.data.data()), t.data.size()));
    }
  }
  out.commit();
}

}  // namespace lamp::nn
