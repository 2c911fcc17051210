#include "lamp/cli/commands.h"

namespace lamp::cli {

void add_data_command(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Inspect, generate and download LaMP data files");
  data->require_subcommand(1);
  add_data_fetch_command(*data);
}

}  // namespace lamp::cli
