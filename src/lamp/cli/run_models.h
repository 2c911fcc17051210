// The models lamp run takes as --model, each a pipeline Predictor (pipeline/predictor.h):
//   profile-vote, majority   the baselines (pipeline/baselines.h); prompts use the Flan-T5
//                            tokenizer bundled with lamp, or --tokenizer
//   openai:NAME              a zero-shot LLM behind an OpenAI-compatible API (--base-url, key in
//                            $OPENAI_API_KEY; pipeline/openai_client.h), answers post-processed
//                            for the task; prompts with the bundled tokenizer or --tokenizer
//   anything else            a T5 checkpoint folder or Hugging Face hub id, run through the nn
//                            plugin (loaded only when some output is not cached); prompts use
//                            the model's own tokenizer
// A model's identity (part of every output cache key) is its name and settings plus, for files
// on disk, each file's name, size and modification time (hub snapshots also carry the commit).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "lamp/nn/options.h"
#include "lamp/pipeline/predictor.h"

namespace lamp::cli {

struct RunModelFlags {
  std::string model;
  nn::Seq2SeqOptions seq2seq;  // max_input_length is also the prompt budget
  int threads = 0;
  std::string base_url;  // openai: (empty: the client's default)
  int concurrency = 8;
  std::filesystem::path cache_dir;  // for the OpenAI client's request cache
};

void add_run_model_flags(CLI::App& cmd, RunModelFlags& flags);

struct RunModel {
  std::unique_ptr<Predictor> predictor;
  // The tokenizer the model's prompts are budgeted with; empty: none chosen (baselines and
  // openai: the bundled Flan-T5 tokenizer unless --tokenizer).
  std::filesystem::path tokenizer;
};

RunModel make_run_model(const RunModelFlags& flags);

// "DIR|name:size:mtime|..." over the files a model folder's outputs depend on.
std::string model_files_identity(const std::filesystem::path& dir);

}  // namespace lamp::cli
