#include "lamp/data/dataset.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace lamp {

char* Arena::reserve(std::size_t size) {
  if (capacity_ - used_ < size) {
    std::size_t block = std::max<std::size_t>(size, 4u << 20);
    // Not make_unique: it would zero every block before it is overwritten.
    blocks_.push_back(std::unique_ptr<char[]>(new char[block]));
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

}  // namespace lamp
