#include "lamp/nn/linear.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/grad_mode.h>

#include <malloc.h>
#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <vector>

#include "lamp/core/error.h"
#include "lamp/nn/cpu.h"

namespace lamp::nn {

struct Int8Weight {
  // The int8 values, each row zero-padded to a multiple of 32 columns (lamp's kernel reads them
  // as they are).
  at::Tensor values;  // [out, padded_in] int8
  // Per output row, zero-padded to a multiple of 4 rows (the kernel writes four at a time):
  at::Tensor scales;   // [padded_out] float
  at::Tensor offsets;  // [padded_out] int32: 64 * the row's sum (inputs are shifted by +64)
  at::Tensor bias;     // [padded_out] float, zeros for a layer without one
  std::int64_t in = 0;
  // The quantized engine's prepacked weight and bias, made on the first call with many rows:
  // decoder layers never see one while generating, and the engine keeps two copies.
  mutable std::once_flag packing;
  mutable c10::IValue packed;
};

namespace {

constexpr std::int64_t kBlock = 32;  // bytes of one AVX2 register
constexpr int kInputShift = 64;      // 7-bit inputs in [-63, 63] become unsigned [1, 127]

std::atomic<bool> vnni_allowed{true};  // allow_int8_vnni

// The quantized engine is process-wide; the first quantization picks it.
void select_engine() {
  static std::once_flag once;
  std::call_once(once, [] {
    const auto& engines = at::globalContext().supportedQEngines();
    for (at::QEngine engine : {at::QEngine::FBGEMM, at::QEngine::ONEDNN}) {
      if (std::find(engines.begin(), engines.end(), engine) != engines.end()) {
        at::globalContext().setQEngine(engine);
        return;
      }
    }
    throw Error(
        "int8 needs a libtorch with the FBGEMM or oneDNN quantized engine; this one has "
        "neither (use --compute-type float32)");
  });
}

// The operators are called boxed: their packed-weight type is a TorchScript class whose C++
// declaration is not part of libtorch's public headers.
c10::IValue call(const c10::OperatorHandle& op, std::vector<c10::IValue> args) {
  torch::jit::Stack stack(std::make_move_iterator(args.begin()),
                          std::make_move_iterator(args.end()));
  op.callBoxed(&stack);
  return std::move(stack.at(0));
}

c10::OperatorHandle op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
}

#if defined(__x86_64__)
// Each row of x [M, K] to 7 bits with its own scale, shifted to unsigned, zero-padded to
// `padded` columns: q [M, padded], scale [M].
LAMP_AVX2 void quantize_rows(const float* x, std::int64_t rows, std::int64_t in,
                             std::int64_t padded, std::uint8_t* q, float* scale) {
  for (std::int64_t m = 0; m < rows; ++m) {
    const float* row = x + m * in;
    float largest = 0;
    for (std::int64_t k = 0; k < in; ++k) largest = std::max(largest, std::abs(row[k]));
    scale[m] = largest / 63.0f;
    const float inverse = largest > 0 ? 63.0f / largest : 0.0f;
    std::uint8_t* out = q + m * padded;
    for (std::int64_t k = 0; k < in; ++k)
      out[k] = static_cast<std::uint8_t>(std::nearbyint(row[k] * inverse) + kInputShift);
    std::fill(out + in, out + padded, static_cast<std::uint8_t>(kInputShift));
  }
}

// An Int8Weight's arrays, looked up once per call.
struct Int8Arrays {
  const std::int8_t* values;
  const float* scales;
  const std::int32_t* offsets;
  const float* bias;
  std::int64_t padded;  // row stride of values
};

// acc + the sums of each 4 adjacent u8 x s8 products of a and b, in int32 lanes. With VNNI one
// instruction (vpdpbusd), else maddubs into 16-bit pairs (which 7-bit inputs cannot saturate)
// and madd into 32 bits; the sums are equal. VNNI's is written as assembly: the kernel around it
// is compiled for AVX2 alone, whose intrinsics cannot call AVX-512 ones.
template <bool kVnni>
[[gnu::always_inline]] LAMP_AVX2 inline __m256i dot_accumulate(__m256i acc, __m256i a, __m256i b) {
  if constexpr (kVnni) {
    asm("vpdpbusd %[b], %[a], %[acc]" : [acc] "+v"(acc) : [a] "v"(a), [b] "v"(b));
    return acc;
  } else {
    return _mm256_add_epi32(acc,
                            _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)));
  }
}

// The few-rows kernels' arithmetic on 256-bit registers: int8 (u8 inputs x s8 weights into
// int32 lanes, with or without VNNI) and float32 (multiply-adds).
template <bool kVnni>
struct Int8Lanes {
  using Value = std::uint8_t;  // an input; weights are int8, loaded as bytes all the same
  using Reg = __m256i;
  static constexpr std::int64_t kStep = 32;
  static LAMP_AVX2 Reg zero() { return _mm256_setzero_si256(); }
  static LAMP_AVX2 Reg load(const void* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static LAMP_AVX2 Reg dot(Reg acc, Reg a, Reg b) { return dot_accumulate<kVnni>(acc, a, b); }
};
struct FloatLanes {
  using Value = float;
  using Reg = __m256;
  static constexpr std::int64_t kStep = 8;
  static LAMP_AVX2 Reg zero() { return _mm256_setzero_ps(); }
  static LAMP_AVX2 Reg load(const void* p) { return _mm256_loadu_ps(static_cast<const float*>(p)); }
  static LAMP_AVX2 Reg dot(Reg acc, Reg a, Reg b) { return _mm256_fmadd_ps(a, b, acc); }
};

// acc[i][j] = lane-wise sums of weight row wr[i] times input row j (at x + j * stride) over the
// first `length` values, a multiple of L::kStep.
template <int kRows, class L>
[[gnu::always_inline]] LAMP_AVX2 inline void accumulate_block(
    const typename L::Value* const (&wr)[4], const typename L::Value* x, std::int64_t stride,
    std::int64_t length, typename L::Reg (&acc)[4][kRows]) {
  for (auto& a : acc)
    for (auto& r : a) r = L::zero();
  for (std::int64_t k = 0; k < length; k += L::kStep) {
    typename L::Reg a[kRows];
    for (int j = 0; j < kRows; ++j) a[j] = L::load(x + j * stride + k);
    for (int i = 0; i < 4; ++i) {
      const typename L::Reg b = L::load(wr[i] + k);
      for (int j = 0; j < kRows; ++j) acc[i][j] = L::dot(acc[i][j], a[j], b);
    }
  }
}

// Stores the first `count` (1 to 4) lanes of v at out.
LAMP_AVX2 void store_up_to_4(float* out, __m128 v, int count) {
  if (count == 4) {
    _mm_storeu_ps(out, v);
  } else {  // the last rows of a width that is not a multiple of 4
    alignas(16) float tail[4];
    _mm_store_ps(tail, v);
    std::copy_n(tail, count, out);
  }
}

// y[m0 .. m0 + kRows, n .. n + 4) of y [M, out_dim]: four weight rows against kRows input rows,
// int32 sums of u8 x s8 products.
template <int kRows, bool kVnni>
LAMP_AVX2 void dot_rows(const Int8Arrays& w, const std::uint8_t* q, const float* q_scale,
                        std::int64_t m0, std::int64_t n, std::int64_t out_dim, float* y) {
  const std::int64_t padded = w.padded;
  const int weight_rows = static_cast<int>(std::min<std::int64_t>(4, out_dim - n));
  const std::uint8_t* wr[4];
  for (int i = 0; i < 4; ++i)
    wr[i] = reinterpret_cast<const std::uint8_t*>(w.values) +
            (n + std::min(i, weight_rows - 1)) * padded;
  __m256i acc[4][kRows];
  accumulate_block<kRows, Int8Lanes<kVnni>>(wr, q + m0 * padded, padded, padded, acc);
  // The four rows' sums side by side: two rounds of pairwise adds, then the two halves.
  const __m128 w_scale = _mm_loadu_ps(w.scales + n);
  const __m128i offset = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.offsets + n));
  const __m128 b = _mm_loadu_ps(w.bias + n);
  for (int j = 0; j < kRows; ++j) {
    const __m256i pairs = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0][j], acc[1][j]),
                                            _mm256_hadd_epi32(acc[2][j], acc[3][j]));
    const __m128i sums = _mm_sub_epi32(
        _mm_add_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1)), offset);
    const __m128 v = _mm_add_ps(
        _mm_mul_ps(_mm_cvtepi32_ps(sums), _mm_mul_ps(w_scale, _mm_set1_ps(q_scale[m0 + j]))), b);
    store_up_to_4(y + (m0 + j) * out_dim + n, v, weight_rows);
  }
}

// The same for float32 weights w [out_dim, in] and inputs x [M, in]: y = x w^T + bias (bias may
// be null).
template <int kRows>
LAMP_AVX2 void dot_rows(const float* w, const float* bias, const float* x, std::int64_t in,
                        std::int64_t m0, std::int64_t n, std::int64_t out_dim, float* y) {
  const int weight_rows = static_cast<int>(std::min<std::int64_t>(4, out_dim - n));
  const float* wr[4];
  for (int i = 0; i < 4; ++i) wr[i] = w + (n + std::min(i, weight_rows - 1)) * in;
  const std::int64_t vector_part = in / FloatLanes::kStep * FloatLanes::kStep;
  __m256 acc[4][kRows];
  accumulate_block<kRows, FloatLanes>(wr, x + m0 * in, in, vector_part, acc);
  alignas(16) float bias4[4] = {};
  if (bias != nullptr) std::copy_n(bias + n, weight_rows, bias4);
  const __m128 b = _mm_load_ps(bias4);
  for (int j = 0; j < kRows; ++j) {
    const __m256 pairs =
        _mm256_hadd_ps(_mm256_hadd_ps(acc[0][j], acc[1][j]), _mm256_hadd_ps(acc[2][j], acc[3][j]));
    __m128 v = _mm_add_ps(_mm256_castps256_ps128(pairs), _mm256_extractf128_ps(pairs, 1));
    if (vector_part < in) {  // the columns past the last multiple of 8
      alignas(16) float rest[4] = {};
      const float* row = x + (m0 + j) * in;
      for (int i = 0; i < 4; ++i)
        for (std::int64_t k = vector_part; k < in; ++k) rest[i] += row[k] * wr[i][k];
      v = _mm_add_ps(v, _mm_load_ps(rest));
    }
    store_up_to_4(y + (m0 + j) * out_dim + n, _mm_add_ps(v, b), weight_rows);
  }
}

// Calls dot(block_rows, m, n) for every block of four output columns n .. n + 4 and every pair
// of input rows m, m + 1 (then a last single one; block_rows is std::integral_constant 2 or 1).
// Threads split the output columns. Each block of four weight rows meets every input row while
// it is in L1: weights are read once per call (the LM head's 25 MB are read from memory; with
// input rows outermost they were read once per pair of rows).
template <class Dot>
void for_each_block(std::int64_t rows, std::int64_t out_dim, Dot&& dot) {
  const std::int64_t blocks = (out_dim + 3) / 4;
  at::parallel_for(0, blocks, 16, [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t n = b0 * 4; n < std::min(b1 * 4, out_dim); n += 4) {
      std::int64_t m = 0;
      for (; m + 2 <= rows; m += 2) dot(std::integral_constant<int, 2>{}, m, n);
      if (m < rows) dot(std::integral_constant<int, 1>{}, m, n);
    }
  });
}

// x [M, in] float, M <= kFewRows -> y [M, out]
at::Tensor few_rows_linear(const at::Tensor& x, const Int8Weight& w) {
  const std::int64_t rows = x.size(0), out_dim = w.values.size(0), padded = w.values.size(1);
  std::vector<std::uint8_t> q(static_cast<std::size_t>(rows * padded));
  std::vector<float> q_scale(static_cast<std::size_t>(rows));
  quantize_rows(x.data_ptr<float>(), rows, w.in, padded, q.data(), q_scale.data());
  at::Tensor y = at::empty({rows, out_dim}, x.options());
  float* out = y.data_ptr<float>();
  const Int8Arrays arrays{w.values.data_ptr<std::int8_t>(), w.scales.data_ptr<float>(),
                          w.offsets.data_ptr<std::int32_t>(), w.bias.data_ptr<float>(), padded};
  auto run = [&]<bool kVnni>() {
    for_each_block(rows, out_dim, [&](auto block_rows, std::int64_t m, std::int64_t n) {
      dot_rows<decltype(block_rows)::value, kVnni>(arrays, q.data(), q_scale.data(), m, n, out_dim,
                                                   out);
    });
  };
  if (vnni_allowed.load(std::memory_order_relaxed) && has_avx512_vnni())
    run.template operator()<true>();
  else
    run.template operator()<false>();
  return y;
}

// x [M, in] float, w [out, in] float (contiguous), bias [out] or undefined -> y [M, out]
at::Tensor few_rows_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias) {
  const std::int64_t rows = x.size(0), in = x.size(1), out_dim = w.size(0);
  at::Tensor y = at::empty({rows, out_dim}, x.options());
  const float* xp = x.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  const float* bp = bias.defined() ? bias.data_ptr<float>() : nullptr;
  float* out = y.data_ptr<float>();
  for_each_block(rows, out_dim, [&](auto block_rows, std::int64_t m, std::int64_t n) {
    dot_rows<decltype(block_rows)::value>(wp, bp, xp, in, m, n, out_dim, out);
  });
  return y;
}
#else
at::Tensor few_rows_linear(const at::Tensor&, const Int8Weight&) { return {}; }
at::Tensor few_rows_linear(const at::Tensor&, const at::Tensor&, const at::Tensor&) { return {}; }
#endif

const c10::IValue& packed(const Int8Weight& w) {
  std::call_once(w.packing, [&w] {
    static const c10::OperatorHandle prepack = op("quantized::linear_prepack");
    c10::InferenceMode guard;
    const std::int64_t out_dim = w.values.size(0);
    at::Tensor q = at::_make_per_channel_quantized_tensor(
        w.values.narrow(1, 0, w.in).contiguous(), w.scales.to(at::kDouble),
        at::zeros({out_dim}, at::kLong), 0);  // [out, in]
    w.packed = call(prepack, {q, w.bias.narrow(0, 0, out_dim)});
  });
  return w.packed;
}

// x [..., in] -> product(rows [N, in]) [N, out] -> [..., out].
template <class Product>
at::Tensor over_rows(const at::Tensor& x, Product&& product) {
  std::vector<std::int64_t> shape = x.sizes().vec();
  at::Tensor y = product(x.reshape({-1, shape.back()}).contiguous());
  shape.back() = y.size(1);
  return y.view(shape);
}

}  // namespace

at::Tensor linear(const at::Tensor& x, const Linear& layer) {
  if (!layer.quantized()) {
    const std::int64_t rows = x.numel() / std::max<std::int64_t>(1, x.size(-1));
    if (rows <= kFewRowsFloat32 && has_avx2() && !at::GradMode::is_enabled() &&
        x.scalar_type() == at::kFloat && layer.weight.scalar_type() == at::kFloat &&
        layer.weight.is_contiguous() && (!layer.bias.defined() || layer.bias.is_contiguous())) {
      return over_rows(
          x, [&](const at::Tensor& r) { return few_rows_linear(r, layer.weight, layer.bias); });
    }
    return at::linear(x, layer.weight, layer.bias);
  }
  static const c10::OperatorHandle linear_dynamic = op("quantized::linear_dynamic");
  return over_rows(x, [&](const at::Tensor& rows) {
    return rows.size(0) <= kFewRows && has_avx2() && rows.scalar_type() == at::kFloat
               ? few_rows_linear(rows, *layer.int8)
               : call(linear_dynamic, {rows, packed(*layer.int8), /*reduce_range=*/true})
                     .toTensor();
  });
}

void allow_int8_vnni(bool allow) { vnni_allowed.store(allow, std::memory_order_relaxed); }

void quantize_int8(Linear& layer) {
  assert(!layer.quantized() && layer.weight.scalar_type() == at::kFloat);
  select_engine();
  c10::InferenceMode guard;
  const at::Tensor& w = layer.weight;  // [out, in]
  const std::int64_t out_dim = w.size(0), in = w.size(1);
  // Symmetric per-row scales; an all-zero row keeps a positive scale. One fp32 temporary: the
  // LM head's is 100 MB.
  auto [low, high] = at::aminmax(w, 1);
  at::Tensor scales = (at::maximum(low.abs(), high) / 127.0).clamp_min(1e-12);  // [out]
  at::Tensor scaled = w / scales.unsqueeze(1);
  scaled.round_().clamp_(-127, 127);
  const std::int64_t padded = (in + kBlock - 1) / kBlock * kBlock;
  auto int8 = std::make_shared<Int8Weight>();
  int8->values = at::zeros({out_dim, padded}, at::kChar);
  int8->values.narrow(1, 0, in).copy_(scaled);
  scaled = at::Tensor();
  const std::int64_t padded_out = (out_dim + 3) / 4 * 4;
  auto pad = [&](const at::Tensor& t) {  // [out] -> [padded_out], zeros after
    return at::constant_pad_nd(t, {0, padded_out - out_dim});
  };
  int8->scales = pad(scales);
  int8->offsets = pad(int8->values.sum(1, false, at::kInt) * kInputShift);
  int8->bias = pad(layer.bias.defined() ? layer.bias : at::zeros({out_dim}));
  int8->in = in;
  layer.int8 = std::move(int8);
  layer.weight = at::Tensor();
}

void quantize_layers(ComputeType compute, std::initializer_list<Linear*> layers) {
  if (compute != ComputeType::kInt8) return;
  for (Linear* layer : layers)
    if (layer->weight.defined()) quantize_int8(*layer);
#if defined(__GLIBC__)
  // The fp32 originals were freed between long-lived int8 blocks: hand their pages back, or the
  // heap's holes keep an int8 model as large as its fp32 load (1.45 GB against 1.22 for
  // flan-t5-base).
  malloc_trim(0);
#endif
}

}  // namespace lamp::nn
