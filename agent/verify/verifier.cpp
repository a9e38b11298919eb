// The verifier (verifier.hpp): what policy expects against what the network did.
//
// Rules (each branch below names its rule):
//  V1. Expectation. The PolicyEngine's explanation decides expected_allowed (Kubernetes semantics,
//      R1-R6 of the engine; pod-to-self is always allowed). The lab never probes a pod to itself;
//      a self record handed in anyway is judged like any other allowed flow.
//  V2. Reached. A flow reached its destination when the outcome is established, refused (the SYN
//      got there and a RST came back) or delivered; timeout, unreachable, dropped and not_delivered
//      did not. The prober's connected, refused and received likewise reached; the rest did not.
//  V3. The network's verdict is the observer's: reached(observed->outcome). Without an observed
//      flow it is the prober's, so a missing observer event cannot hide a leak (nor a drop).
//  V4. Expected deny and the network reached the destination: silent-non-enforcement.
//  V5. Expected allow and the network did not reach it: unexpected-drop.
//  V6. No observed flow for the probe: observer-disagreement.
//  V7. Observed, but reached(observed) != reached(prober): observer-disagreement (the policy
//      finding, if any, still follows the observer: V3).
//  Otherwise (no finding) policy, network and observer agree. Findings are listed in that order:
//  the policy finding (V4/V5) first, then the observer's (V6/V7).
#include "npv/verifier.hpp"

#include <algorithm>

namespace npv {

const char* to_string(ProbeOutcome o) {
  switch (o) {
    case ProbeOutcome::kConnected: return "connected";
    case ProbeOutcome::kRefused: return "refused";
    case ProbeOutcome::kUnreachable: return "unreachable";
    case ProbeOutcome::kTimeout: return "timeout";
    case ProbeOutcome::kReceived: return "received";
    case ProbeOutcome::kNotReceived: return "not_received";
  }
  return "unknown";
}

bool reached(ProbeOutcome o) {  // V2
  return o == ProbeOutcome::kConnected || o == ProbeOutcome::kRefused || o == ProbeOutcome::kReceived;
}

bool reached(Outcome o) {  // V2
  return o == Outcome::kEstablished || o == Outcome::kRefused || o == Outcome::kDelivered;
}

const char* to_string(FindingKind k) {
  switch (k) {
    case FindingKind::kSilentNonEnforcement: return "silent-non-enforcement";
    case FindingKind::kUnexpectedDrop: return "unexpected-drop";
    case FindingKind::kObserverDisagreement: return "observer-disagreement";
  }
  return "unknown";
}

bool has_finding(const ProbeRecord& record, FindingKind kind) {
  return std::ranges::find(record.findings, kind) != record.findings.end();
}

std::optional<FindingKind> policy_finding(bool expected_allowed, bool network_reached) {
  if (!expected_allowed && network_reached) return FindingKind::kSilentNonEnforcement;  // V4
  if (expected_allowed && !network_reached) return FindingKind::kUnexpectedDrop;        // V5
  return std::nullopt;
}

void verify(const PolicyEngine& engine, ProbeRecord& record) {
  record.explanation = engine.explain(record.flow);  // V1
  record.expected_allowed = record.explanation.allowed();
  record.findings.clear();

  const bool prober_reached = reached(record.prober);
  const bool network_reached = record.observed ? reached(record.observed->outcome)  // V3
                                               : prober_reached;                    // V3, no observer event

  if (auto f = policy_finding(record.expected_allowed, network_reached)) record.findings.push_back(*f);  // V4, V5

  if (!record.observed) {
    record.findings.push_back(FindingKind::kObserverDisagreement);  // V6
  } else if (reached(record.observed->outcome) != prober_reached) {
    record.findings.push_back(FindingKind::kObserverDisagreement);  // V7
  }
}

void summarize(LabReport& report) {
  LabSummary& s = report.summary;
  s.probes = report.probes.size();
  s.agree = s.silent_non_enforcement = s.unexpected_drop = s.observer_disagreement = 0;
  for (const ProbeRecord& r : report.probes) {
    if (r.findings.empty()) ++s.agree;
    if (has_finding(r, FindingKind::kSilentNonEnforcement)) ++s.silent_non_enforcement;
    if (has_finding(r, FindingKind::kUnexpectedDrop)) ++s.unexpected_drop;
    if (has_finding(r, FindingKind::kObserverDisagreement)) ++s.observer_disagreement;
  }
}

}  // namespace npv
