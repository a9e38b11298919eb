// The lab's view through the eBPF observer: a consumer thread feeds the Observer's events into a
// FlowTracker and keeps the completed flows of the lab's namespaces, for each probe to claim by
// its 5-tuple.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "npv/flow_tracker.hpp"
#include "npv/observer.hpp"

namespace npv::lab {

// A probe's flow: source port 0 when the prober does not know it (a UDP send that failed).
struct FlowKey {
  IpAddr src;
  std::uint16_t src_port = 0;
  IpAddr dst;
  std::uint16_t dst_port = 0;
  Protocol proto = Protocol::kTCP;
};

// Owns the Observer from construction on; the Observer is used only by the consumer thread until
// stop() returns, and by the caller afterwards. take() and wait_for() are thread-safe.
class FlowCollector {
 public:
  // `cluster` attributes IPs to pods (must outlive this); `lab_netns` are the namespace inodes
  // of the lab: a flow with a known namespace outside it is someone else's and is ignored.
  FlowCollector(Observer observer, const ClusterState* cluster, std::set<std::uint32_t> lab_netns,
                TrackerOptions options);
  ~FlowCollector();  // stop()
  FlowCollector(const FlowCollector&) = delete;
  FlowCollector& operator=(const FlowCollector&) = delete;

  // Waits until a flow is available for every key, or `timeout`; false on timeout.
  bool wait_for(const std::vector<FlowKey>& keys, std::chrono::milliseconds timeout);
  // Drains the ring buffers, flushes the tracker (pending attempts complete as timeouts) and
  // joins the thread. Idempotent.
  void stop();
  // Removes and returns the flow of `key` (the earliest, if several).
  std::optional<ObservedFlow> take(const FlowKey& key);

  // After stop() only.
  const Observer& observer() const { return observer_; }
  TrackerStats tracker_stats() const { return tracker_.stats(); }
  const std::string& poll_error() const { return poll_error_; }  // empty: none

 private:
  using Tuple = std::tuple<IpAddr, IpAddr, std::uint16_t, Protocol>;  // src, dst, dst port, proto
  static Tuple tuple_of(const FlowKey& key) { return {key.src, key.dst, key.dst_port, key.proto}; }
  void run();
  void store(std::vector<ObservedFlow> flows);  // consumer thread
  // Index into flows_[tuple] of the flow for `key`, or -1; mu_ held.
  long find_locked(const FlowKey& key) const;

  Observer observer_;
  FlowTracker tracker_;
  std::set<std::uint32_t> lab_netns_;
  std::string poll_error_;  // consumer thread until stop()

  std::mutex mu_;
  std::condition_variable changed_;
  bool stop_ = false;                           // guarded by mu_
  std::map<Tuple, std::vector<ObservedFlow>> flows_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace npv::lab
