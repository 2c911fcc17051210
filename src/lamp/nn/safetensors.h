// Hugging Face checkpoints in the safetensors format, without libtorch (the torch side is
// nn/weights.h).
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of JSON
//   {"NAME": {"dtype": "F32", "shape": [d0, d1], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"k": "v"}}
// and the tensors' bytes, offsets relative to the end of the header. A sharded checkpoint is a
// `model.safetensors.index.json` ({"weight_map": {"NAME": "model-00001-of-00002.safetensors"}})
// beside its shards.
//
// Checkpoint maps the files read-only; TensorView::data points into the mapping and stays valid
// while the Checkpoint lives. Malformed files (bad header, offsets outside the file or
// overlapping, byte size != product(shape) * dtype size, unknown dtype, a name in the index
// missing from its shard) are lamp::Errors naming the file and tensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lamp::nn {

enum class DType { kF32, kF16, kBF16, kF64, kI64, kI32, kI8, kU8, kBool };

std::string_view dtype_name(DType dtype);  // "F32", "F16", "BF16", ...
std::size_t dtype_size(DType dtype);

struct TensorView {
  DType dtype;
  std::vector<std::int64_t> shape;
  const std::byte* data;  // little-endian, row-major; not necessarily aligned
  std::size_t nbytes;
};

class Checkpoint {
 public:
  // `path`: a .safetensors file, a model.safetensors.index.json, or a folder holding
  // model.safetensors or model.safetensors.index.json. A folder with only pytorch_model.bin is a
  // lamp::Error explaining how to convert it.
  static Checkpoint open(const std::filesystem::path& path);

  Checkpoint(Checkpoint&&) noexcept;
  Checkpoint& operator=(Checkpoint&&) noexcept;
  ~Checkpoint();

  // nullptr when absent.
  const TensorView* find(std::string_view name) const;
  // Says the bytes of `view` (one of this checkpoint's) will not be read again: their pages leave
  // the process's resident set, so copying a checkpoint into tensors one by one peaks at about
  // one copy of the weights, not two. Reading them later is still valid (they come back from
  // disk).
  void release(const TensorView& view) const;
  // All tensor names, sorted.
  std::vector<std::string> names() const;
  // The first file's "__metadata__" (empty when absent).
  const std::map<std::string, std::string>& metadata() const;
  // Where the tensors come from (for error messages).
  const std::filesystem::path& path() const;

 private:
  struct Impl;
  explicit Checkpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One tensor to write; `data` holds product(shape) * dtype_size(dtype) bytes.
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> data;
};

// The weights file of a model folder: model.safetensors, else model.safetensors.index.json. A
// folder with only pytorch_model.bin (or its sharded index) is a lamp::Error giving the command
// that converts it; a folder with neither is a lamp::Error.
std::filesystem::path find_weights(const std::filesystem::path& folder);

// The shard files a model.safetensors.index.json names, sorted, each once, as written there
// (relative to the index's folder). Names that would leave that folder are a lamp::Error.
std::vector<std::string> index_shards(const std::filesystem::path& index);

// The Python one-liner (Hugging Face transformers) that rewrites a pytorch_model.bin checkpoint
// as safetensors: loads `source` (a folder or hub id) with the class `config` (its config.json)
// names in "architectures", AutoModel when it names none, and saves it into the folder `out`.
std::string conversion_command(std::string_view source, const std::filesystem::path& config,
                               std::string_view out);

// Writes one safetensors file atomically (temporary file, then rename), tensors laid out in the
// given order, header padded with spaces to a multiple of 8 bytes as the Python library does,
// metadata as "__metadata__" (omitted when empty). Loadable by safetensors/transformers.
void write_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace lamp::nn
