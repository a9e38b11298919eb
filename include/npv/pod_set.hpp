// An immutable set of PodIds: a bitset when dense, a sorted array when sparse, so that a cluster
// with many narrow selectors does not pay pods/8 bytes for each of them.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "npv/model.hpp"

namespace npv {

// A non-owning view of a PodSet, small enough to copy into hot index structures.
struct PodSetView {
  const std::uint64_t* bits = nullptr;  // dense form, else nullptr
  const PodId* ids = nullptr;           // sparse form: sorted
  std::uint32_t count = 0;              // sparse: number of ids; dense: number of 64-bit words

  bool contains(PodId id) const {
    if (bits) return (id >> 6) < count && (bits[id >> 6] >> (id & 63)) & 1;
    // Sparse sets are short; a branch-light search for the last id <= `id`.
    if (count == 0) return false;
    const PodId* base = ids;
    std::uint32_t n = count;
    while (n > 1) {
      std::uint32_t half = n / 2;
      base = base[half] <= id ? base + half : base;
      n -= half;
    }
    return *base == id;
  }
  // Number of pods in the set (a popcount for the dense form).
  std::size_t size() const {
    if (!bits) return count;
    std::size_t n = 0;
    for (std::uint32_t w = 0; w < count; ++w) n += static_cast<std::size_t>(std::popcount(bits[w]));
    return n;
  }
  // Calls f(PodId) for every pod of the set, in increasing order.
  template <class F>
  void for_each(F&& f) const {
    if (!bits) {
      for (std::uint32_t i = 0; i < count; ++i) f(ids[i]);
      return;
    }
    for (std::uint32_t w = 0; w < count; ++w) {
      for (std::uint64_t word = bits[w]; word != 0; word &= word - 1) {
        f(static_cast<PodId>(w * 64 + static_cast<std::uint32_t>(std::countr_zero(word))));
      }
    }
  }
};

class PodSet {
 public:
  PodSet() = default;
  // `ids` each < universe, in any order, duplicates allowed.
  PodSet(std::vector<PodId> ids, std::size_t universe);

  // Valid while this PodSet lives and is not moved.
  PodSetView view() const;
  bool contains(PodId id) const { return view().contains(id); }
  std::size_t size() const { return size_; }
  std::size_t memory_bytes() const { return bits_.capacity() * 8 + ids_.capacity() * sizeof(PodId); }

 private:
  std::size_t size_ = 0;
  std::vector<std::uint64_t> bits_;  // non-empty iff dense
  std::vector<PodId> ids_;
};

}  // namespace npv
