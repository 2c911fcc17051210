// lamp predict: evaluate_llm.py's job. Prompts from the profile selection flags (as lamp prompt,
// with the prompt budget --max-input-length), generation with a T5 checkpoint (num_beams 4,
// max_length 128 by default, as the LaMP runs), predictions in the official outputs format.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "lamp/cli/commands.h"
#include "lamp/cli/compute_type_flag.h"
#include "lamp/cli/prompt_source.h"
#include "lamp/core/error.h"
#include "lamp/data/json_io.h"
#include "lamp/nn/hub.h"
#include "lamp/nn/plugin.h"

namespace lamp::cli {
namespace {

struct PredictArgs {
  std::string task, questions, model, out;
  PromptFlags flags;
  nn::Seq2SeqOptions seq2seq;
  int max_new_tokens = -1;
};

void run_predict(PredictArgs& args) {
  const TaskSpec* task = args.task.empty() ? nullptr : &find_task(args.task);
  Questions questions = read_questions(args.questions, task);
  const nn::NnPlugin& plugin = nn::nn_plugin();
  plugin.set_threads(args.flags.rank.threads);
  std::filesystem::path dir = nn::resolve_model(args.model);
  args.seq2seq.generation.max_new_tokens = args.max_new_tokens;
  std::unique_ptr<nn::TextGenerator> model = plugin.load_seq2seq(dir, args.seq2seq);
  std::vector<Prompt> prompts = build_prompts(questions, args.flags, &model->tokenizer(),
                                              args.seq2seq.max_input_length, args.questions);
  if (!args.flags.no_profile) report_bare_prompts(prompts, args.seq2seq.max_input_length);
  std::vector<std::string> texts;
  texts.reserve(prompts.size());
  for (Prompt& p : prompts) texts.push_back(std::move(p.text));
  const bool live = isatty(STDERR_FILENO);
  std::vector<std::string> predictions =
      model->generate(texts, [&](std::size_t done, std::size_t total) {
        if (live) std::fprintf(stderr, "\rlamp: generated %zu / %zu", done, total);
      });
  if (live) std::fprintf(stderr, "\n");
  std::vector<Output> records;
  records.reserve(questions.size());
  for (std::size_t i = 0; i < questions.size(); ++i)
    records.push_back({questions.samples()[i].id, predictions[i]});
  write_outputs(args.out, questions.task().eval_name, records);
  std::fprintf(stderr, "lamp: wrote %zu predictions to %s\n", records.size(), args.out.c_str());
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto args = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand(
      "predict", "Generate predictions with a T5 model (evaluate_llm.py), ready for lamp eval");
  cmd->add_option("--task", args->task, "LaMP-N or LaMP_N (default: recognised from the inputs)");
  cmd->add_option("--questions", args->questions, "Questions file")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--model", args->model, "Model folder or Hugging Face hub id")->required();
  add_prompt_flags(*cmd, args->flags);
  nn::GenerationOptions& g = args->seq2seq.generation;
  cmd->add_option("--num-beams", g.num_beams, "Beams (1: greedy)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-length", g.max_length, "Output length in tokens, start token included")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "Overrides --max-length");
  cmd->add_option("--length-penalty", g.length_penalty, "Beam search length penalty")
      ->capture_default_str();
  cmd->add_option("--max-input-length", args->seq2seq.max_input_length,
                  "Prompt budget and input truncation, in tokens")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", args->seq2seq.batch_size, "Prompts per generation batch")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  add_compute_type_option(*cmd, "--compute-type", args->seq2seq.compute_type, "T5");
  cmd->add_option("--out", args->out, "Predictions to write ({\"task\", \"golds\"})")->required();
  cmd->callback([args] {
    check_prompt_flags(args->flags);
    run_predict(*args);
  });
}

}  // namespace lamp::cli
