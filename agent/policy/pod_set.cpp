#include "npv/pod_set.hpp"

namespace npv {

PodSet::PodSet(std::vector<PodId> sorted_ids, std::size_t universe) : universe_(universe), size_(sorted_ids.size()) {
  // A bitset costs universe/8 bytes, the array 4 bytes an element: pick the smaller.
  dense_ = sorted_ids.size() * 32 > universe;
  if (dense_) {
    bits_.assign((universe + 63) / 64, 0);
    for (PodId id : sorted_ids) bits_[id >> 6] |= std::uint64_t{1} << (id & 63);
  } else {
    ids_ = std::move(sorted_ids);
    ids_.shrink_to_fit();
  }
}

}  // namespace npv
