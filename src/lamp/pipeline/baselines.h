// Models that need no weights, so the grid runs anywhere and retrieval's value shows apart from
// any language model (docs/baselines.md has the rules with examples):
//  - profile-vote: the retrieved items vote;
//  - majority: the whole profile votes, whatever was retrieved; generation tasks echo the query.
// The vote is picked from the task's registry row, never from its name:
//  - rating metric: the mean of `target_field` over the voters, halves rounded up ("3");
//  - classification with a `target_field`: its most frequent value; ties go to the value seen
//    first in the voters' order (rank order for profile-vote, file order for majority);
//  - classification without one, where the query is quoted candidates (LaMP-1): the candidate
//    whose BM25 score, summed over the voters, is higher (the whole profile is the BM25 corpus;
//    tie: the first candidate); candidate i answers labels[i];
//  - generation: the top voter's `target_field` (the prompt's text field where there is none:
//    LaMP-7's profile holds the user's past outputs).
// With no voters (the `none` cell), the answer is the first label, the middle label for ratings,
// and the query (the input without its instruction) for generation.
//
// Thread-safety: the functions are pure; a BaselinePredictor is used from one thread.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "lamp/pipeline/predictor.h"

namespace lamp {

// The vote of `voters` (indices into `profile`, in vote order) for `sample`.
std::string profile_vote(const TaskSpec& task, const Sample& sample,
                         std::span<const ProfileItem> profile,
                         std::span<const std::uint32_t> voters);
// majority: the whole profile's vote in file order, or the query for generation tasks.
std::string majority_answer(const TaskSpec& task, const Sample& sample,
                            std::span<const ProfileItem> profile);

// "profile-vote" or "majority", answering samples on `threads` threads (0: all cores); nullptr
// for any other name.
std::unique_ptr<Predictor> make_baseline(std::string_view name, int threads = 0);

}  // namespace lamp
