// EventBatch (event_batch.hpp): the runs of several rings come out in ts_ns order, ties keep the
// ring order, an unordered run is sorted, and a callback that throws leaves the rest for the next
// delivery, ahead of anything newer.
#include "npv/event_batch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

namespace npv {
namespace {

// An event told apart by (ts_ns, cookie): the cookie is the test's identity for it.
npv_event ev(std::uint64_t ts, std::uint64_t id) {
  npv_event e{};
  e.ts_ns = ts;
  e.cookie = id;
  e.type = NPV_EV_TCP_ESTABLISHED;
  return e;
}

using Seen = std::vector<std::pair<std::uint64_t, std::uint64_t>>;  // (ts, id) in delivery order

Seen deliver_all(EventBatch& batch) {
  Seen seen;
  batch.deliver([&](const npv_event& e) { seen.emplace_back(e.ts_ns, e.cookie); });
  return seen;
}

TEST(EventBatch, MergesTheRingsRunsByTime) {
  EventBatch batch;
  batch.begin_run();  // CPU 0
  batch.add(ev(10, 1));
  batch.add(ev(30, 2));
  batch.add(ev(50, 3));
  batch.begin_run();  // CPU 1
  batch.add(ev(20, 4));
  batch.add(ev(40, 5));
  EXPECT_EQ(deliver_all(batch), (Seen{{10, 1}, {20, 4}, {30, 2}, {40, 5}, {50, 3}}));
  EXPECT_EQ(batch.pending(), 0u);
}

TEST(EventBatch, EqualTimesKeepTheRingOrder) {
  EventBatch batch;
  batch.begin_run();
  batch.add(ev(10, 1));
  batch.add(ev(10, 2));
  batch.begin_run();
  batch.add(ev(10, 3));
  batch.add(ev(5, 4));  // out of order within its ring: sorted, stable
  batch.add(ev(10, 5));
  EXPECT_EQ(deliver_all(batch), (Seen{{5, 4}, {10, 1}, {10, 2}, {10, 3}, {10, 5}}));
}

TEST(EventBatch, ManyRingsOfUnevenLengthMatchAStableSort) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    EventBatch batch;
    std::vector<npv_event> all;
    const int rings = 1 + static_cast<int>(rng() % 9);  // odd and even counts, one ring too
    std::uint64_t id = 0;
    for (int r = 0; r < rings; ++r) {
      batch.begin_run();
      std::uint64_t ts = rng() % 100;
      const int n = static_cast<int>(rng() % 20);  // empty runs too
      for (int i = 0; i < n; ++i) {
        ts += rng() % 5;  // nearly sorted, with ties
        if (rng() % 10 == 0) ts -= std::min<std::uint64_t>(ts, 7);  // now and then a step back
        all.push_back(ev(ts, ++id));
        batch.add(all.back());
      }
    }
    std::vector<npv_event> expected = all;
    // Ties: ring order, then order within the ring: the order of `all`.
    std::stable_sort(expected.begin(), expected.end(),
                     [](const npv_event& a, const npv_event& b) { return a.ts_ns < b.ts_ns; });
    Seen want;
    for (const npv_event& e : expected) want.emplace_back(e.ts_ns, e.cookie);
    ASSERT_EQ(deliver_all(batch), want) << "round " << round << ", " << rings << " rings";
  }
}

TEST(EventBatch, AddWithoutBeginRunIsOneRun) {
  EventBatch batch;
  batch.add(ev(3, 1));
  batch.add(ev(1, 2));
  EXPECT_EQ(deliver_all(batch), (Seen{{1, 2}, {3, 1}}));
  EXPECT_EQ(deliver_all(batch), Seen{});  // nothing twice
}

TEST(EventBatch, ACallbackThatThrowsLeavesTheRestForTheNextDelivery) {
  EventBatch batch;
  batch.begin_run();
  batch.add(ev(10, 1));
  batch.add(ev(30, 2));
  batch.begin_run();
  batch.add(ev(20, 3));
  batch.add(ev(40, 4));
  Seen seen;
  EXPECT_THROW(batch.deliver([&](const npv_event& e) {
    seen.emplace_back(e.ts_ns, e.cookie);
    if (e.cookie == 3) throw std::runtime_error("consumer failed");
  }),
               std::runtime_error);
  EXPECT_EQ(seen, (Seen{{10, 1}, {20, 3}}));  // the one that threw counts as delivered
  EXPECT_EQ(batch.pending(), 2u);

  // The next poll's rings: newer and older than the leftover interleave by time.
  batch.begin_run();
  batch.add(ev(35, 5));
  batch.add(ev(50, 6));
  EXPECT_EQ(deliver_all(batch), (Seen{{30, 2}, {35, 5}, {40, 4}, {50, 6}}));
  EXPECT_EQ(batch.pending(), 0u);
}

TEST(EventBatch, LeftoverIsDeliveredAloneWhenNothingNewArrives) {
  EventBatch batch;
  batch.add(ev(1, 1));
  batch.add(ev(2, 2));
  EXPECT_THROW(batch.deliver([](const npv_event&) { throw std::runtime_error("x"); }), std::runtime_error);
  EXPECT_EQ(deliver_all(batch), (Seen{{2, 2}}));
}

}  // namespace
}  // namespace npv
