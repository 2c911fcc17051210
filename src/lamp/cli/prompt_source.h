// The profile selection and prompt flags shared by `lamp prompt` and `lamp predict`:
//   --ranker bm25|recency|random|contriever | --ranked | --no-profile  (exactly one)
//   --k, --use-date, --seed, --official-random, --threads, and the Contriever flags
// and the prompts they give: prompts.py's strings for the first k items of each ranked profile,
// or the bare inputs with --no-profile.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "lamp/cli/dense_ranker.h"
#include "lamp/data/dataset.h"
#include "lamp/prompt/prompt.h"
#include "lamp/retrieval/retriever.h"
#include "lamp/text/t5_tokenizer.h"

namespace lamp::cli {

struct PromptFlags {
  std::string ranker;
  bool ranked = false, no_profile = false;
  int k = 1;
  RankOptions rank;
  DenseRankerFlags dense;
  CLI::Option* ranker_option = nullptr;
};

void add_prompt_flags(CLI::App& cmd, PromptFlags& flags);

// In the command's callback, before build_prompts: lamp::Error unless exactly one way of
// choosing profile items was given; parses --ranker.
void check_prompt_flags(PromptFlags& flags);

// One prompt per sample, in file order. `tokenizer` may be null with --no-profile.
// `questions_path` names the file in errors.
std::vector<Prompt> build_prompts(const Questions& questions, PromptFlags& flags,
                                  const text::T5Tokenizer* tokenizer, int max_length,
                                  const std::string& questions_path);

// A note on stderr when the budget loop gave up on some samples (the official code is silent).
void report_bare_prompts(std::span<const Prompt> prompts, int max_length);

}  // namespace lamp::cli
