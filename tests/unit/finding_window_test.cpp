// Findings per window and drift alerts (finding_window.hpp): rules W1-W4.
#include "npv/finding_window.hpp"

#include <gtest/gtest.h>

namespace npv {
namespace {

constexpr std::uint64_t kSec = 1'000'000'000ULL;
const auto kWall = std::chrono::system_clock::time_point{};

FindingSample sample(const char* src, const char* dst, const char* port,
                     FindingKind kind = FindingKind::kSilentNonEnforcement, const char* observed = "established") {
  FindingSample s;
  s.kind = kind;
  s.src = src;
  s.dst = dst;
  s.port = port;
  s.observed = observed;
  return s;
}

FindingWindow window(std::chrono::seconds w, std::size_t max_keys = 100) {
  return FindingWindow(FindingWindowOptions{.window = w, .max_keys = max_keys});
}

TEST(FindingWindow, W1W2OneRecordPerKeyPerWindowWithItsCount) {
  auto fw = window(std::chrono::seconds{60});
  for (int i = 0; i < 5; ++i) fw.add(sample("a/x", "b/y", "80/TCP"), (10 + i) * kSec, kWall);
  fw.add(sample("a/x", "b/y", "81/TCP"), 11 * kSec, kWall);                                  // other port
  fw.add(sample("a/x", "b/y", "80/TCP", FindingKind::kUnexpectedDrop, "timeout"), 12 * kSec, kWall);  // other kind
  EXPECT_EQ(fw.open_windows(), 3u);
  EXPECT_TRUE(fw.take_closed(69 * kSec).empty());  // the first window closes at 70 s
  auto closed = fw.take_closed(70 * kSec);  // 10 s + 60 s; the 11 s window is still open
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].count, 5u);
  EXPECT_EQ(closed[0].first_ns, 10 * kSec);
  EXPECT_EQ(closed[0].last_ns, 14 * kSec);
  EXPECT_EQ(closed[0].last.port, "80/TCP");
  closed = fw.take_closed(80 * kSec);
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(closed[0].last.port, "81/TCP");
  EXPECT_EQ(closed[1].last.kind, FindingKind::kUnexpectedDrop);
  // The key starts afresh.
  fw.add(sample("a/x", "b/y", "80/TCP"), 90 * kSec, kWall);
  auto rest = fw.flush();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].count, 1u);
  EXPECT_EQ(fw.open_windows(), 0u);
}

TEST(FindingWindow, W3DriftOnlyOnTransitionsOfDeniedFlows) {
  auto fw = window(std::chrono::seconds{60});
  auto s = sample("a/x", "b/y", "80/TCP");
  EXPECT_FALSE(fw.denied_flow(s, false, kWall));  // first: enforced, nothing to compare with
  EXPECT_FALSE(fw.denied_flow(s, false, kWall));  // still enforced
  auto lost = fw.denied_flow(s, true, kWall);     // the CNI stopped enforcing
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->kind, DriftKind::kEnforcementLost);
  EXPECT_EQ(lost->before, "enforced");
  EXPECT_EQ(lost->now, "leaked");
  EXPECT_FALSE(fw.denied_flow(s, true, kWall));   // still leaking: the findings say so, no new alert
  auto restored = fw.denied_flow(s, false, kWall);
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->kind, DriftKind::kEnforcementRestored);
  // A key that leaked from its first flow has no transition to report.
  EXPECT_FALSE(fw.denied_flow(sample("c/z", "b/y", "80/TCP"), true, kWall));
}

TEST(FindingWindow, W4BoundedKeysCloseTheOldestEarly) {
  auto fw = window(std::chrono::seconds{60}, 2);
  fw.add(sample("a/1", "b/y", "80/TCP"), 1 * kSec, kWall);
  fw.add(sample("a/2", "b/y", "80/TCP"), 2 * kSec, kWall);
  fw.add(sample("a/3", "b/y", "80/TCP"), 3 * kSec, kWall);
  EXPECT_EQ(fw.open_windows(), 2u);
  auto closed = fw.take_closed(4 * kSec);  // nothing has expired, but a/1 was pushed out
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].last.src, "a/1");
  // Drift keys: the least recently seen is forgotten, so its next flow is a first flow again.
  fw.denied_flow(sample("a/1", "b/y", "80/TCP"), false, kWall);
  fw.denied_flow(sample("a/2", "b/y", "80/TCP"), false, kWall);
  fw.denied_flow(sample("a/1", "b/y", "80/TCP"), false, kWall);  // a/1 recent again
  fw.denied_flow(sample("a/3", "b/y", "80/TCP"), false, kWall);  // evicts a/2
  EXPECT_TRUE(fw.denied_flow(sample("a/1", "b/y", "80/TCP"), true, kWall));   // a/1 remembered
  EXPECT_FALSE(fw.denied_flow(sample("a/2", "b/y", "80/TCP"), true, kWall));  // a/2 forgotten
}

}  // namespace
}  // namespace npv
