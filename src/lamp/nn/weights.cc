#include "lamp/nn/weights.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>

#include <cstring>
#include <thread>

#include "lamp/core/error.h"
#include "lamp/nn/runtime.h"

namespace lamp::nn {
namespace {

at::ScalarType to_scalar_type(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return at::kFloat;
    case DType::kF16:
      return at::kHalf;
    case DType::kBF16:
      return at::kBFloat16;
    case DType::kF64:
      return at::kDouble;
    case DType::kI64:
      return at::kLong;
    case DType::kI32:
      return at::kInt;
    case DType::kI8:
      return at::kChar;
    case DType::kU8:
      return at::kByte;
    case DType::kBool:
      return at::kBool;
  }
  return at::kFloat;
}

DType to_dtype(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return DType::kF32;
    case at::kHalf:
      return DType::kF16;
    case at::kBFloat16:
      return DType::kBF16;
    case at::kDouble:
      return DType::kF64;
    case at::kLong:
      return DType::kI64;
    case at::kInt:
      return DType::kI32;
    default:
      break;
  }
  throw Error(std::string("cannot save tensors of type ") + at::toString(type));
}

std::string shape_string(at::IntArrayRef shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

WeightLoader::WeightLoader(const Checkpoint& checkpoint, at::ScalarType dtype)
    : checkpoint_(checkpoint), dtype_(dtype) {}

bool WeightLoader::has(std::string_view name) const { return checkpoint_.find(name) != nullptr; }

at::Tensor WeightLoader::get(const std::string& name, std::vector<std::int64_t> shape) const {
  const TensorView* view = checkpoint_.find(name);
  Location where{.file = checkpoint_.path().string(), .field = name};
  if (!view) throw Error(where, "tensor missing from the checkpoint");
  if (view->shape != shape)
    throw Error(where, "tensor has shape " + shape_string(view->shape) + ", the config needs " +
                           shape_string(shape));
  at::ScalarType source = to_scalar_type(view->dtype);
  if (!at::isFloatingType(source)) throw Error(where, "tensor is not floating point");
  // Copy out of the (possibly unaligned) mapping, then convert.
  at::Tensor raw = at::empty(shape, at::TensorOptions().dtype(source));
  std::memcpy(raw.data_ptr(), view->data, view->nbytes);
  checkpoint_.release(*view);
  return raw.to(dtype_).contiguous();
}

void save_tensors(const std::filesystem::path& path, const NamedTensors& tensors) {
  std::vector<at::Tensor> contiguous;
  std::vector<TensorToWrite> out;
  contiguous.reserve(tensors.size());
  out.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    contiguous.push_back(tensor.detach().to(at::kCPU).contiguous());
    const at::Tensor& t = contiguous.back();
    out.push_back({.name = name,
                   .dtype = to_dtype(t.scalar_type()),
                   .shape = std::vector<std::int64_t>(t.sizes().begin(), t.sizes().end()),
                   .data = {static_cast<const std::byte*>(t.data_ptr()), t.nbytes()}});
  }
  write_safetensors(path, out, {{"format", "pt"}});
}

at::ScalarType parse_dtype(std::string_view name) {
  if (name == "float32") return at::kFloat;
  if (name == "float64") return at::kDouble;
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "float16") return at::kHalf;
  throw Error("unknown dtype \"" + std::string(name) +
              "\" (float32, float64, bfloat16 or float16)");
}

void set_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  // OpenBLAS, when libtorch uses it (Debian's build; PyPI builds use MKL): its OpenMP build shares
  // libtorch's OpenMP threads, so GEMMs get all of them; its pthreads build keeps a pool of its
  // own, which beside libtorch's spinning OpenMP threads oversubscribes the cores (2-4x slower
  // training measured on 2 cores), so it is kept to one thread when libtorch has several.
  using GetParallel = int (*)();
  using SetThreads = void (*)(int);
  auto parallel = reinterpret_cast<GetParallel>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
  auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (parallel && set) set(parallel() == 2 ? threads : 1);
}

void keep_freed_blocks() {
#if defined(__GLIBC__)
  static const bool kept = mallopt(M_MMAP_THRESHOLD, 1 << 30) && mallopt(M_TRIM_THRESHOLD, 1 << 30);
  (void)kept;
#endif
}

}  // namespace lamp::nn
