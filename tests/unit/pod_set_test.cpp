#include <gtest/gtest.h>

#include <random>
#include <set>

#include "npv/pod_set.hpp"

namespace npv {
namespace {

// Both representations, and the switch between them, answer exactly like a std::set.
TEST(PodSet, AgreesWithStdSetForSparseDenseAndDuplicateInputs) {
  std::mt19937 rng(3);
  for (std::size_t universe : {1u, 63u, 64u, 65u, 1000u}) {
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, universe / 40, universe / 31, universe / 2, universe * 3}) {
      std::vector<PodId> ids;
      std::set<PodId> expected;
      for (std::size_t i = 0; i < n; ++i) {
        PodId id = static_cast<PodId>(rng() % universe);
        ids.push_back(id);
        expected.insert(id);
      }
      PodSet set(ids, universe);
      EXPECT_EQ(set.size(), expected.size()) << "universe " << universe << " n " << n;
      EXPECT_EQ(set.view().size(), expected.size()) << "universe " << universe << " n " << n;
      std::vector<PodId> listed;
      set.view().for_each([&](PodId id) { listed.push_back(id); });
      EXPECT_EQ(listed, std::vector<PodId>(expected.begin(), expected.end())) << "in increasing order";
      for (PodId id = 0; id < universe + 70; ++id) {
        ASSERT_EQ(set.contains(id), expected.contains(id)) << "universe " << universe << " n " << n << " id " << id;
      }
    }
  }
}

TEST(PodSet, EmptySetContainsNothing) {
  PodSet empty;
  EXPECT_FALSE(empty.contains(0));
  EXPECT_EQ(empty.size(), 0u);
  PodSet none({}, 100);
  EXPECT_FALSE(none.contains(5));
}

}  // namespace
}  // namespace npv
