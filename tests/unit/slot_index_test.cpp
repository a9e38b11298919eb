// SlotIndex (slot_index.hpp): lookups, backward-shift erase and growth under heavy collisions,
// which FlowTracker's tests cannot provoke (its hashes are not chosen by the test).
#include "npv/slot_index.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>

namespace npv {
namespace {

// Here a slot is its own key: find(hash, slot) accepts exactly that slot.
std::uint32_t find(const SlotIndex& index, std::uint32_t hash, std::uint32_t slot) {
  return index.find(hash, [slot](std::uint32_t s) { return s == slot; });
}

// Every (slot, hash) of `stored` is found, and no other slot below `slots` under any of its hashes.
void expect_exactly(const SlotIndex& index, const std::map<std::uint32_t, std::uint32_t>& stored,
                    std::uint32_t slots) {
  ASSERT_EQ(index.size(), stored.size());
  std::set<std::uint32_t> hashes;
  for (const auto& [slot, hash] : stored) hashes.insert(hash);
  for (std::uint32_t slot = 0; slot < slots; ++slot) {
    auto it = stored.find(slot);
    if (it != stored.end()) {
      ASSERT_EQ(find(index, it->second, slot), slot) << "slot " << slot;
    } else {
      for (std::uint32_t hash : hashes) ASSERT_EQ(find(index, hash, slot), SlotIndex::kNone) << "slot " << slot;
    }
  }
}

TEST(SlotIndex, EmptyFindsNothing) {
  SlotIndex index(4);
  EXPECT_EQ(find(index, 7, 0), SlotIndex::kNone);
  index.erase(7, 0);  // absent: no-op
  EXPECT_EQ(index.size(), 0u);
}

TEST(SlotIndex, OneProbeRunOfCollidingKeysSurvivesErasesAnywhere) {
  SlotIndex index(64);
  std::map<std::uint32_t, std::uint32_t> stored;
  for (std::uint32_t slot = 0; slot < 40; ++slot) {
    index.insert(5, slot);  // all in one bucket: one long run
    stored[slot] = 5;
  }
  expect_exactly(index, stored, 40);
  for (std::uint32_t slot : {20u, 0u, 39u, 21u, 1u, 38u}) {  // middle, head, tail of the run
    index.erase(5, slot);
    stored.erase(slot);
    expect_exactly(index, stored, 40);
  }
}

TEST(SlotIndex, RunsThatWrapAroundTheEndOfTheTable) {
  SlotIndex index(8);
  const auto last = static_cast<std::uint32_t>(index.bucket_count() - 1);
  std::map<std::uint32_t, std::uint32_t> stored;
  // Homes in the last two buckets and the first: the runs wrap and interleave.
  const std::uint32_t hashes[] = {last, last, last - 1, 0, last, 0, last - 1, 1};
  for (std::uint32_t slot = 0; slot < 8; ++slot) {
    index.insert(hashes[slot], slot);
    stored[slot] = hashes[slot];
  }
  expect_exactly(index, stored, 8);
  for (std::uint32_t slot : {0u, 3u, 1u, 7u, 4u}) {
    index.erase(stored[slot], slot);
    stored.erase(slot);
    expect_exactly(index, stored, 8);
  }
}

TEST(SlotIndex, SameBucketDifferentHashBitsAreToldApart) {
  SlotIndex index(4);
  const auto buckets = static_cast<std::uint32_t>(index.bucket_count());
  index.insert(3, 0);
  index.insert(3 + buckets, 1);  // same bucket, other hash: found only under its own hash
  EXPECT_EQ(find(index, 3, 0), 0u);
  EXPECT_EQ(find(index, 3 + buckets, 1), 1u);
  EXPECT_EQ(find(index, 3 + buckets, 0), SlotIndex::kNone);
  index.erase(3, 0);
  EXPECT_EQ(find(index, 3 + buckets, 1), 1u);
}

TEST(SlotIndex, RandomChurnMatchesAReference) {
  constexpr std::uint32_t kSlots = 200;
  SlotIndex index(kSlots);
  std::map<std::uint32_t, std::uint32_t> stored;
  std::mt19937 rng(12345);
  for (int step = 0; step < 5000; ++step) {
    const std::uint32_t slot = rng() % kSlots;
    if (auto it = stored.find(slot); it != stored.end()) {
      index.erase(it->second, slot);
      stored.erase(it);
    } else {
      // Few distinct buckets, so runs are long and overlap; high bits vary too.
      const std::uint32_t hash = (rng() % 24) | (rng() % 3) << 20;
      index.insert(hash, slot);
      stored[slot] = hash;
    }
    if (step % 250 == 0) expect_exactly(index, stored, kSlots);
  }
  expect_exactly(index, stored, kSlots);
}

TEST(SlotIndex, ReserveGrowsWithoutLosingKeys) {
  SlotIndex index(16);
  const std::size_t small = index.bucket_count();
  std::map<std::uint32_t, std::uint32_t> stored;
  for (std::uint32_t slot = 0; slot < 16; ++slot) {
    index.insert(slot * 7919, slot);
    stored[slot] = slot * 7919;
  }
  index.reserve(5000);
  EXPECT_GE(index.bucket_count(), 10000u);
  EXPECT_GT(index.bucket_count(), small);
  for (std::uint32_t slot = 16; slot < 5000; ++slot) {
    index.insert(slot * 7919, slot);
    stored[slot] = slot * 7919;
  }
  for (const auto& [slot, hash] : stored) ASSERT_EQ(find(index, hash, slot), slot);
  EXPECT_EQ(index.size(), 5000u);
  index.reserve(10);  // never shrinks
  EXPECT_GE(index.bucket_count(), 10000u);
}

}  // namespace
}  // namespace npv
