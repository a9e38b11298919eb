// An immutable set of PodIds: a bitset when dense, a sorted array when sparse, so that a cluster
// with many narrow selectors does not pay pods/8 bytes for each of them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "npv/model.hpp"

namespace npv {

class PodSet {
 public:
  PodSet() = default;
  // `sorted_ids` must be sorted and unique, each < universe.
  PodSet(std::vector<PodId> sorted_ids, std::size_t universe);

  bool contains(PodId id) const {
    if (dense_) return id < universe_ && (bits_[id >> 6] >> (id & 63)) & 1;
    // Sparse sets are short; a branch-light lower bound beats std::binary_search here.
    const PodId* base = ids_.data();
    std::size_t n = ids_.size();
    if (n == 0) return false;
    while (n > 1) {
      std::size_t half = n / 2;
      base = base[half] <= id ? base + half : base;
      n -= half;
    }
    return *base == id;
  }
  std::size_t size() const { return size_; }
  std::size_t memory_bytes() const { return bits_.capacity() * 8 + ids_.capacity() * sizeof(PodId); }

 private:
  bool dense_ = false;
  std::size_t universe_ = 0;
  std::size_t size_ = 0;
  std::vector<std::uint64_t> bits_;
  std::vector<PodId> ids_;
};

}  // namespace npv
