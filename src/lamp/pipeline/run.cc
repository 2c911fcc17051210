#include "lamp/pipeline/run.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "lamp/core/error.h"
#include "lamp/core/files.h"
#include "lamp/core/json_writer.h"
#include "lamp/core/progress.h"
#include "lamp/core/threads.h"
#include "lamp/data/json_io.h"
#include "lamp/metrics/evaluate.h"
#include "lamp/pipeline/cache.h"
#include "lamp/prompt/prompt.h"

namespace lamp {
namespace {

using Clock = std::chrono::steady_clock;
using Orders = std::vector<std::vector<std::uint32_t>>;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The tokenizer's identity: the bytes of tokenizer.json and, when present beside it,
// tokenizer_config.json (its clean-up flag changes decoded prompt text).
std::string tokenizer_hash(const std::filesystem::path& path) {
  std::filesystem::path file = std::filesystem::is_directory(path) ? path / "tokenizer.json" : path;
  std::filesystem::path config = file.parent_path() / "tokenizer_config.json";
  std::string hash = file_hash(file);
  if (std::filesystem::exists(config)) hash += file_hash(config);
  return hash;
}

// Cache entries are JSON; one that does not parse or has the wrong shape is a miss.
std::optional<simdjson::dom::element> parse_entry(simdjson::dom::parser& parser,
                                                  const std::optional<std::string>& bytes) {
  if (!bytes) return std::nullopt;
  simdjson::dom::element root;
  if (parser.parse(*bytes).get(root) != simdjson::SUCCESS) return std::nullopt;
  return root;
}

std::optional<std::vector<std::string>> string_array(simdjson::dom::element root,
                                                     std::size_t size) {
  simdjson::dom::array array;
  if (root.get_array().get(array) != simdjson::SUCCESS || array.size() != size) return std::nullopt;
  std::vector<std::string> out;
  out.reserve(size);
  for (simdjson::dom::element e : array) {
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
    out.emplace_back(s);
  }
  return out;
}

std::string write_string_array(std::span<const std::string> strings) {
  JsonWriter w;
  w.begin_array();
  for (const std::string& s : strings) w.value(s);
  w.end_array();
  return w.str();
}

class Grid {
 public:
  Grid(const RunConfig& config, Predictor& predictor)
      : config_(config),
        predictor_(predictor),
        questions_(read_questions(config.questions, config.task)),
        task_(questions_.task()),
        cache_(config.cache_dir.empty() ? config.out_dir / "cache" : config.cache_dir) {
    result_.task = &task_;
    result_.samples = questions_.size();
    questions_hash_ = file_hash(config.questions);
    result_.inputs.emplace_back(config.questions, questions_hash_);
    if (!config.golds.empty()) {
      golds_ = read_outputs(config.golds);
      result_.inputs.emplace_back(config.golds, file_hash(config.golds));
    }
  }

  RunResult run() {
    Clock::time_point start = Clock::now();
    std::vector<int> ks = config_.ks;
    std::sort(ks.begin(), ks.end());
    ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
    bool profiles = std::any_of(config_.retrievers.begin(), config_.retrievers.end(),
                                [](const std::string& r) { return r != "none"; });
    if (profiles) {
      if (ks.empty()) throw Error("give at least one k (--k 1,2,4)");
      if (ks.front() < 1) throw Error(fmt::format("k must be positive, not {}", ks.front()));
      if (config_.tokenizer.empty()) throw Error("the prompts need a tokenizer (--tokenizer DIR)");
      tokenizer_hash_ = locate_errors_in(config_.tokenizer.string(),
                                         [&] { return tokenizer_hash(config_.tokenizer); });
      result_.inputs.emplace_back(config_.tokenizer, tokenizer_hash_);
    }
    // "none" first, as the paper's tables have it.
    std::vector<std::string> retrievers;
    for (const std::string& r : config_.retrievers)
      if (std::find(retrievers.begin(), retrievers.end(), r) == retrievers.end())
        retrievers.push_back(r);
    std::stable_partition(retrievers.begin(), retrievers.end(),
                          [](const std::string& r) { return r == "none"; });
    for (const std::string& retriever : retrievers) {
      if (retriever == "none") {
        std::string key = CacheKey("ranking")
                              .add("questions", questions_hash_)
                              .add("task", task_.name)
                              .add("retriever", "none")
                              .hex();
        run_cell("none", 0, key, nullptr, false);
        continue;
      }
      RankOptions options = config_.rank;
      options.ranker = parse_ranker(retriever);
      bool cached = false;
      std::string key;
      Orders orders = ranking(retriever, options, key, cached);
      for (int k : ks) run_cell(retriever, k, key, &orders, cached);
    }
    result_.seconds = seconds_since(start);
    return std::move(result_);
  }

 private:
  void log(const std::string& line) const {
    if (config_.log != nullptr) std::fprintf(config_.log, "lamp: %s\n", line.c_str());
  }

  Orders ranking(const std::string& retriever, RankOptions& options, std::string& key,
                 bool& cached) {
    CacheKey k("ranking");
    k.add("questions", questions_hash_).add("task", task_.name).add("retriever", retriever);
    switch (options.ranker) {
      case RankerKind::kRandom:
        k.add("seed", static_cast<std::int64_t>(options.seed))
            .add("official_random", std::int64_t{options.official_random});
        break;
      case RankerKind::kBm25:
        k.add("k1", options.bm25.k1)
            .add("b", options.bm25.b)
            .add("epsilon", options.bm25.epsilon)
            .add("lucene_idf", std::int64_t{options.bm25.lucene_idf})
            .add("use_date", std::int64_t{options.use_date});
        break;
      case RankerKind::kContriever:
        k.add("encoder", config_.dense_identity).add("use_date", std::int64_t{options.use_date});
        break;
      case RankerKind::kRecency:
        break;
    }
    key = k.hex();
    Clock::time_point start = Clock::now();
    Orders orders;
    if (std::optional<Orders> hit = read_orders(cache_.get(k))) {
      orders = std::move(*hit);
      cached = true;
      result_.ranking_seconds.emplace_back(retriever, 0.0);
    } else {
      log(fmt::format("{}: ranking {} profiles with {}", task_.name, questions_.size(), retriever));
      if (options.ranker == RankerKind::kContriever && config_.attach_dense)
        config_.attach_dense(options);
      std::optional<ProgressBar> bar;
      if (config_.progress)
        bar.emplace(fmt::format("{} {} ranking", task_.name, retriever), questions_.size(), stderr);
      RankOptions with_bar = options;
      with_bar.progress = bar ? &*bar : nullptr;
      std::vector<SampleRanking> ranked = locate_errors_in(
          config_.questions.string(), [&] { return rank_profiles(questions_, with_bar); });
      for (SampleRanking& r : ranked) orders.push_back(std::move(r.order));
      cache_.put(k, write_orders(orders));
      result_.ranking_seconds.emplace_back(retriever, seconds_since(start));
    }
    std::vector<SampleRanking> as_ranking(orders.size());
    for (std::size_t i = 0; i < orders.size(); ++i) as_ranking[i].order = orders[i];
    std::filesystem::create_directories(config_.out_dir / "rankings");
    write_ranking(config_.out_dir / "rankings" / (retriever + ".json"),
                  to_ranking(questions_, as_ranking));
    return orders;
  }

  std::optional<Orders> read_orders(const std::optional<std::string>& bytes) {
    simdjson::dom::parser parser;
    std::optional<simdjson::dom::element> root = parse_entry(parser, bytes);
    simdjson::dom::array samples;
    if (!root || root->get_array().get(samples) != simdjson::SUCCESS ||
        samples.size() != questions_.size())
      return std::nullopt;
    Orders orders;
    std::size_t i = 0;
    for (simdjson::dom::element e : samples) {
      std::size_t size = questions_.samples()[i++].profile_size;
      simdjson::dom::array order;
      if (e.get_array().get(order) != simdjson::SUCCESS || order.size() != size)
        return std::nullopt;
      std::vector<std::uint32_t>& out = orders.emplace_back();
      for (simdjson::dom::element index : order) {
        std::uint64_t value;
        if (index.get_uint64().get(value) != simdjson::SUCCESS || value >= size)
          return std::nullopt;
        out.push_back(static_cast<std::uint32_t>(value));
      }
    }
    return orders;
  }

  static std::string write_orders(const Orders& orders) {
    JsonWriter w;
    w.begin_array();
    for (const auto& order : orders) {
      w.begin_array();
      for (std::uint32_t i : order) w.value(std::int64_t{i});
      w.end_array();
    }
    w.end_array();
    return w.str();
  }

  // The cell's prompts and how many of them lost their profile.
  std::vector<std::string> prompts(const std::string& cell, const std::string& ranking_key, int k,
                                   const Orders* orders, std::size_t& bare, bool& cached) {
    CacheKey key("prompts");
    key.add("ranking", ranking_key);
    if (orders != nullptr) {
      key.add("k", std::int64_t{k})
          .add("tokenizer", tokenizer_hash_)
          .add("max_length", std::int64_t{config_.max_length});
    }
    simdjson::dom::parser parser;
    if (std::optional<simdjson::dom::element> root = parse_entry(parser, cache_.get(key))) {
      std::uint64_t count;
      simdjson::dom::element list;
      if ((*root)["bare"].get_uint64().get(count) == simdjson::SUCCESS &&
          (*root)["prompts"].get(list) == simdjson::SUCCESS) {
        if (auto texts = string_array(list, questions_.size())) {
          bare = count;
          cached = true;
          return std::move(*texts);
        }
      }
    }
    std::vector<std::string> texts(questions_.size());
    bare = 0;
    if (orders == nullptr) {
      for (std::size_t i = 0; i < texts.size(); ++i) texts[i] = questions_.samples()[i].input;
    } else {
      if (!tokenizer_) {
        tokenizer_.emplace(locate_errors_in(config_.tokenizer.string(), [&] {
          return text::T5Tokenizer::load(config_.tokenizer);
        }));
      }
      PromptBuilder builder(task_, *tokenizer_, config_.max_length);
      std::optional<ProgressBar> bar;
      if (config_.progress)
        bar.emplace(fmt::format("{} {} prompts", task_.name, cell), texts.size(), stderr);
      std::vector<char> bare_flags(texts.size(), 0);
      parallel_for(texts.size(), config_.rank.threads, [&](std::size_t i, int) {
        const Sample& sample = questions_.samples()[i];
        auto profile = questions_.profile(sample);
        std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(k), profile.size());
        std::vector<ProfileItem> selected;
        for (std::size_t j = 0; j < n; ++j) selected.push_back(profile[(*orders)[i][j]]);
        Prompt p = builder.build(sample.input, selected);
        texts[i] = std::move(p.text);
        bare_flags[i] = p.bare_input;
        if (bar) bar->advance();
      });
      for (char b : bare_flags) bare += b;
    }
    JsonWriter w;
    w.begin_object().key("bare").value(static_cast<std::int64_t>(bare)).key("prompts");
    w.begin_array();
    for (const std::string& t : texts) w.value(t);
    w.end_array().end_object();
    cache_.put(key, w.str());
    return texts;
  }

  std::vector<std::string> outputs(const std::string& cell, const std::string& ranking_key, int k,
                                   std::span<const PredictItem> items, bool& cached) {
    auto base_key = [&] {
      CacheKey key("outputs");
      key.add("model", predictor_.identity()).add("task", task_.name);
      return key;
    };
    PredictorReads reads = predictor_.reads();
    std::size_t chunk = reads == PredictorReads::kPrompts
                            ? std::max<std::size_t>(1, predictor_.chunk_size())
                            : items.size();
    std::optional<ProgressBar> bar;
    if (config_.progress && reads == PredictorReads::kPrompts)
      bar.emplace(fmt::format("{} {}", task_.name, cell), items.size(), stderr);
    std::vector<std::string> out;
    out.reserve(items.size());
    cached = true;
    for (std::size_t begin = 0; begin < items.size(); begin += chunk) {
      std::span<const PredictItem> part =
          items.subspan(begin, std::min(chunk, items.size() - begin));
      CacheKey key = base_key();
      if (reads == PredictorReads::kPrompts) {
        std::string joined;
        for (const PredictItem& item : part)
          joined += fmt::format("{}:{};", item.prompt.size(), item.prompt);
        key.add("prompts", content_hash(joined));
      } else if (reads == PredictorReads::kRanking) {
        key.add("ranking", ranking_key).add("k", std::int64_t{k});
      } else {
        key.add("questions", questions_hash_);
      }
      simdjson::dom::parser parser;
      std::optional<std::vector<std::string>> texts;
      if (auto root = parse_entry(parser, cache_.get(key)))
        texts = string_array(*root, part.size());
      if (!texts) {
        cached = false;
        texts = locate_errors_in(config_.questions.string(), [&] {
          return predictor_.predict(task_, part, [&](std::size_t done) {
            if (bar) bar->update(begin + done);
          });
        });
        if (texts->size() != part.size()) {
          throw Error(
              fmt::format("the model gave {} outputs for {} inputs", texts->size(), part.size()));
        }
        cache_.put(key, write_string_array(*texts));
      }
      for (std::string& t : *texts) out.push_back(std::move(t));
      if (bar) bar->update(out.size());
    }
    return out;
  }

  void run_cell(const std::string& retriever, int k, const std::string& ranking_key,
                const Orders* orders, bool ranking_cached) {
    Clock::time_point start = Clock::now();
    CellResult cell{.retriever = retriever,
                    .k = k,
                    .name = orders == nullptr ? "none" : fmt::format("{}-k{}", retriever, k),
                    .ranking_cached = ranking_cached};
    std::vector<std::string> texts =
        prompts(cell.name, ranking_key, k, orders, cell.bare_prompts, cell.prompts_cached);
    std::vector<PredictItem> items(questions_.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Sample& sample = questions_.samples()[i];
      items[i].sample = &sample;
      items[i].profile = questions_.profile(sample);
      if (orders != nullptr) {
        std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(k), sample.profile_size);
        items[i].retrieved = std::span((*orders)[i]).first(n);
      }
      items[i].prompt = texts[i];
    }
    std::vector<std::string> predictions =
        outputs(cell.name, ranking_key, k, items, cell.outputs_cached);
    std::filesystem::path dir = config_.out_dir / "cells" / cell.name;
    std::filesystem::create_directories(dir);
    std::vector<Output> records(items.size());
    for (std::size_t i = 0; i < items.size(); ++i)
      records[i] = {items[i].sample->id, predictions[i]};
    write_outputs(dir / "predictions.json", task_.eval_name, records);
    write_prompts(dir / "prompts.jsonl", texts);
    if (golds_) {
      Outputs preds{.source = (dir / "predictions.json").string(), .records = records};
      EvalOptions eval;
      eval.bootstrap.resamples = 0;
      EvalReport report = evaluate(task_, *golds_, preds, eval);
      cell.metrics = report.metrics;
      for (const std::string& note : report.notes)
        result_.notes.push_back(fmt::format("{}: {}", cell.name, note));
    }
    cell.seconds = seconds_since(start);
    auto source = [](bool hit) { return hit ? "cached" : "computed"; };
    bool all_cached =
        (orders == nullptr || cell.ranking_cached) && cell.prompts_cached && cell.outputs_cached;
    // Cells found whole in the cache are only counted, in the caller's summary.
    if (!all_cached || cell.bare_prompts > 0) {
      log(fmt::format(
          "{} {}: ranking {}, prompts {}, outputs {} ({:.2f} s){}", task_.name, cell.name,
          orders == nullptr ? "-" : source(cell.ranking_cached), source(cell.prompts_cached),
          source(cell.outputs_cached), cell.seconds,
          cell.bare_prompts > 0
              ? fmt::format("; {} prompts without profile (budget too small)", cell.bare_prompts)
              : ""));
    }
    result_.cells.push_back(std::move(cell));
    if (config_.after_cell) config_.after_cell(result_.cells.size());
  }

  void write_prompts(const std::filesystem::path& path, std::span<const std::string> texts) {
    AtomicFile file(path);
    std::string line;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      JsonWriter w;
      w.begin_object().key("id").value(questions_.samples()[i].id).key("prompt").value(texts[i]);
      w.end_object();
      file.write(w.str());
      file.write("\n");
    }
    file.commit();
  }

  const RunConfig& config_;
  Predictor& predictor_;
  Questions questions_;
  const TaskSpec& task_;
  ContentCache cache_;
  std::optional<Outputs> golds_;
  std::string questions_hash_, tokenizer_hash_;
  std::optional<text::T5Tokenizer> tokenizer_;
  RunResult result_;
};

}  // namespace

RunResult run_grid(const RunConfig& config, Predictor& predictor) {
  if (config.retrievers.empty()) throw Error("give at least one retriever (--retrievers)");
  for (const std::string& r : config.retrievers)
    if (r != "none") parse_ranker(r);  // unknown names fail before any work
  return Grid(config, predictor).run();
}

}  // namespace lamp
