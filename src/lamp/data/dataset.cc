#include "lamp/data/dataset.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>

#include "lamp/core/memory.h"

namespace lamp {

std::string_view null_field() {
  static constexpr char kNone[] = "None";
  return {kNone, 4};
}

void Arena::Free::operator()(char* p) const { std::free(p); }

char* Arena::reserve(std::size_t size) {
  if (capacity_ - used_ < size) {
    // Huge pages: a 1 GB dataset then costs hundreds of page faults instead of a quarter
    // million.
    std::size_t block = std::max<std::size_t>(size, 4 * kHugePage);
    char* p = static_cast<char*>(allocate_huge(block));
    blocks_.emplace_back(p);
    used_ = 0;
    capacity_ = block;
  }
  return blocks_.back().get() + used_;
}

std::string_view Arena::commit(char* begin, std::size_t used) {
  assert(begin == blocks_.back().get() + used_ && used_ + used <= capacity_);
  used_ += used;
  total_ += used;
  return {begin, used};
}

std::string_view Arena::store(std::string_view text) {
  if (text.empty()) return {};
  char* p = reserve(text.size());
  std::memcpy(p, text.data(), text.size());
  return commit(p, text.size());
}

void Questions::reorder_profile(std::size_t index, std::span<const std::uint32_t> order) {
  const Sample& sample = samples_[index];
  assert(order.size() == sample.profile_size);
  std::vector<ProfileItem> reordered;
  reordered.reserve(order.size());
  for (std::uint32_t i : order) reordered.push_back(items_[sample.profile_begin + i]);
  std::copy(reordered.begin(), reordered.end(),
            items_.begin() + static_cast<std::ptrdiff_t>(sample.profile_begin));
}

}  // namespace lamp
