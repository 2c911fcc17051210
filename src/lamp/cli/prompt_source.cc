#include "lamp/cli/prompt_source.h"

#include <cstdio>
#include <optional>

#include "lamp/core/error.h"
#include "lamp/core/threads.h"

namespace lamp::cli {
namespace {

// The first k items of each sample's profile in prompt order.
std::vector<std::vector<ProfileItem>> select_items(const Questions& questions,
                                                   const PromptFlags& flags) {
  std::vector<SampleRanking> rankings;
  if (!flags.ranked) rankings = rank_profiles(questions, flags.rank);
  std::vector<std::vector<ProfileItem>> selected(questions.size());
  for (std::size_t i = 0; i < questions.size(); ++i) {
    auto profile = questions.profile(questions.samples()[i]);
    std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(flags.k), profile.size());
    for (std::size_t j = 0; j < k; ++j)
      selected[i].push_back(profile[flags.ranked ? j : rankings[i].order[j]]);
  }
  return selected;
}

}  // namespace

void add_prompt_flags(CLI::App& cmd, PromptFlags& flags) {
  flags.ranker_option =
      cmd.add_option("--ranker", flags.ranker, "bm25, recency, random or contriever");
  auto* ranked =
      cmd.add_flag("--ranked", flags.ranked, "The profiles are already ranked (is_ranked)");
  auto* none = cmd.add_flag("--no-profile", flags.no_profile, "Use the bare inputs");
  flags.ranker_option->excludes(ranked)->excludes(none);
  ranked->excludes(none);
  cmd.add_option("--k", flags.k, "Profile items per prompt")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_flag("--use-date", flags.rank.use_date,
               "BM25 and Contriever documents end with \" date: D\"");
  cmd.add_option("--seed", flags.rank.seed, "Seed of the random ranker")->capture_default_str();
  cmd.add_flag("--official-random", flags.rank.official_random,
               "Random ranker draws with replacement");
  cmd.add_option("--threads", flags.rank.threads, "Threads (0: all cores)")->capture_default_str();
  add_dense_ranker_flags(cmd, flags.dense);
}

void check_prompt_flags(PromptFlags& flags) {
  if (flags.ranker_option->count() == 0 && !flags.ranked && !flags.no_profile) {
    throw Error(
        "choose the profile items: --ranker bm25|recency|random|contriever, --ranked or "
        "--no-profile");
  }
  if (flags.ranker_option->count() > 0) flags.rank.ranker = parse_ranker(flags.ranker);
}

std::vector<Prompt> build_prompts(const Questions& questions, PromptFlags& flags,
                                  const text::T5Tokenizer* tokenizer, int max_length,
                                  const std::string& questions_path) {
  std::vector<Prompt> prompts(questions.size());
  if (flags.no_profile) {
    for (std::size_t i = 0; i < questions.size(); ++i)
      prompts[i].text = questions.samples()[i].input;
    return prompts;
  }
  std::optional<DenseRanker> dense;
  if (!flags.ranked && flags.rank.ranker == RankerKind::kContriever)
    dense.emplace(flags.dense, flags.rank);
  std::vector<std::vector<ProfileItem>> selected =
      locate_errors_in(questions_path, [&] { return select_items(questions, flags); });
  if (dense) dense->report();
  PromptBuilder builder(questions.task(), *tokenizer, max_length);
  parallel_for(questions.size(), flags.rank.threads, [&](std::size_t i, int) {
    prompts[i] = builder.build(questions.samples()[i].input, selected[i]);
  });
  return prompts;
}

void report_bare_prompts(std::span<const Prompt> prompts, int max_length) {
  std::size_t bare = 0;
  for (const Prompt& p : prompts) bare += p.bare_input;
  if (bare > 0) {
    std::fprintf(stderr,
                 "lamp: note: %zu of %zu prompts are the bare input: the profile did not fit the "
                 "%d-token budget at any factor (the official code drops it silently)\n",
                 bare, prompts.size(), max_length);
  }
}

}  // namespace lamp::cli
