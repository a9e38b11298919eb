#include "npv/pod_set.hpp"

#include <algorithm>

namespace npv {

PodSet::PodSet(std::vector<PodId> ids, std::size_t universe) {
  // A bitset costs universe/8 bytes, the array 4 bytes an element: pick the smaller. A bitset
  // needs no sorting, which matters for large sets.
  if (ids.size() * 32 > universe) {
    bits_.assign((universe + 63) / 64, 0);
    for (PodId id : ids) bits_[id >> 6] |= std::uint64_t{1} << (id & 63);
    for (auto word : bits_) size_ += static_cast<std::size_t>(__builtin_popcountll(word));
    if (size_ * 32 > universe) return;
    // Duplicates made it sparse after all: fall through with the distinct ids.
    ids.clear();
    for (PodId id = 0; id < universe; ++id) {
      if ((bits_[id >> 6] >> (id & 63)) & 1) ids.push_back(id);
    }
    bits_.clear();
    bits_.shrink_to_fit();
  } else {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  }
  size_ = ids.size();
  ids_ = std::move(ids);
  ids_.shrink_to_fit();
}

PodSetView PodSet::view() const {
  if (!bits_.empty()) return {bits_.data(), nullptr, static_cast<std::uint32_t>(bits_.size())};
  return {nullptr, ids_.data(), static_cast<std::uint32_t>(ids_.size())};
}

}  // namespace npv
