// The live verifier: judges the flows the eBPF observer saw on this node against the cluster's
// declared policies as they stood when each flow started (npv agent).
//
// The lab verifier (verifier.hpp) judges probes it made itself; here the traffic is the cluster's
// own, so the verifier first decides whether a flow is a policy subject at all, and which policy
// state applies to it. Rules (each branch in live_verifier.cpp names its rule):
//  L1. Sync. Until the first full sync there is no state: nothing is judged (kNotSynced).
//  L2. Self. A pod talking to itself (same IP at both ends, or the same pod) is always allowed:
//      not a policy subject.
//  L3. Node-local. An end whose socket lives in the node's own network namespace (kubelet
//      probes, hostNetwork pods, node daemons) is not a policy subject: Kubernetes always allows
//      traffic between a node and its pods and leaves hostNetwork pods undefined.
//  L4. Local. Only flows with a pod of this node at one end are this agent's to judge: the client
//      side seen in a pod network namespace (src_netns) or the server side (dst_netns). Others
//      (a forwarded packet dropped in transit, seen by neither end) are not judged here.
//  L5. State. A flow is judged by the state in effect when it started (first_ns): connections
//      made before a policy change are not judged by the new policy.
//  L6. Grace. A change gets `grace` for the CNI to program it: a flow that started less than
//      `grace` after a change is acceptable under any state in effect during the `grace` before
//      it started; it is a finding only when every one of those states finds the same thing.
//  L7. Verdict. Expected deny and the flow reached the destination (established, refused,
//      delivered): silent-non-enforcement. Expected allow and it did not (timeout, unreachable,
//      dropped, not_delivered): unexpected-drop (verifier.hpp V2, V4, V5).
//  L8. Blind spot. A UDP datagram sent to a destination on another node is delivered there, out
//      of this node's sight: kNotDelivered without a drop seen here is inconclusive, not a drop.
//  L9. Services. A flow to a Service's IP:port (service_map.hpp) reaches one of its backends after
//      translation, and policies apply to the backend: the flow is judged for every backend. When
//      they all get the same verdict, that is the flow's (named after the single backend, or after
//      the Service); when they differ, the flow is ambiguous (which backend it reached is not
//      known here); without known backends it is inconclusive.
//
// Thread-safety: none; one thread calls update() and judge(). Times are CLOCK_MONOTONIC ns
// (monotonic_ns(), the clock of the observer's events).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "npv/flow_tracker.hpp"
#include "npv/policy_engine.hpp"
#include "npv/service_map.hpp"
#include "npv/verifier.hpp"

namespace npv {

// One declared state of the cluster and the engine compiled from it.
struct PolicySnapshot {
  std::shared_ptr<const ClusterState> cluster;
  std::shared_ptr<const PolicyEngine> engine;  // refers to *cluster
  std::shared_ptr<const ServiceMap> services;  // from *cluster
  std::uint64_t generation = 0;                // grows with every change
  std::uint64_t since_ns = 0;                  // CLOCK_MONOTONIC ns at which the state was declared

  // Compiles the engine and the Service map for `cluster` (finalized).
  static PolicySnapshot compile(std::shared_ptr<const ClusterState> cluster, std::uint64_t generation,
                                std::uint64_t since_ns);
};

enum class LiveStatus : std::uint8_t {
  kJudged,        // a policy subject with a verdict; `finding` says whether it disagrees
  kNotSynced,     // L1
  kNotSubject,    // L2, L3, L4
  kInconclusive,  // L8, L9 (a Service without known backends)
  kAmbiguous,     // L9: the Service's backends get different verdicts
};
const char* to_string(LiveStatus s);  // "judged", "not_synced", "not_subject", "inconclusive", "ambiguous"

struct LiveJudgement {
  LiveStatus status = LiveStatus::kNotSynced;
  std::string reason;  // why not judged: "self", "node-local", "not-local", "udp-remote", "before-sync",
                       // "service-no-backends", "service-backends-disagree"
  Flow flow;           // as the engine saw it (pods resolved in `state`; a Service flow: its first backend)
  std::string service;       // "ns/name" when the flow went to a Service IP (L9), else empty
  std::size_t backends = 0;  // the Service's backends judged (L9)
  bool expected_allowed = false;
  Explanation explanation;               // from `state`
  std::optional<FindingKind> finding;    // kSilentNonEnforcement or kUnexpectedDrop
  bool within_grace = false;             // L6 applied: more than one state was considered
  std::shared_ptr<const ClusterState> state;  // the state the flow was judged by (names, policies)
  std::uint64_t generation = 0;
};

struct LiveVerifierOptions {
  std::chrono::nanoseconds grace{std::chrono::seconds{10}};
  // Inode of the node's own network namespace (L3); 0: unknown, L3 never applies.
  std::uint32_t host_netns = 0;
  // States older than this (beyond the newest) are forgotten; flows that started before the
  // oldest kept state are judged by it. Covers the tracker's longest flow age.
  std::chrono::nanoseconds history{std::chrono::seconds{60}};
  std::size_t max_states = 16;  // bound on kept states (each holds a compiled engine)
};

class LiveVerifier {
 public:
  explicit LiveVerifier(LiveVerifierOptions options);

  // A new declared state (generation must grow). Older states are kept for L5/L6 and pruned by
  // options.history and options.max_states.
  void update(PolicySnapshot snapshot, std::uint64_t now_ns);
  bool synced() const { return !states_.empty(); }
  const PolicySnapshot* current() const { return states_.empty() ? nullptr : &states_.back(); }

  LiveJudgement judge(const ObservedFlow& flow) const;

 private:
  // Index into states_ of the state in effect at `ts_ns` (the oldest if before all).
  std::size_t state_at(std::uint64_t ts_ns) const;
  // The verdict of `state` for the flow (L9 for Service IPs): fills j.flow, j.explanation,
  // j.expected_allowed, j.service, j.backends; returns false (with j.status and j.reason set) when
  // no single verdict exists.
  static bool verdict_in(const PolicySnapshot& state, const ObservedFlow& flow, LiveJudgement& j);

  LiveVerifierOptions options_;
  std::deque<PolicySnapshot> states_;  // oldest first; since_ns ascending
};

// The engine's flow for an observed flow in `cluster`: endpoints attributed by IP (a cluster pod
// when the IP is one, else the IP), the destination port and protocol.
Flow to_policy_flow(const ObservedFlow& flow, const ClusterState& cluster);

// deciding_policies(): explain_report.hpp.

}  // namespace npv
