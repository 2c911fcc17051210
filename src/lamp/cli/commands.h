// The lamp CLI's subcommands. Each add_* registers one command on the app; the command runs in
// its callback and reports user errors by throwing lamp::Error, which main() prints as one line.
#pragma once

#include <CLI/CLI.hpp>

namespace lamp::cli {

void add_eval_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_rank_command(CLI::App& app);
void add_merge_command(CLI::App& app);
void add_prompt_command(CLI::App& app);
// "lamp data" and its subcommands: stats, synth (cmd_data.cc) and fetch (cmd_fetch.cc).
void add_data_command(CLI::App& app);
void add_data_fetch_command(CLI::App& data);
void add_predict_command(CLI::App& app);
// "lamp run" (cmd_run.cc); argv goes into the run's manifest.
void add_run_command(CLI::App& app, int argc, char** argv);
void add_train_command(CLI::App& app);
// "lamp model probe|init" (cmd_model.cc).
void add_model_command(CLI::App& app);

}  // namespace lamp::cli
