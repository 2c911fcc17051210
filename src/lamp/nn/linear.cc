#include "lamp/nn/linear.h"

#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>
#include <cassert>
#include <mutex>

#include "lamp/core/error.h"

namespace lamp::nn {
namespace {

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

}  // namespace

at::Tensor linear(const at::Tensor& x, const Linear& layer) {
  if (!layer.quantized()) return at::linear(x, layer.weight, layer.bias);
  static const c10::OperatorHandle linear_dynamic = op("quantized::linear_dynamic");
  std::vector<std::int64_t> shape = x.sizes().vec();
  at::Tensor rows = x.reshape({-1, shape.back()}).contiguous();  // [N, in]
  at::Tensor y = call(linear_dynamic, {rows, layer.int8, /*reduce_range=*/true}).toTensor();
  shape.back() = y.size(1);
  return y.view(shape);  // [..., out]
}

void quantize_int8(Linear& layer) {
  assert(!layer.quantized() && layer.weight.scalar_type() == at::kFloat);
  select_engine();
  static const c10::OperatorHandle prepack = op("quantized::linear_prepack");
  c10::InferenceMode guard;
  const at::Tensor& w = layer.weight;  // [out, in]
  // Symmetric per-row scales; an all-zero row keeps a positive scale.
  at::Tensor scales = (w.abs().amax({1}) / 127.0).clamp_min(1e-12).to(at::kDouble);  // [out]
  at::Tensor zero_points = at::zeros({w.size(0)}, at::kLong);
  at::Tensor q = at::quantize_per_channel(w, scales, zero_points, 0, at::kQInt8);
  c10::optional<at::Tensor> bias;
  if (layer.bias.defined()) bias = layer.bias;
  layer.int8 = call(prepack, {q, bias});
  layer.weight = at::Tensor();
  layer.bias = at::Tensor();
}

}  // namespace lamp::nn
