// npv agent's core: kernel events in, findings and drift alerts out (model -> engine -> verifier
// -> sinks, with the cluster's state coming from the Kubernetes API).
//
// The loop owns a FlowTracker, a LiveVerifier and a FindingWindow. The cluster state comes from a
// ClusterSource (the API watcher, or a fixed state in tests); each new generation is compiled on
// a background thread (an engine for 10,000 pods takes a few hundred ms) and handed to the
// verifier with the time the change was seen, so the grace period runs from the change, not from
// the compilation.
//
// Per completed flow: count its outcome; judge it (live_verifier.hpp L1-L8; a flow to a Service
// IP is judged for each backend); a finding goes into its window; a denied flow feeds drift
// detection, whose alerts go out at once. Closed windows go out on tick(). Out = one JSON line on
// `out` (agent_report.hpp) and, when an EventSink is given, a Kubernetes Event on each policy the
// finding is about (at most three), or on the destination Pod when no policy is involved.
//
// Thread-safety: on_event(), tick() and finish() are called from one thread; the compile thread
// is internal. Times are CLOCK_MONOTONIC ns, wall times for reports.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "npv/agent_metrics.hpp"
#include "npv/agent_report.hpp"
#include "npv/finding_window.hpp"
#include "npv/flow_tracker.hpp"
#include "npv/live_verifier.hpp"

namespace npv {

// The declared state of the cluster, from wherever it comes.
class ClusterSource {
 public:
  virtual ~ClusterSource() = default;
  struct State {
    std::shared_ptr<const ClusterState> cluster;  // finalized; null before the first full sync
    std::uint64_t generation = 0;                 // grows with every change
    std::uint64_t changed_ns = 0;                 // CLOCK_MONOTONIC ns when this generation was seen
  };
  // Thread-safe: called from the agent's compile thread.
  virtual State latest() const = 0;
  // Thread-safe: called from the HTTP thread at scrape time.
  virtual std::vector<WatchCounterSample> watch_counters() const { return {}; }
};

// Where a finding's Kubernetes Event goes: the object it is about.
struct EventTarget {
  // "NetworkPolicy", "Pod", or a cluster-scoped "AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
  // "ClusterNetworkPolicy" (ns empty: the Event goes to namespace default)
  std::string kind;
  std::string api_version;  // "networking.k8s.io/v1", "v1", "policy.networking.k8s.io/v1alpha1", ...
  std::string ns, name;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Must not block the caller (queue and post in the background).
  virtual void post(const EventTarget& target, const EventText& text) = 0;
};

struct AgentOptions {
  std::string node = "unknown";
  std::chrono::nanoseconds grace{std::chrono::seconds{10}};
  std::chrono::nanoseconds window{std::chrono::seconds{60}};
  std::uint32_t host_netns = 0;  // inode of the node's network namespace (L3)
  TrackerOptions tracker;
  std::size_t max_event_targets = 3;  // policies per finding that get an Event
  // Memory bound under churn: each kept state holds a ClusterState and its compiled engine
  // (tens of MiB at 10,000 pods). A new generation is compiled at most once per
  // min_compile_interval (the generations in between are skipped, the latest wins), and at most
  // max_states are kept for L5/L6; a flow older than the oldest kept state is judged by it.
  std::chrono::milliseconds min_compile_interval{1000};
  std::size_t max_states = 4;
};

class AgentLoop {
 public:
  // `source`, `metrics`, `out` and `events` (may be null) must outlive the loop.
  AgentLoop(AgentOptions options, const ClusterSource& source, AgentMetrics& metrics, std::ostream& out,
            EventSink* events);
  ~AgentLoop();
  AgentLoop(const AgentLoop&) = delete;
  AgentLoop& operator=(const AgentLoop&) = delete;

  void on_event(const npv_event& ev);
  // Takes a newly compiled state, judges the flows complete at now_ns, writes closed windows.
  void tick(std::uint64_t now_ns, std::chrono::system_clock::time_point wall);
  // Shutdown: every pending flow, then every open window.
  void finish(std::uint64_t now_ns, std::chrono::system_clock::time_point wall);

  bool synced() const;  // a compiled state is in use
  std::uint64_t generation() const;
  TrackerStats tracker_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace npv
