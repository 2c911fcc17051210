#include "lamp/nn/probe.h"

#include <simdjson.h>

#include <cmath>

#include "lamp/core/error.h"
#include "lamp/core/json_writer.h"
#include "lamp/nn/bert.h"
#include "lamp/nn/generate.h"
#include "lamp/nn/t5.h"

namespace lamp::nn {
namespace {

Error bad_request(std::string_view key, const std::string& message) {
  return Error(Location{.field = std::string(key)}, message);
}

// A rectangular array of integers -> [rows, columns] int64.
at::Tensor int_matrix(simdjson::dom::element root, const char* key) {
  simdjson::dom::array rows;
  if (root[key].get_array().get(rows) != simdjson::SUCCESS)
    throw bad_request(key, "expected an array of arrays of integers");
  std::vector<std::int64_t> values;
  std::int64_t height = 0, width = -1;
  for (simdjson::dom::element row : rows) {
    simdjson::dom::array cells;
    if (row.get_array().get(cells) != simdjson::SUCCESS)
      throw bad_request(key, "expected an array of arrays of integers");
    std::int64_t n = 0;
    for (simdjson::dom::element cell : cells) {
      std::int64_t v;
      if (cell.get_int64().get(v) != simdjson::SUCCESS) throw bad_request(key, "expected integers");
      values.push_back(v);
      ++n;
    }
    if (width >= 0 && n != width) throw bad_request(key, "rows of different lengths");
    width = n;
    ++height;
  }
  if (height == 0 || width <= 0) throw bad_request(key, "empty");
  return at::tensor(values, at::kLong).view({height, width});
}

// Nested arrays of numbers, any rank.
void write_values(JsonWriter& w, const double*& p, at::IntArrayRef shape) {
  if (shape.empty()) {
    w.value(*p++);
    return;
  }
  w.begin_array();
  for (std::int64_t i = 0; i < shape[0]; ++i) write_values(w, p, shape.slice(1));
  w.end_array();
}

void write_tensor(JsonWriter& w, const at::Tensor& t) {
  at::Tensor values = t.detach().to(at::kDouble).contiguous();
  const double* p = values.data_ptr<double>();
  write_values(w, p, values.sizes());
}

at::ScalarType request_dtype(simdjson::dom::element root) {
  std::string_view name = "float32";
  simdjson::dom::element e;
  if (root.at_key("dtype").get(e) == simdjson::SUCCESS && e.get_string().get(name))
    throw bad_request("dtype", "expected a string");
  return parse_dtype(name);
}

GenerationOptions generation_options(std::string_view name, simdjson::dom::object spec) {
  GenerationOptions o;
  for (auto [key, value] : spec) {
    std::string field = "generate." + std::string(name) + "." + std::string(key);
    auto integer = [&] {
      std::int64_t v;
      if (value.get_int64().get(v)) throw bad_request(field, "expected an integer");
      return static_cast<int>(v);
    };
    auto boolean = [&] {
      bool v;
      if (value.get_bool().get(v)) throw bad_request(field, "expected true or false");
      return v;
    };
    if (key == "num_beams") {
      o.num_beams = integer();
    } else if (key == "max_new_tokens") {
      o.max_new_tokens = integer();
    } else if (key == "max_length") {
      o.max_length = integer();
    } else if (key == "min_new_tokens") {
      o.min_new_tokens = integer();
    } else if (key == "length_penalty") {
      if (value.get_double().get(o.length_penalty)) throw bad_request(field, "expected a number");
    } else if (key == "early_stopping") {
      o.early_stopping = boolean();
    } else if (key == "do_sample") {
      if (boolean()) throw bad_request(field, "sampling is not supported");
    } else {
      throw bad_request(field, "unknown generation setting");
    }
  }
  return o;
}

void probe_t5(const std::filesystem::path& dir, simdjson::dom::element root, JsonWriter& w) {
  T5Model model = T5Model::load(dir, request_dtype(root));
  at::Tensor input_ids = int_matrix(root, "input_ids");
  at::Tensor mask = int_matrix(root, "attention_mask");
  if (!mask.sizes().equals(input_ids.sizes()))
    throw bad_request("attention_mask", "shape differs from input_ids");
  simdjson::dom::element labels_json;
  const bool has_labels = root.at_key("labels").get(labels_json) == simdjson::SUCCESS;
  if (!has_labels) {
    c10::InferenceMode guard;
    w.key("encoder_last_hidden_state");
    write_tensor(w, model.encode(input_ids, mask));
  } else {
    at::Tensor labels = int_matrix(root, "labels");
    NamedTensors params = model.named_tensors();
    for (auto& [name, t] : params) t.requires_grad_(true);
    T5Model::LabelledPass pass = model.forward(input_ids, mask, labels);
    pass.loss.backward();
    w.key("encoder_last_hidden_state");
    write_tensor(w, pass.encoder_states.detach());
    w.key("logits");
    write_tensor(w, pass.logits.detach());
    w.key("loss").value(pass.loss.item<double>());
    w.key("per_example_loss");
    write_tensor(w, t5_per_example_loss(pass.logits.detach(), labels));
    // clip_grad_norm_'s total: the 2-norm of the per-parameter 2-norms.
    std::vector<at::Tensor> norms;
    w.key("grad_norm_per_param").begin_object();
    for (const auto& [name, t] : params) {
      norms.push_back(t.grad().norm());
      w.key(name).value(norms.back().item<double>());
    }
    w.end_object();
    w.key("grad_global_norm").value(at::stack(norms).norm().item<double>());
  }
  simdjson::dom::object generations;
  if (root["generate"].get_object().get(generations) == simdjson::SUCCESS) {
    w.key("generate").begin_object();
    for (auto [name, spec_json] : generations) {
      simdjson::dom::object spec;
      if (spec_json.get_object().get(spec))
        throw bad_request("generate." + std::string(name), "expected an object");
      Generation g = generate(model, input_ids, mask, generation_options(name, spec));
      w.key(name).begin_object().key("sequences").begin_array();
      for (const auto& row : g.sequences) {
        w.begin_array();
        for (std::int64_t token : row) w.value(token);
        w.end_array();
      }
      w.end_array();
      if (!g.scores.empty()) {
        w.key("sequences_scores").begin_array();
        for (double s : g.scores) w.value(s);
        w.end_array();
      }
      w.end_object();
    }
    w.end_object();
  }
}

void probe_bert(const std::filesystem::path& dir, simdjson::dom::element root, JsonWriter& w) {
  BertModel model = BertModel::load(dir, request_dtype(root));
  at::Tensor input_ids = int_matrix(root, "input_ids");
  at::Tensor mask = int_matrix(root, "attention_mask");
  if (!mask.sizes().equals(input_ids.sizes()))
    throw bad_request("attention_mask", "shape differs from input_ids");
  c10::InferenceMode guard;
  at::Tensor hidden = model.encode(input_ids, mask);
  w.key("last_hidden_state");
  write_tensor(w, hidden);
  w.key("mean_pooled");
  write_tensor(w, mean_pooling(hidden, mask));
  if (model.has_pooler()) {
    w.key("pooler_output");
    write_tensor(w, model.pool(hidden));
  }
}

}  // namespace

std::string probe_model(const std::filesystem::path& model_dir, std::string_view request_json) {
  simdjson::dom::parser parser;
  simdjson::padded_string text(request_json);
  simdjson::dom::element root;
  if (parser.parse(text).get(root) || !root.is_object())
    throw Error("the probe request is not a JSON object");
  std::string type = read_model_type(model_dir / "config.json");
  JsonWriter w;
  w.begin_object();
  if (type == "t5") {
    probe_t5(model_dir, root, w);
  } else if (type == "bert") {
    probe_bert(model_dir, root, w);
  } else {
    throw Error(Location{.file = (model_dir / "config.json").string(), .field = "model_type"},
                "lamp can probe t5 and bert models, not \"" + type + "\"");
  }
  w.end_object();
  return w.str() + "\n";
}

}  // namespace lamp::nn
