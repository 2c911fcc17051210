// lamp prompt: prompts.py's personalized prompts for every sample, as JSON lines
// {"id", "prompt"}. The profile is ranked by --ranker (or taken in file order with --ranked) and
// its first k items are packed under the token budget of --max-length.
#include <cstdio>
#include <memory>

#include "lamp/cli/commands.h"
#include "lamp/cli/prompt_source.h"
#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/data/json_io.h"

namespace lamp::cli {
namespace {

struct PromptArgs {
  std::string task, questions, tokenizer, out;
  int max_length = 512;
  PromptFlags flags;
};

void run_prompt(PromptArgs& args) {
  const TaskSpec* task = args.task.empty() ? nullptr : &find_task(args.task);
  Questions questions = read_questions(args.questions, task);
  std::optional<text::T5Tokenizer> tokenizer;
  if (!args.flags.no_profile) tokenizer.emplace(text::T5Tokenizer::load(args.tokenizer));
  std::vector<Prompt> prompts = build_prompts(
      questions, args.flags, tokenizer ? &*tokenizer : nullptr, args.max_length, args.questions);
  AtomicFile file(args.out);
  for (std::size_t i = 0; i < questions.size(); ++i) {
    JsonWriter line;
    line.begin_object()
        .key("id")
        .value(questions.samples()[i].id)
        .key("prompt")
        .value(prompts[i].text)
        .end_object();
    file.write(line.str());
    file.write("\n");
  }
  file.commit();
  report_bare_prompts(prompts, args.max_length);
  std::fprintf(stderr, "lamp: wrote %zu prompts to %s\n", questions.size(), args.out.c_str());
}

}  // namespace

void add_prompt_command(CLI::App& app) {
  auto args = std::make_shared<PromptArgs>();
  CLI::App* cmd =
      app.add_subcommand("prompt", "Build personalized prompts (prompts.py) as JSON lines");
  cmd->add_option("--task", args->task, "LaMP-N or LaMP_N (default: recognised from the inputs)");
  cmd->add_option("--questions", args->questions, "Questions file")
      ->required()
      ->check(CLI::ExistingFile);
  add_prompt_flags(*cmd, args->flags);
  cmd->add_option("--max-length", args->max_length, "Model input length in tokens")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--tokenizer", args->tokenizer, "Model folder or tokenizer.json (T5 / Flan-T5)");
  cmd->add_option("--out", args->out, "JSON lines to write")->required();
  cmd->callback([args] {
    check_prompt_flags(args->flags);
    if (!args->flags.no_profile && args->tokenizer.empty())
      throw Error("--tokenizer DIR is required");
    run_prompt(*args);
  });
}

}  // namespace lamp::cli
