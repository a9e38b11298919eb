// npv agent's metrics: counters the agent loop updates and /metrics renders (Prometheus text).
//
// Families (README "npv agent: metrics"):
//   npv_flows_observed_total{outcome}            flows the observer completed, by Outcome
//   npv_flows_judged_total{status}               by LiveStatus (judged, not_synced, not_subject,
//                                                inconclusive, ambiguous)
//   npv_findings_total{kind}                     judged flows with a finding (every flow, not windows)
//   npv_drift_alerts_total{kind}                 enforcement-lost / enforcement-restored
//   npv_events_lost_total{stage}                 kernel_ring_buffer (reserve failed in BPF),
//                                                user_queue (flows the tracker evicted unresolved)
//   npv_kube_events_total{result}                Kubernetes Events: created, patched, failed, dropped
//   npv_kube_lists_total{resource}, npv_kube_watches_total{resource}, npv_kube_relists_total{resource},
//   npv_kube_watch_errors_total{resource}        the API watch of each resource
//   npv_cluster_synced                           1 once every resource had its first full list
//   npv_policy_generation                        generation of the state flows are judged by
//   npv_last_event_timestamp_seconds             wall time of the last kernel event (0: none yet)
//   npv_observer_hook_running{group}             1 per hook group that loaded and attached
//
// Thread-safety: every counter is atomic; the loop writes, the HTTP thread renders.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "npv/finding_window.hpp"
#include "npv/flow_tracker.hpp"
#include "npv/live_verifier.hpp"

namespace npv {

// One resource's API watch counters, as the watcher reports them.
struct WatchCounterSample {
  std::string resource;  // "pods", "networkpolicies", ...
  std::uint64_t lists = 0, watches = 0, relists = 0, errors = 0;
  std::uint64_t not_installed = 0;  // LISTs answered 404: the resource's CRD is not installed
};

struct AgentMetrics {
  static constexpr std::size_t kOutcomes = 7;  // Outcome values
  static constexpr std::size_t kStatuses = 5;  // LiveStatus values

  std::array<std::atomic<std::uint64_t>, kOutcomes> flows_observed{};
  std::array<std::atomic<std::uint64_t>, kStatuses> flows_judged{};
  std::array<std::atomic<std::uint64_t>, 2> findings{};      // FindingKind: silent, unexpected
  std::array<std::atomic<std::uint64_t>, 2> drift_alerts{};  // DriftKind
  std::atomic<std::uint64_t> lost_kernel{0}, lost_user{0};
  std::atomic<std::uint64_t> events_created{0}, events_patched{0}, events_failed{0}, events_dropped{0};
  std::atomic<bool> synced{false};
  std::atomic<std::uint64_t> generation{0};
  std::atomic<double> last_event_unix{0};
  std::array<std::atomic<bool>, 3> hook_running{};  // ObserverGroup: tcp, drops, udp

  void count_observed(Outcome o) { flows_observed[static_cast<std::size_t>(o)]++; }
  void count_judged(LiveStatus s) { flows_judged[static_cast<std::size_t>(s)]++; }
  void count_finding(FindingKind k) { findings[k == FindingKind::kSilentNonEnforcement ? 0 : 1]++; }
  void count_drift(DriftKind k) { drift_alerts[static_cast<std::size_t>(k)]++; }

  // The Prometheus text of every family; `watch` comes from the API watcher at scrape time.
  std::string render(const std::vector<WatchCounterSample>& watch) const;
};

}  // namespace npv
