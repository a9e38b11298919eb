// `npv audit`: static posture checks on a cluster's NetworkPolicies, before any traffic.
//
// run_audit() runs every check of audit_checks() over a ClusterState, with the PolicyEngine for
// the semantics (isolation, rule matching, peer pod sets), and returns the findings with a summary
// and the CNI detection. Checks have stable IDs ("NPV-AUD-002") that are never renumbered; the
// README's "npv audit" section documents each one, its severity and its remediation.
//
// Renderers (text, JSON, SARIF) are in audit_report.hpp. Pure: no I/O, no privileges.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "npv/model.hpp"

namespace npv {

enum class Severity : std::uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };
inline constexpr int kSeverityCount = 5;

const char* to_string(Severity s);  // "info", "low", "medium", "high", "critical"
std::optional<Severity> parse_severity(std::string_view text);

// One check of the registry. `severity` is its usual severity; a finding may differ where the
// check's description says so (NPV-AUD-004, NPV-AUD-020).
struct CheckInfo {
  std::string_view id;           // "NPV-AUD-002"
  std::string_view name;         // "no-default-deny-ingress"
  Severity severity;
  std::string_view title;        // one line: what is wrong
  std::string_view description;  // what the check looks at, and what it does not
  std::string_view remediation;  // what to do about it
};

// Every check, in ID order.
std::span<const CheckInfo> audit_checks();
const CheckInfo* find_check(std::string_view id);

// An object a finding points at. `kind` is a Kubernetes kind ("NetworkPolicy", "Namespace",
// "Pod", "Deployment", "DaemonSet", ...); `field` narrows it down ("spec.ingress[1]") or is empty.
struct ObjectRef {
  std::string kind;
  std::string ns;    // empty for cluster-scoped objects (Namespace)
  std::string name;
  std::string field;
  Origin origin;     // where it was read, or empty when it was not read from a file

  std::string display() const;  // "NetworkPolicy production/allow-db spec.ingress[0]"
};

// Over-broad rules (NPV-AUD-020): score = source x destination x ports, each factor explained.
struct RiskFactor {
  int value = 1;
  std::string reason;
};
struct RiskScore {
  RiskFactor source;       // ingress: the rule's peers; egress: the pods the policy selects
  RiskFactor destination;  // ingress: the pods the policy selects; egress: the rule's peers
  RiskFactor ports;
  int score() const { return source.value * destination.value * ports.value; }
};

struct Finding {
  std::string_view check_id;
  Severity severity = Severity::kInfo;
  std::string ns;  // empty: cluster-wide
  std::vector<ObjectRef> objects;
  std::string message;
  std::string remediation;
  std::optional<RiskScore> risk;
};

enum class Enforcement : std::uint8_t { kEnforces, kDoesNotEnforce, kUnknown };
const char* to_string(Enforcement e);  // "enforces", "does-not-enforce", "unknown"

// One CNI (or NetworkPolicy engine) component recognised among the node agents.
struct CniComponent {
  std::string name;  // "Calico", "Flannel", "AWS VPC CNI", ...
  Enforcement enforcement = Enforcement::kUnknown;
  std::string evidence;  // why: which container, image or argument decided it
  ObjectRef object;
};

struct CniDetection {
  std::size_t node_agents = 0;  // DaemonSets and DaemonSet pods inspected
  std::vector<CniComponent> components;
  // kEnforces if any component enforces; else kUnknown if any is unknown or none was recognised;
  // else kDoesNotEnforce.
  Enforcement enforcement = Enforcement::kUnknown;
  std::string summary;  // one line for people
};

// Reads node_agents only; independent of policies.
CniDetection detect_cni(const ClusterState& cluster);

struct AuditSummary {
  std::size_t policies = 0;
  std::size_t policy_namespaces = 0;  // namespaces holding at least one NetworkPolicy
  std::size_t tier_policies = 0;      // AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy
  std::size_t namespaces = 0;
  std::size_t pods = 0;               // pods and workload templates, hostNetwork ones included
  std::size_t by_severity[kSeverityCount] = {};
};

struct AuditReport {
  AuditSummary summary;
  CniDetection cni;
  // Sorted: cluster-wide first, then by namespace; within one, by severity (highest first), ID,
  // then the first object.
  std::vector<Finding> findings;
  std::vector<std::string> notes;  // assumptions the audit made (e.g. an assumed kube-dns pod)

  // True when a finding has severity >= threshold.
  bool has_finding_at_least(Severity threshold) const;
};

// Runs every check. Takes the cluster by value: when the input has no kube-dns pod
// (kube-system, k8s-app=kube-dns), the audit adds an assumed one to its copy (see the README).
AuditReport run_audit(ClusterState cluster);

// The file and line an Origin names (the loader writes "FILE", "FILE (document N, line L)" and
// "FILE items[N]" or "FILE [N]"); line 0 when unknown; file empty for objects not read from a file.
struct SourceLocation {
  std::string file;
  int line = 0;
};
SourceLocation source_location(const Origin& origin);

}  // namespace npv
