// What the agent reports about judged flows: findings aggregated per window, and drift alerts.
//
// Rules (each branch in finding_window.cpp names its rule):
//  W1. Key. A finding is keyed by (src, dst, port, kind): endpoints by name ("ns/pod" or the IP),
//      the destination port as "PORT/PROTO"; the client's ephemeral port is not part of it.
//  W2. Window. The first finding of a key opens its window; later ones within `window` add to
//      its count. When the window has passed, take_closed() reports it once, with the count and
//      the last flow's details, and the key starts afresh.
//  W3. Drift. For a flow the policy denies, the network either blocked it (enforced) or let it
//      through (leaked). A key (src, dst, port) whose last denied flow was enforced and whose next
//      one leaks raises "enforcement-lost" at once (a CNI restart, a policy agent that died); the
//      reverse raises "enforcement-restored". The first denied flow of a key raises nothing.
//  W4. Memory. At most max_keys windows and max_keys drift keys are held; opening one more
//      closes the oldest window early (reported) and forgets the oldest drift key.
//
// Not thread-safe. Times are CLOCK_MONOTONIC ns; wall-clock times are for people (RFC 3339).
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "npv/verifier.hpp"

namespace npv {

// One judged flow with a finding, as the sinks need it.
struct FindingSample {
  FindingKind kind = FindingKind::kSilentNonEnforcement;
  std::string src, dst, port;            // W1 key parts: "ns/pod" or IP; "80/TCP"
  std::string protocol;                  // "TCP"
  std::string src_ip, dst_ip;            // the flow's addresses
  std::string service;                   // "ns/name" when the flow went to a Service's IP, else empty
  bool expected_allowed = false;
  std::string observed;                  // Outcome, e.g. "established"
  std::string drop_reason;               // empty: none seen
  std::vector<std::string> policies;     // deciding_policies(), sorted
  std::uint64_t generation = 0;          // the state it was judged by
  bool within_grace = false;
};

struct FindingRecord {
  FindingSample last;  // the window's most recent finding
  std::uint64_t count = 0;
  std::uint64_t first_ns = 0, last_ns = 0;             // monotonic
  std::chrono::system_clock::time_point first_wall, last_wall;
};

enum class DriftKind : std::uint8_t { kEnforcementLost, kEnforcementRestored };
const char* to_string(DriftKind k);  // "enforcement-lost", "enforcement-restored"

struct DriftAlert {
  DriftKind kind = DriftKind::kEnforcementLost;
  FindingSample sample;  // the flow that changed (kind is silent-non-enforcement when lost)
  std::string before, now;  // "enforced" / "leaked"
  std::chrono::system_clock::time_point when;
};

struct FindingWindowOptions {
  std::chrono::nanoseconds window{std::chrono::seconds{60}};
  std::size_t max_keys = 100000;
};

class FindingWindow {
 public:
  explicit FindingWindow(FindingWindowOptions options);

  // A judged flow with a finding (W1, W2). `wall` is its wall-clock time for reports.
  void add(const FindingSample& sample, std::uint64_t now_ns, std::chrono::system_clock::time_point wall);
  // A judged flow the policy denies (W3): `leaked` when it reached its destination. Returns the
  // alert to raise, if the key changed state. `sample` names the flow.
  std::optional<DriftAlert> denied_flow(const FindingSample& sample, bool leaked,
                                        std::chrono::system_clock::time_point wall);

  // Windows that have passed by now_ns (W2), plus any closed early (W4); oldest first.
  std::vector<FindingRecord> take_closed(std::uint64_t now_ns);
  // Every open window (shutdown).
  std::vector<FindingRecord> flush();
  std::size_t open_windows() const { return windows_.size(); }

 private:
  using Key = std::tuple<std::string, std::string, std::string, FindingKind>;
  using DriftKey = std::tuple<std::string, std::string, std::string>;
  struct Window {
    Key key;
    FindingRecord record;
  };
  std::list<Window> order_;  // by opening time, oldest first
  std::map<Key, std::list<Window>::iterator> windows_;
  std::vector<FindingRecord> closed_;

  struct DriftState {
    bool leaked = false;
    std::list<DriftKey>::iterator lru;
  };
  std::list<DriftKey> drift_lru_;  // front: most recent
  std::map<DriftKey, DriftState> drift_;

  FindingWindowOptions options_;
};

}  // namespace npv
