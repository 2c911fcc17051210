// lamp run's reports, written into the run folder (each atomically):
//   results.json   task, split, model, samples, and per cell its retriever, k (null for none),
//                  metrics (official keys) and where its predictions are
//   results.md     the same as a Markdown table (also printed on stdout at the end)
//   results.svg    the paper's figure: the task's first metric against k, one line per retriever,
//                  "none" as a dashed horizontal line; hand-written SVG 1.1
//   manifest.json  lamp's version, the inputs' content hashes, the model and its identity, the
//                  settings, timings, and which cells came from the cache
//
// Thread-safety: the functions are pure apart from the files they write.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "lamp/pipeline/run.h"

namespace lamp {

struct ReportInfo {
  std::string lamp_version;
  std::string model_identity;
  std::vector<std::string> command;  // argv, for the manifest
};

// The results table in Markdown, columns padded so it also reads as plain text.
std::string results_markdown(const RunConfig& config, const RunResult& result);
std::string results_json(const RunConfig& config, const RunResult& result);
// The plot; a run without metrics (no golds) or without any k cell still gets a valid SVG.
std::string results_svg(const RunConfig& config, const RunResult& result);
std::string manifest_json(const RunConfig& config, const RunResult& result, const ReportInfo& info);

// Writes the four files into config.out_dir.
void write_reports(const RunConfig& config, const RunResult& result, const ReportInfo& info);

}  // namespace lamp
