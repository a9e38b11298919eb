// What every audit check shares (internal to agent/audit): the cluster, its engine, the derived
// per-policy and per-namespace lists, and the finding sink. Built once by run_audit().
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "npv/audit.hpp"
#include "npv/policy_engine.hpp"

namespace npv::audit {

struct AuditContext {
  AuditContext(const ClusterState& cluster, const PolicyEngine& engine, std::optional<PodId> assumed_dns);

  const ClusterState& cluster;
  const PolicyEngine& engine;
  std::optional<PodId> assumed_dns;  // the kube-dns pod the audit added, when the input had none
  std::vector<PodId> dns_pods;       // kube-system pods labelled k8s-app=kube-dns (the assumed one too)
  // Per policy: the pods its spec.podSelector selects in its namespace, sorted.
  std::vector<std::vector<PodId>> selected;
  // Per namespace: its policies, and the pods NetworkPolicy governs (not hostNetwork, not assumed).
  std::vector<std::vector<std::uint32_t>> ns_policies;
  std::vector<std::vector<PodId>> ns_pods;
  std::vector<Finding> findings;

  // A pod NetworkPolicy applies to: a real (or template) pod without hostNetwork. hostNetwork pods
  // are outside NetworkPolicy's scope (its behaviour for them is undefined), and the assumed
  // kube-dns pod is not part of the input.
  bool governed(PodId pod) const;

  ObjectRef policy_ref(std::uint32_t policy, std::string field = {}) const;
  ObjectRef pod_ref(PodId pod) const;  // the workload kind for a pod template
  ObjectRef namespace_ref(NamespaceId ns) const;

  // Namespaces `selector` matches (cached by the selector's canonical text).
  std::size_t namespaces_matching(const LabelSelector& selector);

  // Appends a finding of check `id` with the check's severity and remediation.
  Finding& add(std::string_view id, std::string ns, std::string message);

 private:
  std::unordered_map<std::string, std::size_t> namespaces_matching_;
};

// "a, b, c and 4 more": the first `limit` names of a list, for messages.
std::string name_list(const std::vector<std::string>& names, std::size_t limit = 5);
const char* direction_word(Direction d);  // "ingress", "egress"
// The rules of `policy` in direction `d` (spec.ingress or spec.egress).
const std::vector<PolicyRule>& rules_of(const NetworkPolicy& policy, Direction d);
bool affects(const NetworkPolicy& policy, Direction d);
// "spec.ingress[2]" / "spec.egress[0]".
std::string rule_field(Direction d, std::size_t rule);

// The checks, one function per family (one file each).
void check_coverage(AuditContext& ctx);     // NPV-AUD-001, -002, -003, -005
void check_dns(AuditContext& ctx);          // NPV-AUD-004
void check_dead_config(AuditContext& ctx);  // NPV-AUD-010, -011, -013
void check_shadowed(AuditContext& ctx);     // NPV-AUD-012
void check_breadth(AuditContext& ctx);      // NPV-AUD-020
void check_cni(AuditContext& ctx, const CniDetection& cni);  // NPV-AUD-030, -031, -032
void check_tiers(AuditContext& ctx);        // NPV-AUD-014
// The tier policy (index into ClusterState::tier_policies) that default-denies namespace `ns` in
// direction `d` (check_tiers.cpp), if any: it satisfies NPV-AUD-002/003.
std::optional<std::uint32_t> tier_default_deny(const AuditContext& ctx, NamespaceId ns, Direction d);

}  // namespace npv::audit
