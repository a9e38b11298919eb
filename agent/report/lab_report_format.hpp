// Helpers shared by the lab report sinks (lab_report.cpp: text and JSON; lab_report_html.cpp).
// Internal to agent/report.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "npv/verifier.hpp"

namespace npv::lab_report {

// "ns/name" for a pod (its IP left out), else the IP (endpoint_name).
std::string name(const ClusterState& cluster, const Endpoint& e);

// The policies that decide the verdict, as "ns/name", sorted and unique: for a denied flow, those
// isolating the denying direction(s) (none of their rules allows it); for an allowed flow, those
// whose rules allow it. Empty when no policy isolates either end, and for pod-to-self.
std::vector<std::string> policies(const ClusterState& cluster, const ProbeRecord& r);

// The same for people: the policies of a denial ("production/default-deny-all", ...), the rules
// of an allowance ("production/allow-x egress[0]", "production/allow-y ingress[0]"); deciding_text
// joins them with ", ", or is "-" when there are none.
std::vector<std::string> deciding(const ClusterState& cluster, const ProbeRecord& r);
std::string deciding_text(const ClusterState& cluster, const ProbeRecord& r);

// The verdict and what decided it, in full (matrix cell titles): "deny (ingress isolated by
// production/default-deny-all)", "allow (production/allow-x egress[0], production/allow-y
// ingress[0])", "allow (no policy isolates either end)", "allow (pod to itself)".
std::string expected_text(const ClusterState& cluster, const ProbeRecord& r);

// The verdict in a few words, for table columns (deciding_text names the policies): "allow",
// "allow (not isolated)", "allow (pod to itself)", "deny (ingress isolated)", "deny (egress
// isolated)", "deny (egress+ingress isolated)".
std::string expected_short(const ProbeRecord& r);

// The observer's outcome with its drop reason ("timeout, drop NETFILTER_DROP"), "no observer
// event" without one; the prober's outcome is appended when it tells a different story.
std::string observed_text(const ProbeRecord& r);

// "1.2 s" from 100 ms on, else "85 ms".
std::string duration_text(std::chrono::milliseconds d);

// The first line of the text report (the counts and timings).
std::string summary_line(const LabSummary& s);

// How the run ended, and the one-line verdict ("CNI enforces all N probed flows." ...).
enum class Verdict { kNothingProbed, kEnforced, kFailed, kInconclusive };
Verdict verdict(const LabSummary& s);
std::string verdict_line(const LabSummary& s);

// The findings as (probe index, kind), grouped by kind (silent non-enforcement, unexpected drop,
// observer disagreement), each group in report order.
std::vector<std::pair<std::size_t, FindingKind>> findings(const LabReport& report);

}  // namespace npv::lab_report
