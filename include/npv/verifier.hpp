// The verifier: for each probed flow, the verdict policy expects (PolicyEngine, with its
// explanation) against what the network did (the eBPF observer's ObservedFlow, and what the
// prober's own connect()/UDP exchange returned), and the findings that follow.
//
// Findings:
//   silent-non-enforcement  expected deny; observed established, refused (the SYN reached the
//                           destination) or delivered
//   unexpected-drop         expected allow; observed timeout, dropped, unreachable, not delivered
//   observer-disagreement   the eBPF observer and the prober disagree (reached vs not reached), or
//                           the observer reported no flow for a probe
// A flow "reached" the destination when established, refused or delivered.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "npv/flow_tracker.hpp"
#include "npv/policy_engine.hpp"

namespace npv {

// What the prober itself saw for one attempt.
enum class ProbeOutcome {
  kConnected,     // TCP connect() succeeded
  kRefused,       // TCP ECONNREFUSED after a RST
  kUnreachable,   // TCP: an ICMP error (ConnectResult::icmp) or EHOSTUNREACH/ENETUNREACH/EACCES
  kTimeout,       // TCP: no answer within the probe timeout
  kReceived,      // UDP: the listener received the datagram
  kNotReceived,   // UDP: it did not within the probe timeout
};
const char* to_string(ProbeOutcome o);  // "connected", "refused", "unreachable", "timeout", "received", "not_received"
bool reached(ProbeOutcome o);           // connected, refused, received
bool reached(Outcome o);                // established, refused, delivered

enum class FindingKind { kSilentNonEnforcement, kUnexpectedDrop, kObserverDisagreement };
const char* to_string(FindingKind k);  // "silent-non-enforcement", "unexpected-drop", "observer-disagreement"

struct ProbeRecord {
  Flow flow;                            // src pod -> dst pod (or external IP) on port/proto
  std::uint16_t src_port = 0;           // the prober's local port (joins the observed flow)
  bool expected_allowed = false;        // PolicyEngine verdict
  Explanation explanation;              // and why
  ProbeOutcome prober = ProbeOutcome::kTimeout;
  std::optional<ObservedFlow> observed; // the eBPF observer's flow, if it reported one
  std::vector<FindingKind> findings;    // empty: policy, network and observer agree
};

struct LabSummary {
  std::string dataplane;  // "enforcing", ...
  std::size_t probes = 0, agree = 0;
  std::size_t silent_non_enforcement = 0, unexpected_drop = 0, observer_disagreement = 0;
  std::chrono::milliseconds setup{0}, probing{0}, teardown{0};
};

struct LabReport {
  LabSummary summary;
  std::vector<ProbeRecord> probes;  // sorted by src, dst, port
};

// The policy finding for a verdict and what the network did (V4, V5): silent-non-enforcement when
// denied yet reached, unexpected-drop when allowed yet not reached, else none. Shared by the lab's
// verify() and the agent's live verifier.
std::optional<FindingKind> policy_finding(bool expected_allowed, bool network_reached);

// True when record.findings holds `kind`.
bool has_finding(const ProbeRecord& record, FindingKind kind);

// Fills record.expected_allowed, record.explanation and record.findings from the engine and the
// record's prober/observed outcomes. The verdict of the network is the observer's; the prober's
// outcome only cross-checks it.
void verify(const PolicyEngine& engine, ProbeRecord& record);
// Recomputes the summary counts from the records (keeps dataplane and timings).
void summarize(LabReport& report);

// Sinks. Text: the summary a person reads in five seconds (counts; the findings table with the
// policies involved; then "CNI enforces all N probed flows" or what it failed). JSON: documented
// schema (README "npv lab"). HTML: one self-contained page, the reachability matrix per port
// coloured by agreement (green agree-allowed, grey agree-denied, red silent non-enforcement,
// orange unexpected drop, purple observer disagreement), the findings, every probe.
//
// Endpoints are named "ns/name" for a pod, else by IP. Ports are "PORT/PROTO".
//
// JSON schema (stable; report_to_json):
//   {
//     "dataplane": "enforcing",
//     "summary": {"probes": 60, "agree": 58, "silent_non_enforcement": 1, "unexpected_drop": 0,
//                 "observer_disagreement": 1, "setup_ms": 1200, "probing_ms": 900, "teardown_ms": 300},
//     "findings": [            // one entry per (probe, kind); a probe may have two (V4/V5 + V6/V7)
//       {"kind": "silent-non-enforcement" | "unexpected-drop" | "observer-disagreement",
//        "src": "tenant-a/app", "dst": "production/frontend", "port": "80/TCP", "protocol": "TCP",
//        "expected": "allow" | "deny",
//        "observed": "established" | ... | null,   // Outcome of the eBPF observer; null: no event
//        "prober": "connected" | ...,              // ProbeOutcome
//        "drop_reason": "NETFILTER_DROP" | null,
//        "policies": ["production/default-deny-all", ...],  // sorted, the deciding policies:
//                  // denied: those isolating the denying direction(s); allowed: those whose rules
//                  // allow it; [] when neither end is isolated
//        "explanation": {...}}                     // explanation_to_json (README "npv explain")
//     ],
//     "probes": [              // every probe, in report order
//       {"src": "...", "dst": "...", "port": "80/TCP", "expected": "allow" | "deny",
//        "observed": "established" | ... | null, "prober": "connected" | ...,
//        "drop_reason": "..." | null, "agree": true}
//     ]
//   }
//
// Text: line 1 "dataplane D: N flows probed, A agree, S silent non-enforcement, U unexpected drops,
// O observer disagreements (setup 1.2 s, probing 0.9 s)"; the findings table if any; the last line
// is one of "CNI enforces all N probed flows.", "CNI FAILED: ...", "INCONCLUSIVE: ...",
// "NOTHING PROBED: ...".
std::string report_to_text(const LabReport& report, const ClusterState& cluster);
nlohmann::json report_to_json(const LabReport& report, const ClusterState& cluster);
std::string report_to_html(const LabReport& report, const ClusterState& cluster);

}  // namespace npv
