#include "lamp/cli/commands.h"

namespace lamp::cli {

void add_eval_command(CLI::App& app) { (void)app; }

}  // namespace lamp::cli
