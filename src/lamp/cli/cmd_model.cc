// lamp model probe | init: developer tools over the nn module (nn/probe.h, nn/init.h).
#include <cstdio>
#include <memory>

#include "lamp/cli/commands.h"
#include "lamp/core/files.h"
#include "lamp/nn/hub.h"
#include "lamp/nn/plugin.h"

namespace lamp::cli {
namespace {

struct ModelArgs {
  std::string model, in, out, config;
  std::uint64_t seed = 0;
  int threads = 1;
};

}  // namespace

void add_model_command(CLI::App& app) {
  CLI::App* model = app.add_subcommand("model", "Model tools: probe a checkpoint, initialise one");
  model->require_subcommand(1);
  auto args = std::make_shared<ModelArgs>();

  CLI::App* probe = model->add_subcommand(
      "probe", "Run a model on given token ids and write its numbers (docs/model-probe.md)");
  probe->add_option("--model", args->model, "Model folder or Hugging Face hub id")->required();
  probe->add_option("--in", args->in, "Request JSON")->required()->check(CLI::ExistingFile);
  probe->add_option("--out", args->out, "Result JSON to write")->required();
  probe->add_option("--threads", args->threads, "Threads (0: all cores)")->capture_default_str();
  probe->callback([args] {
    nn::nn_plugin().set_threads(args->threads);
    std::filesystem::path dir = nn::resolve_model(args->model);
    write_file_atomic(args->out, nn::nn_plugin().probe_model(dir, read_file(args->in)));
    std::fprintf(stderr, "lamp: wrote %s\n", args->out.c_str());
  });

  CLI::App* init = model->add_subcommand("init", "Write a randomly initialised checkpoint");
  init->add_option("--config", args->config, "config.json of a t5 or bert model")
      ->required()
      ->check(CLI::ExistingFile);
  init->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  init->add_option("--out", args->out, "Folder to write")->required();
  init->callback([args] {
    nn::nn_plugin().init_model(args->config, args->seed, args->out);
    std::fprintf(stderr, "lamp: wrote %s/model.safetensors\n", args->out.c_str());
  });
}

}  // namespace lamp::cli
