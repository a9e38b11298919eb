// FlowTracker (flow_tracker.hpp) at its limits: rule 9's eviction with entries reused many times
// over, deadlines left behind by evicted flows, and more pending flows than the initially reserved
// 65,536 when max_flows allows it.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "npv/flow_tracker.hpp"

namespace npv {
namespace {

constexpr std::uint64_t kMs = 1'000'000;

// A TCP event of client 10.<a>.<b>.1:<sport> -> 10.0.0.2:80 at `ts_ns`: `n` picks a and b, so up
// to 2^16 clients times 2^16 ports are distinct flows.
npv_event tcp(npv_event_type type, std::uint32_t n, std::uint16_t sport, std::uint64_t ts_ns) {
  npv_event e{};
  e.type = static_cast<std::uint8_t>(type);
  e.family = AF_INET;
  e.protocol = IPPROTO_TCP;
  const std::uint8_t src[4] = {10, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n), 1};
  const std::uint8_t dst[4] = {10, 0, 0, 2};
  std::memcpy(e.saddr, src, 4);
  std::memcpy(e.daddr, dst, 4);
  e.sport = sport;
  e.dport = 80;
  e.ts_ns = ts_ns;
  return e;
}

TEST(FlowTrackerCapacity, EvictionReusesEntriesManyTimesOver) {
  TrackerOptions o;
  o.max_flows = 4;
  FlowTracker t(nullptr, o);
  constexpr std::uint16_t kFlows = 1000;
  for (std::uint16_t port = 1; port <= kFlows; ++port) {
    t.on_event(tcp(NPV_EV_TCP_ESTABLISHED, 0, port, port * kMs));
    t.on_event(tcp(NPV_EV_TCP_ACCEPTED, 0, port, port * kMs + 1));  // joins its own flow, not a reused one
  }
  EXPECT_EQ(t.stats().pending, 4u);
  EXPECT_EQ(t.stats().evicted, kFlows - 4u);
  EXPECT_EQ(t.stats().evicted_discarded, 0u);  // established: emitted early
  auto flows = t.take_completed((kFlows + 250) * kMs + 1);
  ASSERT_EQ(flows.size(), kFlows);
  for (std::uint16_t i = 0; i < kFlows; ++i) {  // ordered by first_ns, each whole
    EXPECT_EQ(flows[i].src_port, i + 1);
    EXPECT_EQ(flows[i].first_ns, (i + 1) * kMs);
    EXPECT_EQ(flows[i].last_ns, (i + 1) * kMs + 1);
    EXPECT_TRUE(flows[i].client_seen && flows[i].server_seen);
  }
  EXPECT_EQ(t.stats().pending, 0u);
  EXPECT_EQ(t.stats().flows_emitted, kFlows);
}

TEST(FlowTrackerCapacity, DeadlineOfAnEvictedFlowDoesNotEmitTheFlowReusingItsEntry) {
  TrackerOptions o;
  o.max_flows = 2;
  FlowTracker t(nullptr, o);
  t.on_event(tcp(NPV_EV_TCP_ESTABLISHED, 0, 1, 0));         // A: due at 250 ms
  t.on_event(tcp(NPV_EV_TCP_SYN_SENT, 0, 2, 1 * kMs));     // B
  t.on_event(tcp(NPV_EV_TCP_SYN_SENT, 0, 3, 2 * kMs));     // C evicts A (emitted), takes its entry
  auto flows = t.take_completed(250 * kMs);               // A's deadline: C is an attempt, waits
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].src_port, 1);
  EXPECT_EQ(t.stats().pending, 2u);
  flows = t.take_completed(30'002 * kMs);  // rule 8: both attempts time out
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].src_port, 2);
  EXPECT_EQ(flows[1].src_port, 3);
  EXPECT_EQ(flows[1].outcome, Outcome::kTimeout);
}

TEST(FlowTrackerCapacity, MoreThan65536PendingFlowsWhenMaxFlowsAllows) {
  constexpr std::uint32_t kFlows = 150'000;
  TrackerOptions o;
  o.max_flows = kFlows;
  FlowTracker t(nullptr, o);
  auto port = [](std::uint32_t i) { return static_cast<std::uint16_t>(1 + i % 60'000); };
  for (std::uint32_t i = 0; i < kFlows; ++i) t.on_event(tcp(NPV_EV_TCP_ESTABLISHED, i / 60'000, port(i), i));
  for (std::uint32_t i = 0; i < kFlows; ++i) t.on_event(tcp(NPV_EV_TCP_ACCEPTED, i / 60'000, port(i), kFlows + i));
  EXPECT_EQ(t.stats().pending, kFlows);
  EXPECT_EQ(t.stats().evicted, 0u);
  t.on_event(tcp(NPV_EV_TCP_SYN_SENT, 9, 1, 2 * kFlows));  // one more: evicts the oldest (flow 0)
  EXPECT_EQ(t.stats().evicted, 1u);
  EXPECT_EQ(t.stats().pending, kFlows);
  auto flows = t.take_completed(2 * kFlows + 250 * kMs);
  ASSERT_EQ(flows.size(), kFlows);
  for (std::uint32_t i = 0; i < kFlows; ++i) {
    ASSERT_EQ(flows[i].first_ns, i);
    ASSERT_EQ(flows[i].last_ns, kFlows + i);  // both ends joined the same flow
    ASSERT_TRUE(flows[i].server_seen);
  }
  EXPECT_EQ(t.flush().size(), 1u);  // the attempt, as a timeout
}

}  // namespace
}  // namespace npv
