// lamp rank: rank_profiles.py. Writes the official ranking file {sample id: [profile ids]}.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "lamp/cli/commands.h"
#include "lamp/cli/dense_ranker.h"
#include "lamp/core/error.h"
#include "lamp/core/progress.h"
#include "lamp/data/json_io.h"
#include "lamp/retrieval/retriever.h"

namespace lamp::cli {
namespace {

struct RankArgs {
  std::string task, ranker = "bm25", questions, out;
  RankOptions options;
  DenseRankerFlags dense;
};

}  // namespace

void add_rank_command(CLI::App& app) {
  auto args = std::make_shared<RankArgs>();
  CLI::App* cmd = app.add_subcommand("rank", "Rank every sample's profile (rank_profiles.py)");
  cmd->add_option("--task", args->task, "LaMP-N or LaMP_N (default: recognised from the inputs)");
  cmd->add_option("--ranker", args->ranker, "bm25, recency, random or contriever")
      ->capture_default_str();
  cmd->add_option("--questions", args->questions, "Questions file")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Ranking file to write")->required();
  cmd->add_flag("--use-date", args->options.use_date,
                "Append \" date: D\" to each document (BM25, Contriever)");
  cmd->add_option("--seed", args->options.seed, "Seed of the random ranker")->capture_default_str();
  cmd->add_flag("--official-random", args->options.official_random,
                "Random ranker: draw with replacement, as the official random retriever does");
  cmd->add_option("--k1", args->options.bm25.k1, "BM25 k1")->capture_default_str();
  cmd->add_option("--b", args->options.bm25.b, "BM25 b")->capture_default_str();
  cmd->add_flag("--lucene-idf", args->options.bm25.lucene_idf,
                "BM25 with Lucene's idf ln(1 + (N - n + 0.5) / (n + 0.5)) and no epsilon floor");
  cmd->add_option("--threads", args->options.threads, "Threads (0: all cores)")
      ->capture_default_str();
  add_dense_ranker_flags(*cmd, args->dense);
  cmd->callback([args] {
    args->options.ranker = parse_ranker(args->ranker);
    const TaskSpec* task = args->task.empty() ? nullptr : &find_task(args->task);
    std::FILE* bar_out = progress_wanted(false) ? stderr : nullptr;
    std::optional<Questions> questions;
    std::optional<DenseRanker> dense;
    // Entries are formatted as samples are ranked and written as they come in order.
    RankingWriter writer(args->out);
    if (args->options.ranker == RankerKind::kContriever) {
      questions.emplace(read_questions(args->questions, task));
      dense.emplace(args->dense, args->options);
      ProgressBar bar(fmt::format("{} {}", questions->task().name, args->ranker), questions->size(),
                      bar_out);
      RankOptions options = args->options;  // with the embedder attached by DenseRanker
      options.progress = &bar;
      std::vector<SampleRanking> rankings =
          locate_errors_in(args->questions, [&] { return rank_profiles(*questions, options); });
      bar.finish();
      dense->report();
      for (std::size_t i = 0; i < questions->size(); ++i) {
        const Sample& sample = questions->samples()[i];
        writer.add(i, sample.id, questions->profile(sample), rankings[i].order);
      }
    } else {
      // Ranked while the file is read; the bar counts the file's MB whose samples are ranked.
      const std::uintmax_t mb = (std::filesystem::file_size(args->questions) + 999'999) / 1'000'000;
      ProgressBar bar(
          fmt::format("{} {} MB", task != nullptr ? task->name : "lamp rank", args->ranker), mb,
          bar_out);
      RankOptions options = args->options;
      options.progress = &bar;
      StreamingRanker ranker(
          options, [&](std::size_t index, const Sample& sample,
                       std::span<const ProfileItem> profile, const SampleRanking& ranking) {
            writer.add(index, sample.id, profile, ranking.order);
          });
      locate_errors_in(args->questions, [&] {
        questions.emplace(read_questions(args->questions, task, ranker));
        return ranker.finish();
      });
      bar.finish();
    }
    writer.commit(questions->size());
    std::fprintf(stderr, "lamp: ranked %zu profiles (%s, %s) into %s\n", questions->size(),
                 std::string(questions->task().name).c_str(), args->ranker.c_str(),
                 args->out.c_str());
  });
}

}  // namespace lamp::cli
