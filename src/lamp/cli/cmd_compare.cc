// lamp compare A B: is B better than A, and is the difference more than chance? Paired bootstrap
// confidence intervals and p-values per metric (metrics/bootstrap.h) over the gold ids both
// predict. A and B are two prediction files (with --golds), or two `lamp run` folders, whose
// cells (cells/CELL/predictions.json) are compared pairwise by name.
#include <simdjson.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lamp/cli/commands.h"
#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/data/json_io.h"
#include "lamp/metrics/bootstrap.h"
#include "lamp/metrics/evaluate.h"

namespace lamp::cli {
namespace {

namespace fs = std::filesystem;

struct CompareArgs {
  std::string a, b, golds, task, out;
  CompareOptions options;
  double alpha = 0.05;
};

// One comparison to make: a name ("" for two files) and the two predictions files.
struct Job {
  std::string name;
  fs::path a, b;
};

const TaskSpec& choose_task(const std::string& flag, const Outputs& golds, const Outputs& a,
                            const Outputs& b) {
  if (!flag.empty()) return find_task(flag);
  for (const Outputs* file : {&golds, &a, &b}) {
    if (!file->task.empty()) return task_of_outputs(file->task, golds);
  }
  throw Error("no file names its task: pass --task LaMP-N");
}

// The cells two run folders share, by name, in A's order (sorted names).
std::vector<Job> shared_cells(const fs::path& a, const fs::path& b) {
  std::vector<std::string> names;
  for (const fs::path& run : {a, b}) {
    if (!fs::is_directory(run / "cells")) {
      throw Error(Location{.file = run.string()}, "not a lamp run folder (no cells/ inside)");
    }
  }
  for (const auto& entry : fs::directory_iterator(a / "cells")) {
    std::string name = entry.path().filename().string();
    if (fs::is_regular_file(entry.path() / "predictions.json") &&
        fs::is_regular_file(b / "cells" / name / "predictions.json")) {
      names.push_back(name);
    }
  }
  if (names.empty()) {
    throw Error(fmt::format("{} and {} have no cell in common", a.string(), b.string()));
  }
  std::sort(names.begin(), names.end());
  std::vector<Job> jobs;
  for (const std::string& name : names) {
    jobs.push_back(
        {name, a / "cells" / name / "predictions.json", b / "cells" / name / "predictions.json"});
  }
  return jobs;
}

// The golds a run was scored against: --golds, else what run A's manifest.json names (its
// "golds", else the input called *_outputs.json, the official name lamp run reads).
fs::path run_golds(const CompareArgs& args) {
  if (!args.golds.empty()) return args.golds;
  fs::path manifest = fs::path(args.a) / "manifest.json";
  std::string text = fs::exists(manifest) ? read_file(manifest) : "";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (!text.empty() && !parser.parse(text).get(root)) {
    std::string_view golds;
    if (!root["golds"].get(golds)) return fs::path(golds);
    simdjson::dom::array inputs;
    if (!root["inputs"].get(inputs)) {
      for (simdjson::dom::element input : inputs) {
        std::string_view path;
        if (!input["path"].get(path) && path.ends_with("_outputs.json")) return fs::path(path);
      }
    }
  }
  throw Error(
      Location{.file = manifest.string()},
      "names no golds file: pass --golds G.json (the outputs file the runs were scored on)");
}

std::string format_p(double p, int resamples) {
  if (p <= 1.0 / (resamples + 1) + 1e-15) return fmt::format("<{:.4f}", 1.0 / resamples);
  return fmt::format("{:.4f}", p);
}

void print_table(const Job& job, const Comparison& c, const CompareArgs& args) {
  std::string title =
      job.name.empty() ? std::string(c.task->name) : fmt::format("{} {}", c.task->name, job.name);
  std::printf("%s: %zu examples, %d paired bootstrap resamples (seed %llu)\n", title.c_str(),
              c.examples, c.resamples, static_cast<unsigned long long>(args.options.seed));
  if (c.missing_a > 0 || c.missing_b > 0) {
    std::printf("  left out: %zu gold ids without a prediction in A, %zu in B\n", c.missing_a,
                c.missing_b);
  }
  std::printf("  %-9s %9s %9s %9s   %-23s p\n", "metric", "A", "B", "B - A", "95% interval");
  for (const MetricDifference& m : c.metrics) {
    std::string line = fmt::format(
        "  {:<9} {:9.4f} {:9.4f} {:+9.4f}   {:<23} {:<8}", m.name, m.a, m.b, m.difference,
        fmt::format("[{:+.4f}, {:+.4f}]", m.interval.low, m.interval.high),
        format_p(m.p_value, c.resamples));
    if (m.p_value < args.alpha && m.difference != 0) {
      bool b_better = (m.difference > 0) != m.lower_is_better;
      line += b_better ? " B better" : " A better";
    }
    while (line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

void write_json(JsonWriter& w, const Job& job, const Comparison& c) {
  w.begin_object();
  if (!job.name.empty()) w.key("cell").value(job.name);
  w.key("task").value(c.task->name).key("a").value(job.a.string()).key("b").value(job.b.string());
  w.key("examples").value(static_cast<std::int64_t>(c.examples));
  w.key("missing_a").value(static_cast<std::int64_t>(c.missing_a));
  w.key("missing_b").value(static_cast<std::int64_t>(c.missing_b));
  w.key("resamples").value(static_cast<std::int64_t>(c.resamples));
  w.key("metrics").begin_object();
  for (const MetricDifference& m : c.metrics) {
    w.key(m.name).begin_object();
    w.key("a").value(m.a).key("b").value(m.b).key("difference").value(m.difference);
    w.key("interval").begin_object();
    w.key("low").value(m.interval.low).key("mid").value(m.interval.mid);
    w.key("high").value(m.interval.high).end_object();
    w.key("p_value").value(m.p_value).key("lower_is_better").value(m.lower_is_better);
    w.end_object();
  }
  w.end_object().end_object();
}

void run_compare(const CompareArgs& args) {
  bool runs = fs::is_directory(args.a) && fs::is_directory(args.b);
  if (!runs && (fs::is_directory(args.a) || fs::is_directory(args.b))) {
    throw Error("give two prediction files or two run folders, not one of each");
  }
  if (!runs && args.golds.empty()) throw Error("comparing prediction files needs --golds G.json");
  std::vector<Job> jobs =
      runs ? shared_cells(args.a, args.b) : std::vector<Job>{{"", args.a, args.b}};
  Outputs golds = read_outputs(runs ? run_golds(args) : fs::path(args.golds));
  JsonWriter w(2);
  w.begin_object().key("seed").value(static_cast<std::int64_t>(args.options.seed));
  w.key("comparisons").begin_array();
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    Outputs a = read_outputs(jobs[i].a);
    Outputs b = read_outputs(jobs[i].b);
    const TaskSpec& task = choose_task(args.task, golds, a, b);
    Comparison c = compare_predictions(task, golds, a, b, args.options);
    if (i > 0) std::printf("\n");
    print_table(jobs[i], c, args);
    write_json(w, jobs[i], c);
  }
  w.end_array().end_object();
  if (!args.out.empty()) write_file_atomic(args.out, w.str() + "\n");
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Paired bootstrap comparison of two prediction files (with --golds) or two lamp run folders");
  cmd->add_option("A", args->a, "Predictions file or run folder A (the baseline)")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("B", args->b, "Predictions file or run folder B")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("--golds", args->golds, "Gold outputs file")->check(CLI::ExistingFile);
  cmd->add_option("--task", args->task, "LaMP-N or LaMP_N (default: the files' \"task\")");
  cmd->add_option("--resamples", args->options.resamples, "Bootstrap resamples")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  cmd->add_option("--seed", args->options.seed, "Bootstrap seed")->capture_default_str();
  cmd->add_option("--alpha", args->alpha, "Significance level for the verdict column")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--out", args->out, "Also write the comparison as JSON here");
  cmd->callback([args] { run_compare(*args); });
}

}  // namespace lamp::cli
