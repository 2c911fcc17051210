// "lamp data fetch": flags to a FetchRequest; the work is lamp::fetch_dataset (data/fetch.h).
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "lamp/cli/commands.h"
#include "lamp/data/fetch.h"
#include "lamp/data/task.h"

namespace lamp::cli {

void add_data_fetch_command(CLI::App& data) {
  struct Flags {
    std::string task;
    std::string split;
    std::string part;
    std::string dir;
    std::string base_url;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = data.add_subcommand(
      "fetch",
      "Download one LaMP dataset's official files into a directory (resumable; each file is "
      "validated before it gets its official name)");
  cmd->add_option("--task", flags->task, "LaMP-1 .. LaMP-7 (LaMP_N also works)")->required();
  // Choices as words, so that --help lists them as the user types them.
  cmd->add_option("--split", flags->split, "user-based or time-based split")
      ->required()
      ->transform(CLI::IsMember({"user", "time"}, CLI::ignore_case));
  cmd->add_option("--part", flags->part, "which part (test has questions only)")
      ->required()
      ->transform(CLI::IsMember({"train", "dev", "test"}, CLI::ignore_case));
  cmd->add_option("--dir", flags->dir, "where to save {part}_questions.json, {part}_outputs.json")
      ->required();
  cmd->add_option("--base-url", flags->base_url,
                  "the server's LaMP folder (default: $LAMP_DATA_URL, else " +
                      std::string(kDefaultDataUrl) + ")");
  cmd->callback([flags] {
    FetchRequest request{
        .task = &find_task(flags->task),
        .split = flags->split == "time" ? Split::kTime : Split::kUser,
        .part = flags->part == "test"  ? Part::kTest
                : flags->part == "dev" ? Part::kDev
                                       : Part::kTrain,
        .dir = flags->dir,
        .base_url = resolve_base_url(flags->base_url),
        // A meter only where someone watches; logs get one line per file.
        .download = {.log = stderr, .live_progress = ::isatty(STDERR_FILENO) == 1},
    };
    fetch_dataset(request);
  });
}

}  // namespace lamp::cli
