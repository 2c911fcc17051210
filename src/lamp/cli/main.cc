// lamp: the LaMP benchmark in one binary. This file only wires the subcommands together and
// turns a lamp::Error into one line on stderr and exit status 1.
#include <cstdio>
#include <exception>

#include "lamp/cli/commands.h"
#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/nn/blas_env.h"

int main(int argc, char** argv) {
  // Before any thread starts (setenv is not thread-safe) and so before the model plugin loads
  // libtorch and OpenBLAS with it.
  lamp::nn::set_openblas_core_type();
  lamp::remove_temporary_files_on_signals();
  CLI::App app{"lamp: the LaMP personalization benchmark, fast and faithful"};
  app.set_version_flag("--version", "lamp 0.1.0");
  app.require_subcommand(1);
  lamp::cli::add_rank_command(app);
  lamp::cli::add_merge_command(app);
  lamp::cli::add_prompt_command(app);
  lamp::cli::add_eval_command(app);
  lamp::cli::add_compare_command(app);
  lamp::cli::add_data_command(app);
  lamp::cli::add_predict_command(app);
  lamp::cli::add_run_command(app, argc, argv);
  lamp::cli::add_train_command(app);
  lamp::cli::add_model_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const lamp::Error& e) {
    std::fprintf(stderr, "lamp: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lamp: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
