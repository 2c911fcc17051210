#include "lamp/retrieval/retriever.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

#include "lamp/core/error.h"
#include "lamp/core/progress.h"
#include "lamp/core/threads.h"
#include "lamp/retrieval/dense.h"
#include "lamp/retrieval/numpy_sort.h"
#include "lamp/retrieval/query.h"
#include "lamp/text/python_str.h"

namespace lamp {
namespace {

// Scratch space of one worker thread.
struct Worker {
  Bm25Scorer bm25;
  std::vector<std::string_view> query_tokens;
};

void rank_bm25(const TaskSpec& task, const Sample& sample, std::span<const ProfileItem> profile,
               const RankOptions& options, Worker& w, SampleRanking& out) {
  const std::string query = extract_query(task, sample);
  w.query_tokens.clear();
  text::py_split_into(query, w.query_tokens);
  w.bm25.start(w.query_tokens);
  DocumentPieces pieces;
  for (const ProfileItem& item : profile) {
    const std::size_t count = document_pieces(task, item, options.use_date, pieces);
    for (std::size_t i = 0; i < count; ++i) w.bm25.add_text(pieces[i]);
    w.bm25.end_document();
  }
  w.bm25.finish(out.scores);
  out.order.resize(profile.size());
  numpy_argsort(out.scores, out.order);
  std::reverse(out.order.begin(), out.order.end());  // np.argsort(scores)[::-1]
}

// tuple(int(x) for x in date.split("-")), with a clear error instead of Python's ValueError.
std::vector<long> date_key(const Sample& sample, const ProfileItem& item, std::size_t position) {
  std::vector<long> key;
  std::string_view date = item.date;
  auto fail = [&](const std::string& why) {
    throw Error(Location{.record_id = std::string(sample.id),
                         .field = fmt::format("profile[{}].date", position)},
                fmt::format("{} (the recency ranker needs dates like 2019-05-01 or 2019-05)", why));
  };
  if (date.empty()) fail("missing or empty date");
  for (std::size_t start = 0;;) {
    std::size_t end = date.find('-', start);
    std::string_view part =
        date.substr(start, end == std::string_view::npos ? date.npos : end - start);
    if (part.empty() || part.size() > 9 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      fail(fmt::format("malformed date \"{}\"", date));
    }
    key.push_back(std::stol(std::string(part)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return key;
}

void rank_recency(const Sample& sample, std::span<const ProfileItem> profile, SampleRanking& out) {
  std::vector<std::vector<long>> keys;
  for (std::size_t i = 0; i < profile.size(); ++i) keys.push_back(date_key(sample, profile[i], i));
  out.order.resize(profile.size());
  std::iota(out.order.begin(), out.order.end(), 0u);
  std::stable_sort(out.order.begin(), out.order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
  std::reverse(out.order.begin(), out.order.end());
}

// splitmix64, seeded per sample so results do not depend on the thread schedule.
std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint32_t below(std::uint64_t& state, std::size_t n) {
  return static_cast<std::uint32_t>(((next_random(state) >> 32) * n) >> 32);
}

void rank_random(std::size_t n, std::size_t sample_index, const RankOptions& options,
                 SampleRanking& out) {
  std::uint64_t state = options.seed ^ (0xD1B54A32D192ED03ull * (sample_index + 1));
  out.order.resize(n);
  if (options.official_random) {
    for (std::size_t i = 0; i < n; ++i) out.order[i] = below(state, n);
    return;
  }
  std::iota(out.order.begin(), out.order.end(), 0u);
  for (std::size_t i = n; i > 1; --i) std::swap(out.order[i - 1], out.order[below(state, i)]);
}

// Sample `index` by one of the rankers that rank a sample alone (all but kContriever).
void rank_sample(const TaskSpec& task, std::size_t index, const Sample& sample,
                 std::span<const ProfileItem> profile, const RankOptions& options, Worker& w,
                 SampleRanking& out) {
  switch (options.ranker) {
    case RankerKind::kBm25:
      rank_bm25(task, sample, profile, options, w, out);
      break;
    case RankerKind::kRecency:
      rank_recency(sample, profile, out);
      break;
    case RankerKind::kRandom:
      rank_random(profile.size(), index, options, out);
      break;
    case RankerKind::kContriever:  // ranked batch-wide
      assert(false);
      break;
  }
}

}  // namespace

RankerKind parse_ranker(const std::string& name) {
  if (name == "bm25") return RankerKind::kBm25;
  if (name == "recency") return RankerKind::kRecency;
  if (name == "random") return RankerKind::kRandom;
  if (name == "contriever") return RankerKind::kContriever;
  throw Error(fmt::format("unknown ranker \"{}\" (bm25, recency, random, contriever)", name));
}

std::vector<SampleRanking> rank_profiles(const Questions& questions, const RankOptions& options) {
  if (options.ranker == RankerKind::kContriever) {
    assert(options.embedder != nullptr);
    return rank_dense(
        questions, *options.embedder, options.embedding_cache,
        {.use_date = options.use_date, .threads = options.threads, .progress = options.progress},
        options.dense_stats);
  }
  std::vector<SampleRanking> rankings(questions.size());
  const int threads = resolve_threads(options.threads);
  std::vector<Worker> workers;
  for (int t = 0; t < threads; ++t) workers.push_back({.bm25 = Bm25Scorer(options.bm25)});
  parallel_for(questions.size(), threads, [&](std::size_t i, int worker) {
    const Sample& sample = questions.samples()[i];
    rank_sample(questions.task(), i, sample, questions.profile(sample), options, workers[worker],
                rankings[i]);
    if (options.progress != nullptr) options.progress->advance();
  });
  return rankings;
}

// The reading thread queues each sample it takes; the other threads rank from the front of the
// queue. When more than kBacklog samples per other thread wait, the reading thread ranks the
// newest one itself (its text is still in cache) before it reads on.
struct StreamingRanker::State {
  static constexpr std::size_t kBacklog = 2;

  struct Job {
    const TaskSpec* task = nullptr;
    std::size_t index = 0;
    Sample sample;
    const ProfileItem* profile = nullptr;
    std::size_t bytes = 0;  // of the file, for progress
    SampleRanking* out = nullptr;
  };

  State(const RankOptions& ranking, OnRanked ranked)
      : options(ranking), on_ranked(std::move(ranked)) {}

  // Ranks `job` on `worker`'s scratch; keeps the error of the lowest-numbered failing sample.
  void run(const Job& job, Worker& worker) {
    try {
      const std::span profile(job.profile, job.sample.profile_size);
      rank_sample(*job.task, job.index, job.sample, profile, options, worker, *job.out);
      if (on_ranked) on_ranked(job.index, job.sample, profile, *job.out);
    } catch (...) {
      std::lock_guard lock(mutex);
      if (job.index < failed_index) {
        failed_index = job.index;
        failure = std::current_exception();
      }
    }
  }

  // Called with the lock held, after a job ran.
  void done(const Job& job) {
    --running;
    ranked_bytes += job.bytes;
    if (options.progress != nullptr) options.progress->update(ranked_bytes / 1'000'000);
    if (running == 0) idle.notify_all();
  }

  // Takes a job from the queue's front (oldest) or back (newest); with the lock held. Jobs
  // after a failed sample are dropped: they cannot change which error is reported.
  bool pop(Job& job, bool newest) {
    while (!queue.empty()) {
      job = newest ? queue.back() : queue.front();
      newest ? queue.pop_back() : queue.pop_front();
      if (job.index < failed_index) {
        ++running;
        return true;
      }
    }
    return false;
  }

  void work(Worker& worker) {
    std::unique_lock lock(mutex);
    for (;;) {
      work_ready.wait(lock, [&] { return stopping || !queue.empty(); });
      Job job;
      if (!pop(job, false)) {
        if (stopping) return;
        continue;
      }
      lock.unlock();
      run(job, worker);
      lock.lock();
      done(job);
    }
  }

  // Ranks what is queued on the calling (reading) thread until at most `keep` jobs wait.
  void help(std::unique_lock<std::mutex>& lock, std::size_t keep) {
    Job job;
    while (queue.size() > keep && pop(job, true)) {
      lock.unlock();
      run(job, workers[0]);
      lock.lock();
      done(job);
    }
  }

  // Ranks or waits for every job taken so far.
  void drain() {
    std::unique_lock lock(mutex);
    help(lock, 0);
    idle.wait(lock, [&] { return running == 0; });
  }

  RankOptions options;
  OnRanked on_ranked;
  std::vector<Worker> workers;  // scratch by thread; [0]: the reading thread
  std::vector<std::thread> threads;
  std::deque<SampleRanking> rankings;  // by sample; elements stay in place as it grows
  std::size_t bytes_read = 0;

  std::mutex mutex;  // guards what follows
  std::condition_variable work_ready, idle;
  std::deque<Job> queue;
  std::size_t running = 0;
  bool stopping = false;
  std::size_t ranked_bytes = 0;
  std::size_t failed_index = SIZE_MAX;
  std::exception_ptr failure;
};

StreamingRanker::StreamingRanker(const RankOptions& options, OnRanked on_ranked)
    : state_(std::make_unique<State>(options, std::move(on_ranked))) {
  assert(options.ranker != RankerKind::kContriever);
  const int threads = resolve_threads(options.threads);
  for (int t = 0; t < threads; ++t) state_->workers.push_back({.bm25 = Bm25Scorer(options.bm25)});
  for (int t = 1; t < threads; ++t)
    state_->threads.emplace_back([this, t] { state_->work(state_->workers[t]); });
}

StreamingRanker::~StreamingRanker() {
  {
    std::lock_guard lock(state_->mutex);
    state_->queue.clear();
    state_->stopping = true;
  }
  state_->work_ready.notify_all();
  for (std::thread& thread : state_->threads) thread.join();
}

void StreamingRanker::take(const TaskSpec& task, std::size_t index, const Sample& sample,
                           std::span<const ProfileItem> profile, std::size_t bytes_read) {
  State& s = *state_;
  SampleRanking& out = s.rankings.emplace_back();
  const State::Job job{.task = &task,
                       .index = index,
                       .sample = sample,
                       .profile = profile.data(),
                       .bytes = bytes_read - s.bytes_read,
                       .out = &out};
  s.bytes_read = bytes_read;
  std::unique_lock lock(s.mutex);
  s.queue.push_back(job);
  s.work_ready.notify_one();
  s.help(lock, State::kBacklog * s.threads.size());
}

void StreamingRanker::release_profiles() { state_->drain(); }

std::vector<SampleRanking> StreamingRanker::finish() {
  State& s = *state_;
  s.drain();
  if (s.failure) std::rethrow_exception(s.failure);
  return {std::make_move_iterator(s.rankings.begin()), std::make_move_iterator(s.rankings.end())};
}

Ranking to_ranking(const Questions& questions, const std::vector<SampleRanking>& rankings) {
  Ranking ranking;
  ranking.entries.reserve(questions.size());
  for (std::size_t i = 0; i < questions.size(); ++i) {
    const Sample& sample = questions.samples()[i];
    auto profile = questions.profile(sample);
    Ranking::Entry entry{.sample_id = sample.id};
    entry.profile_ids.reserve(rankings[i].order.size());
    for (std::uint32_t index : rankings[i].order) entry.profile_ids.push_back(profile[index].id);
    ranking.entries.push_back(std::move(entry));
  }
  return ranking;
}

}  // namespace lamp
