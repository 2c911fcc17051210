#include "lamp/nn/generate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lamp/core/error.h"

namespace lamp::nn {
namespace {

using Tokens = std::vector<std::int64_t>;

int total_length(const GenerationOptions& options) {
  int length = options.max_new_tokens >= 0 ? options.max_new_tokens + 1 : options.max_length;
  if (length < 1) throw Error("generation: max_length must count at least the start token");
  return length;
}

// MinNewTokensLengthLogitsProcessor: EOS is impossible until min_new_tokens were generated.
void forbid_early_eos(at::Tensor& scores, int generated, const GenerationOptions& options,
                      std::int64_t eos) {
  if (generated < options.min_new_tokens)
    scores.select(1, eos).fill_(-std::numeric_limits<float>::infinity());
}

Generation greedy(const T5Model& model, const at::Tensor& encoder_states, const at::Tensor& mask,
                  const GenerationOptions& options) {
  const T5Config& c = model.config();
  const std::int64_t rows = encoder_states.size(0);
  const int max_length = total_length(options);
  T5DecoderCache cache = model.start_decoding(encoder_states, mask);
  Generation out;
  out.sequences.assign(rows, Tokens{c.decoder_start_token_id});
  std::vector<bool> unfinished(rows, true);
  at::Tensor tokens = at::full({rows}, c.decoder_start_token_id, at::kLong);  // [B]
  for (int length = 1; length < max_length; ++length) {
    at::Tensor logits = model.decode_step(tokens, cache);  // [B, V]
    forbid_early_eos(logits, length - 1, options, c.eos_token_id);
    tokens = logits.argmax(-1);  // [B]
    std::int64_t* next = tokens.data_ptr<std::int64_t>();
    bool any_open = false;
    for (std::int64_t r = 0; r < rows; ++r) {
      if (!unfinished[r]) next[r] = c.pad_token_id;
      out.sequences[r].push_back(next[r]);
      if (next[r] == c.eos_token_id) unfinished[r] = false;
      any_open = any_open || unfinished[r];
    }
    if (!any_open) break;
  }
  return out;
}

// transformers' BeamHypotheses: the best num_beams finished hypotheses of one input row.
class Hypotheses {
 public:
  Hypotheses(int num_beams, double length_penalty, bool early_stopping)
      : num_beams_(num_beams), length_penalty_(length_penalty), early_stopping_(early_stopping) {}

  void add(const Tokens& tokens, double sum_logprobs) {
    double score = sum_logprobs / std::pow(static_cast<double>(tokens.size()), length_penalty_);
    if (static_cast<int>(beams_.size()) < num_beams_ || score > worst_) {
      beams_.push_back({score, tokens});
      if (static_cast<int>(beams_.size()) > num_beams_) {
        // Python's sorted((score, index)): the lowest score, then the lowest index, goes.
        std::vector<std::pair<double, std::size_t>> order;
        for (std::size_t i = 0; i < beams_.size(); ++i) order.push_back({beams_[i].score, i});
        std::sort(order.begin(), order.end());
        beams_.erase(beams_.begin() + static_cast<std::ptrdiff_t>(order[0].second));
        worst_ = order[1].first;
      } else {
        worst_ = std::min(score, worst_);
      }
    }
  }

  bool is_done(double best_sum_logprobs, std::int64_t length) const {
    if (static_cast<int>(beams_.size()) < num_beams_) return false;
    if (early_stopping_) return true;
    return worst_ >= best_sum_logprobs / std::pow(static_cast<double>(length), length_penalty_);
  }

  // sorted(beams, key=score)[-1]: among equal scores, the last added.
  std::pair<double, const Tokens*> best() const {
    std::size_t best = 0;
    for (std::size_t i = 1; i < beams_.size(); ++i)
      if (beams_[i].score >= beams_[best].score) best = i;
    return {beams_[best].score, &beams_[best].tokens};
  }

 private:
  struct Beam {
    double score;
    Tokens tokens;
  };
  int num_beams_;
  double length_penalty_;
  bool early_stopping_;
  double worst_ = 1e9;
  std::vector<Beam> beams_;
};

Generation beam_search(const T5Model& model, const at::Tensor& encoder_states,
                       const at::Tensor& mask, const GenerationOptions& options) {
  const T5Config& c = model.config();
  const std::int64_t batch = encoder_states.size(0);
  const std::int64_t beams = options.num_beams;
  const std::int64_t rows = batch * beams;  // row b * beams + i is beam i of input b
  const int max_length = total_length(options);
  const std::int64_t vocab = c.vocab_size;

  at::Tensor row_of_input = at::arange(batch, at::kLong).repeat_interleave(beams);
  T5DecoderCache cache = model.start_decoding(encoder_states.index_select(0, row_of_input),
                                              mask.index_select(0, row_of_input));
  std::vector<Tokens> history(rows, Tokens{c.decoder_start_token_id});
  // Only beam 0 is live at first, so the first step does not pick the same token num_beams times.
  std::vector<float> beam_scores(rows, 0.0f);
  for (std::int64_t r = 0; r < rows; ++r)
    if (r % beams) beam_scores[r] = -1e9f;
  std::vector<Hypotheses> hypotheses(
      batch, Hypotheses(options.num_beams, options.length_penalty, options.early_stopping));
  std::vector<bool> done(batch, false);
  at::Tensor tokens = at::full({rows}, c.decoder_start_token_id, at::kLong);

  for (std::int64_t length = 1; length < max_length; ++length) {
    at::Tensor logits = model.decode_step(tokens, cache);  // [rows, V]
    at::Tensor scores = at::log_softmax(logits, -1);
    forbid_early_eos(scores, static_cast<int>(length - 1), options, c.eos_token_id);
    scores = scores + at::from_blob(beam_scores.data(), {rows, 1}, at::kFloat).to(scores.dtype());
    auto [top_scores, top_ids] = scores.view({batch, beams * vocab}).topk(2 * beams, 1);
    top_scores = top_scores.to(at::kDouble).contiguous();  // [batch, 2 * beams]
    top_ids = top_ids.contiguous();
    const double* candidate_score = top_scores.data_ptr<double>();
    const std::int64_t* candidate_id = top_ids.data_ptr<std::int64_t>();

    std::vector<float> next_scores(rows, 0.0f);
    std::vector<std::int64_t> next_tokens(rows, c.pad_token_id), next_rows(rows);
    for (std::int64_t b = 0; b < batch; ++b) {
      const std::int64_t first = b * beams;
      if (done[b]) {
        // A finished input's beams carry pads; they stay on their own rows.
        for (std::int64_t i = 0; i < beams; ++i) next_rows[first + i] = first + i;
        continue;
      }
      std::int64_t kept = 0;
      for (std::int64_t rank = 0; rank < 2 * beams && kept < beams; ++rank) {
        std::int64_t id = candidate_id[b * 2 * beams + rank];
        double score = candidate_score[b * 2 * beams + rank];
        std::int64_t token = id % vocab, row = first + id / vocab;
        if (token == c.eos_token_id) {
          if (rank < beams) hypotheses[b].add(history[row], score);
          continue;
        }
        next_scores[first + kept] = static_cast<float>(score);
        next_tokens[first + kept] = token;
        next_rows[first + kept] = row;
        ++kept;
      }
      done[b] = hypotheses[b].is_done(candidate_score[b * 2 * beams], length);
    }

    std::vector<Tokens> next_history(rows);
    for (std::int64_t r = 0; r < rows; ++r) {
      next_history[r] = history[next_rows[r]];
      next_history[r].push_back(next_tokens[r]);
    }
    history = std::move(next_history);
    beam_scores = next_scores;
    cache.reorder_beams(at::from_blob(next_rows.data(), {rows}, at::kLong).clone());
    tokens = at::from_blob(next_tokens.data(), {rows}, at::kLong).clone();
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
  }

  // Open beams of unfinished inputs become hypotheses as they are.
  for (std::int64_t b = 0; b < batch; ++b) {
    if (done[b]) continue;
    for (std::int64_t i = 0; i < beams; ++i)
      hypotheses[b].add(history[b * beams + i], beam_scores[b * beams + i]);
  }

  Generation out;
  std::size_t longest = 0;
  std::vector<const Tokens*> best(batch);
  for (std::int64_t b = 0; b < batch; ++b) {
    auto [score, tokens_of_best] = hypotheses[b].best();
    best[b] = tokens_of_best;
    out.scores.push_back(score);
    longest = std::max(longest, tokens_of_best->size());
  }
  const std::size_t width = std::min(longest + 1, static_cast<std::size_t>(max_length));
  for (const Tokens* t : best) {
    Tokens row = *t;
    if (row.size() < width) row.push_back(c.eos_token_id);
    row.resize(width, c.pad_token_id);
    out.sequences.push_back(std::move(row));
  }
  return out;
}

}  // namespace

Generation generate(const T5Model& model, const at::Tensor& input_ids, const at::Tensor& mask,
                    const GenerationOptions& options) {
  if (options.num_beams < 1) throw Error("generation: num_beams must be at least 1");
  c10::InferenceMode guard;
  at::Tensor encoder_states = model.encode(input_ids, mask);  // [B, S, D]
  return options.num_beams == 1 ? greedy(model, encoder_states, mask, options)
                                : beam_search(model, encoder_states, mask, options);
}

}  // namespace lamp::nn
