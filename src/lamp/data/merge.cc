#include "lamp/data/merge.h"

#include <fmt/format.h>

#include <unordered_map>

#include "lamp/core/error.h"

namespace lamp {
void apply_ranking(Questions& questions, const Ranking& ranking) {
  std::unordered_map<std::string_view, const Ranking::Entry*> by_sample;
  for (const Ranking::Entry& entry : ranking.entries) by_sample[entry.sample_id] = &entry;
  std::vector<std::string_view> unranked;
  std::unordered_map<std::string_view, std::uint32_t> position;
  std::vector<std::uint32_t> order;
  for (std::size_t s = 0; s < questions.size(); ++s) {
    const Sample& sample = questions.samples()[s];
    auto found = by_sample.find(sample.id);
    if (found == by_sample.end()) {
      unranked.push_back(sample.id);
      continue;
    }
    const Ranking::Entry& entry = *found->second;
    by_sample.erase(found);
    auto profile = questions.profile(sample);
    position.clear();
    for (std::uint32_t i = 0; i < profile.size(); ++i) position[profile[i].id] = i;
    order.clear();
    std::vector<std::string_view> unknown;
    for (std::string_view id : entry.profile_ids) {
      auto it = position.find(id);
      if (it == position.end()) {
        unknown.push_back(id);
      } else {
        order.push_back(it->second);
        position.erase(it);  // a repeated id becomes unknown the second time
      }
    }
    Location where{.record_id = std::string(sample.id), .field = "profile"};
    if (!unknown.empty()) {
      throw Error(where, fmt::format("the ranking lists profile ids the sample does not have (or "
                                     "lists them twice): {}",
                                     quoted_list(unknown)));
    }
    if (!position.empty()) {
      std::vector<std::string_view> missing;
      for (const ProfileItem& item : profile) {
        if (position.contains(item.id)) missing.push_back(item.id);
      }
      throw Error(where,
                  fmt::format("the ranking leaves out profile ids: {}", quoted_list(missing)));
    }
    questions.reorder_profile(s, order);
  }
  if (!unranked.empty()) {
    throw Error(
        fmt::format("{} sample(s) have no ranking: {}", unranked.size(), quoted_list(unranked)));
  }
  if (!by_sample.empty()) {
    std::vector<std::string_view> extra;
    for (const Ranking::Entry& entry : ranking.entries) {
      if (by_sample.contains(entry.sample_id)) extra.push_back(entry.sample_id);
    }
    throw Error(fmt::format("the ranking has {} sample id(s) that are not in the questions: {}",
                            extra.size(), quoted_list(extra)));
  }
}

std::vector<std::string_view> outputs_by_sample(const Questions& questions,
                                                const Outputs& outputs) {
  std::unordered_map<std::string_view, std::string_view> by_id;
  for (const Output& record : outputs.records) by_id[record.id] = record.output;
  std::vector<std::string_view> result, missing;
  for (const Sample& sample : questions.samples()) {
    auto it = by_id.find(sample.id);
    if (it == by_id.end()) {
      missing.push_back(sample.id);
      continue;
    }
    result.push_back(it->second);
    by_id.erase(it);
  }
  if (!missing.empty()) {
    throw Error(
        Location{.file = outputs.source},
        fmt::format("{} sample(s) have no output: {}", missing.size(), quoted_list(missing)));
  }
  if (!by_id.empty()) {
    std::vector<std::string_view> extra;
    for (const Output& record : outputs.records) {
      if (by_id.contains(record.id)) extra.push_back(record.id);
    }
    throw Error(
        Location{.file = outputs.source},
        fmt::format("outputs for ids that are not in the questions: {}", quoted_list(extra)));
  }
  return result;
}

}  // namespace lamp
