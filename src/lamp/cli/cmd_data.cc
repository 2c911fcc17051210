#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "lamp/cli/commands.h"
#include "lamp/core/error.h"
#include "lamp/data/avocado.h"
#include "lamp/data/json_io.h"
#include "lamp/data/stats.h"
#include "lamp/data/synth.h"

namespace lamp::cli {
namespace {

void add_stats_command(CLI::App& data) {
  struct Args {
    std::string questions, outputs, task;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = data.add_subcommand(
      "stats",
      "Summarise a questions file (and its outputs): samples, users, profile sizes, "
      "lengths, labels, dates");
  cmd->add_option("--questions", args->questions, "Questions file (official LaMP JSON)")
      ->required();
  cmd->add_option("--outputs", args->outputs, "Outputs file (golds) for output lengths and labels");
  cmd->add_option("--task", args->task, "LaMP-N (default: recognised from the inputs)");
  cmd->add_flag("--json", args->json, "Print one JSON object instead of a table");
  cmd->callback([args] {
    const TaskSpec* task = args->task.empty() ? nullptr : &find_task(args->task);
    Questions questions = read_questions(args->questions, task);
    std::optional<Outputs> outputs;
    if (!args->outputs.empty()) outputs = read_outputs(args->outputs);
    DataStats stats = compute_stats(questions, outputs ? &*outputs : nullptr);
    std::string text = args->json ? format_stats_json(stats) : format_stats_text(stats);
    std::fwrite(text.data(), 1, text.size(), stdout);
  });
}

void add_synth_command(CLI::App& data) {
  struct Args {
    std::string task, split = "dev", out;
    // Signed, so that "-5" is refused rather than wrapped into a huge count.
    std::int64_t samples = 40, profile_size = 12, max_words = 0;
    std::uint64_t seed = 1;
    bool dates = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = data.add_subcommand("synth",
                                      "Generate synthetic LaMP data (deterministic for a seed): "
                                      "OUT/<split>_questions.json and OUT/<split>_outputs.json");
  cmd->add_option("--task", args->task, "LaMP-1 .. LaMP-7, or LaMP-2N")->required();
  cmd->add_option("--samples", args->samples, "Number of samples (users)")->capture_default_str();
  cmd->add_option("--profile-size", args->profile_size,
                  "Mean profile size M (each profile has M/2 .. 3M/2 items)")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  cmd->add_option("--split", args->split, "Split name used in the file names (train, dev, test)")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Output directory (created if missing)")->required();
  cmd->add_option("--max-words", args->max_words,
                  "Cap every text at this many words, for small fixtures (0: real lengths)")
      ->capture_default_str();
  cmd->add_flag("--dates", args->dates, "Give every profile item a date (time-based splits)");
  cmd->callback([args] {
    if (args->split.empty() || args->split.find_first_of("/\\") != std::string::npos) {
      throw Error(fmt::format("--split \"{}\" must be a plain name such as dev", args->split));
    }
    auto count = [](std::int64_t value, std::string_view flag, std::int64_t least) {
      if (value < least) throw Error(fmt::format("{} must be at least {}", flag, least));
      return static_cast<std::size_t>(value);
    };
    SynthOptions options{.task = &find_task(args->task),
                         .samples = count(args->samples, "--samples", 1),
                         .profile_size = count(args->profile_size, "--profile-size", 1),
                         .seed = args->seed,
                         .dates = args->dates,
                         .max_words = count(args->max_words, "--max-words", 0)};
    const std::filesystem::path dir = args->out;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw Error(Location{.file = dir.string()}, "cannot create directory: " + ec.message());
    const auto questions = dir / (args->split + "_questions.json");
    const auto outputs = dir / (args->split + "_outputs.json");
    write_synthetic(options, questions, outputs);
    std::printf("wrote %s and %s (%s, %zu samples)\n", questions.string().c_str(),
                outputs.string().c_str(), std::string(options.task->name).c_str(), options.samples);
  });
}

void add_avocado_command(CLI::App& data) {
  auto options = std::make_shared<AvocadoOptions>();
  CLI::App* cmd = data.add_subcommand(
      "avocado",
      "Build the LaMP-6 files from the LDC Avocado zip archives and LaMP's LaMP-6 questions "
      "(create_avocado_dataset.py)");
  cmd->add_option("--avocado-dir", options->avocado_dir,
                  "The Avocado zip archives (avocado-1.0.2/data/text)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--questions-dir", options->questions_dir,
                  "LaMP's {train,dev,test}_questions.json for LaMP-6 (any of them)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", options->out_dir, "Output folder")->required();
  cmd->callback([options] {
    options->log = stderr;
    AvocadoReport report = build_avocado(*options);
    if (report.emails_duplicated > 0) {
      std::fprintf(stderr,
                   "lamp: note: %zu e-mails are in more than one archive; the last archive in name "
                   "order was used\n",
                   report.emails_duplicated);
    }
    for (const std::filesystem::path& path : report.written) {
      std::printf("wrote %s\n", path.string().c_str());
    }
  });
}

}  // namespace

void add_data_command(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Inspect, generate and download LaMP data files");
  data->require_subcommand(1);
  add_stats_command(*data);
  add_synth_command(*data);
  add_avocado_command(*data);
  add_data_fetch_command(*data);
}

}  // namespace lamp::cli
