// SlotIndex: an open-addressing hash index from keys to uint32 slots of a slab the caller owns
// (FlowTracker's entries). It stores only (slot, 32-bit hash) pairs, 8 bytes each, so a probe that
// meets another key's hash never touches the slab: the caller's key compare runs only on a full
// 32-bit hash match. Power-of-two capacity, linear probing, kept at most half full; erase shifts
// the rest of the probe run back instead of leaving tombstones, so lookups never slow down with
// churn (FlowTracker opens and erases a flow per connection).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace npv {

class SlotIndex {
 public:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  // The largest number of keys: buckets are chosen from the 32-bit hash, so at most 2^32 buckets.
  static constexpr std::size_t kMaxKeys = std::size_t{1} << 31;

  // Room for `max_keys` keys (at most kMaxKeys) without growing.
  explicit SlotIndex(std::size_t max_keys = 0) { reserve(max_keys); }

  // Grows (rehashing from the stored hashes, the slab is not read) so that `max_keys` fit.
  void reserve(std::size_t max_keys) {
    std::size_t buckets = 8;
    while (buckets < 2 * max_keys) buckets *= 2;
    if (buckets <= buckets_.size()) return;
    std::vector<Bucket> old(buckets, Bucket{});
    old.swap(buckets_);
    mask_ = static_cast<std::uint32_t>(buckets - 1);
    for (const Bucket& b : old)
      if (b.slot != kNone) place(b);
  }

  // The slot whose key `is_key(slot)` accepts among those stored under `hash`, else kNone.
  template <class IsKey>
  std::uint32_t find(std::uint32_t hash, IsKey&& is_key) const {
    for (std::uint32_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Bucket& b = buckets_[i];
      if (b.slot == kNone) return kNone;
      if (b.hash == hash && is_key(b.slot)) return b.slot;
    }
  }

  // Adds `slot` under `hash`; the caller knows its key is absent and that fewer than the reserved
  // number of keys are stored.
  void insert(std::uint32_t hash, std::uint32_t slot) {
    place(Bucket{slot, hash});
    ++size_;
  }

  // Removes `slot`, stored under `hash`; no-op when it is not stored.
  void erase(std::uint32_t hash, std::uint32_t slot) {
    std::uint32_t hole = hash & mask_;
    for (;; hole = (hole + 1) & mask_) {
      if (buckets_[hole].slot == kNone) return;
      if (buckets_[hole].slot == slot) break;
    }
    --size_;
    // Backward shift: move later members of the probe run into the hole when the hole lies on
    // their path from their home bucket, so that every key stays reachable without tombstones.
    for (std::uint32_t i = (hole + 1) & mask_;; i = (i + 1) & mask_) {
      const Bucket b = buckets_[i];
      if (b.slot == kNone) break;
      const std::uint32_t home = b.hash & mask_;
      const bool hole_on_path = ((i - home) & mask_) >= ((i - hole) & mask_);
      if (hole_on_path) {
        buckets_[hole] = b;
        hole = i;
      }
    }
    buckets_[hole] = Bucket{};
  }

  std::size_t size() const { return size_; }
  std::size_t bucket_count() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::uint32_t slot = kNone;
    std::uint32_t hash = 0;
  };

  void place(Bucket b) {
    std::uint32_t i = b.hash & mask_;
    while (buckets_[i].slot != kNone) i = (i + 1) & mask_;
    buckets_[i] = b;
  }

  std::vector<Bucket> buckets_;
  std::uint32_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace npv
