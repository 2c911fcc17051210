#include "lamp/cli/commands.h"

namespace lamp::cli {

void add_data_fetch_command(CLI::App& data) { (void)data; }

}  // namespace lamp::cli
