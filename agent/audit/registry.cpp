// The audit checks: stable IDs, severities, texts. IDs are never renumbered; a retired check keeps
// its number unused. The README's "npv audit" table mirrors this list.
#include <algorithm>
#include <array>

#include "npv/audit.hpp"

namespace npv {

namespace {

constexpr std::array<CheckInfo, 14> kChecks{{
    {"NPV-AUD-001", "no-network-policies", Severity::kHigh,
     "The input has pods but no NetworkPolicy at all",
     "Every pod accepts and sends any traffic: nothing isolates anything.",
     "Add a default-deny NetworkPolicy (podSelector: {}, policyTypes: [Ingress, Egress]) to every namespace "
     "that runs workloads, then allow the flows each application needs."},
    {"NPV-AUD-002", "no-default-deny-ingress", Severity::kHigh,
     "A namespace with pods has no default-deny policy for ingress",
     "CIS Kubernetes 5.3.2 reading: a default deny is a policy with podSelector: {} whose policyTypes include "
     "Ingress and that has no ingress rule. Without one, a pod no other policy selects accepts traffic from "
     "anywhere, and so does every pod added later. hostNetwork pods are not counted (NetworkPolicy does not "
     "govern them).",
     "Add to the namespace: {podSelector: {}, policyTypes: [Ingress]} with no ingress rules, then allow each "
     "legitimate flow with a narrower policy."},
    {"NPV-AUD-003", "no-default-deny-egress", Severity::kMedium,
     "A namespace with pods has no default-deny policy for egress",
     "As NPV-AUD-002 for egress (policyTypes must list Egress explicitly, since `egress: []` alone does not "
     "make a policy egress-isolating). Without one, pods may connect anywhere, inside or outside the cluster. "
     "Rated below ingress: it enables lateral movement and exfiltration rather than exposing the pods.",
     "Add to the namespace: {podSelector: {}, policyTypes: [Egress]} with no egress rules, plus an egress "
     "allowance for DNS (kube-system/kube-dns on 53/UDP and 53/TCP) and for each legitimate destination."},
    {"NPV-AUD-004", "dns-not-allowed", Severity::kHigh,
     "Pods cannot reach kube-dns on 53/UDP or 53/TCP",
     "For every egress-isolated pod: is a flow to the kube-system pods labelled k8s-app=kube-dns allowed on "
     "53/UDP and 53/TCP, by the pod's egress rules and by kube-dns's own ingress policies? Typical cause: a "
     "default-deny egress without a DNS allowance. Blocked UDP breaks name resolution (high); blocked TCP "
     "alone breaks large responses and retries (medium). With no kube-dns pod in the input, an assumed one "
     "is used (kube-system, k8s-app=kube-dns, no IP; an ipBlock rule that allows port 53 counts as allowing "
     "it, since its IP is unknown).",
     "Allow egress from the namespace's pods to {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
     "kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}} on 53/UDP and 53/TCP."},
    {"NPV-AUD-005", "unselected-pods", Severity::kMedium,
     "Pods that no NetworkPolicy selects, in a namespace that has policies",
     "These pods are isolated in neither direction: they accept and send anything, while the namespace's "
     "other pods are restricted, usually a workload the policies forgot or whose labels changed. Namespaces "
     "without any policy are reported by NPV-AUD-002/003 instead.",
     "Add a default deny to the namespace, or select these pods with the policies meant for them "
     "(check their labels)."},
    {"NPV-AUD-010", "policy-selects-no-pod", Severity::kLow,
     "A NetworkPolicy selects no pod",
     "Its spec.podSelector matches no pod or workload template of its namespace in the input, so it protects "
     "nothing: often a label typo, or a policy left behind by a removed workload. In a repository that does "
     "not contain every workload this may be expected.",
     "Fix spec.podSelector to match the intended pods' labels, or delete the policy."},
    {"NPV-AUD-011", "peer-matches-nothing", Severity::kLow,
     "A rule's from/to peer matches no pod",
     "A podSelector/namespaceSelector peer that selects no pod (or no namespace) of the input allows nothing: "
     "the flow it was written for is blocked, or the peer is stale. ipBlock peers are not judged.",
     "Fix the peer's selectors (pod labels, namespace labels such as kubernetes.io/metadata.name), or remove it."},
    {"NPV-AUD-012", "shadowed-rule", Severity::kLow,
     "A rule allows nothing that another rule does not already allow",
     "Sound but conservative: rule B is shadowed by rule A (same policy, or a policy of the same namespace and "
     "direction whose podSelector is {} or identical to B's) when A's peers cover B's (A has no peers; or each "
     "peer of B is covered by one of A's: an ipBlock by a wider ipBlock whose excepts stay outside it or inside "
     "B's excepts; a selector peer by one with a subset of its label requirements, namespace-wise too) and A's "
     "ports cover B's (no ports; or the same protocol with all ports, a wider range, or the same name). It "
     "misses shadowing that only a union of several rules creates, or that depends on current labels.",
     "Remove the redundant rule, or narrow the broader one if the narrow rule expresses the intent."},
    {"NPV-AUD-013", "ignored-rules", Severity::kMedium,
     "A policy has rules for a direction its policyTypes omit",
     "Kubernetes ignores spec.egress when policyTypes lacks Egress (and spec.ingress when it lacks Ingress): "
     "the pods are not isolated in that direction although the manifest reads as if they were.",
     "Add the direction to spec.policyTypes, or remove the rules that do not apply."},
    {"NPV-AUD-014", "same-priority-tier-policies", Severity::kMedium,
     "Two cluster-wide policies of one tier share a priority and apply to the same pods",
     "AdminNetworkPolicy / ClusterNetworkPolicy (and BaselineAdminNetworkPolicy with Baseline-tier "
     "ClusterNetworkPolicies of priority 0): where two policies of the same tier and priority match one "
     "connection, the API leaves the outcome undefined (\"the implementation can apply any of the matching "
     "policies\"). Reported when their subjects share a pod in a direction both have rules for.",
     "Give each policy a distinct spec.priority, in the order their rules must apply."},
    {"NPV-AUD-020", "over-broad-rule", Severity::kHigh,
     "A rule allows far more than a narrow flow",
     "Risk score = source breadth x destination breadth x port exposure. Peers: every IP (from/to omitted or "
     "empty, or 0.0.0.0/0 or ::/0 without except) 8; every pod of every namespace (namespaceSelector: {}), "
     "0.0.0.0/0 with except, or a /8-or-wider block 4; every pod of the policy's namespace (podSelector: {}), "
     "the pods of selected namespaces, or a /16-or-wider block 2; else 1. Selected pods: podSelector: {} 2, "
     "else 1. Ports: every port, every port of a protocol, a range of 1024 or more ports, or a sensitive port "
     "(SSH, databases, etcd, the API server 6443, the kubelet) 4; a range of 2 to 1023 ports 2; else 1. "
     "Reported from 8 on: 8-15 low, 16-31 medium, 32 and more high. Egress rules are at most medium: the most "
     "an egress rule can undo is the namespace's egress default deny (NPV-AUD-003).",
     "Narrow the rule: name the peers (podSelector with labels, namespaceSelector by "
     "kubernetes.io/metadata.name), add `except` to wide ipBlocks, and list only the ports the flow uses."},
    {"NPV-AUD-030", "cni-cannot-enforce", Severity::kCritical,
     "NetworkPolicies exist but the cluster's CNI does not enforce them",
     "From the DaemonSets and their pods in the input: the recognised CNI cannot enforce NetworkPolicy "
     "(Flannel alone, AWS VPC CNI without its network policy agent enabled, ...) and no policy engine runs "
     "beside it. Every policy is ignored: the network is flat.",
     "Run a CNI that enforces NetworkPolicy, or add a policy engine beside it (Calico for policy with "
     "Flannel, i.e. Canal; --enable-network-policy=true for the AWS VPC CNI agent), then verify with npv lab."},
    {"NPV-AUD-031", "cni-enforcement-unknown", Severity::kMedium,
     "NetworkPolicies exist and whether the recognised CNI enforces them is unknown",
     "The recognised CNI enforces NetworkPolicy only in some versions or configurations that the input does "
     "not show (e.g. kindnet without a --network-policy argument).",
     "Check the CNI's version and configuration, or prove enforcement with npv lab / the npv agent."},
    {"NPV-AUD-032", "cni-not-recognised", Severity::kInfo,
     "NetworkPolicies exist and none of the input's DaemonSets is a CNI npv knows",
     "The input has DaemonSets (or their pods) but none matches a known CNI or policy engine, so enforcement "
     "could not be judged.",
     "Check which CNI the cluster runs and whether it enforces NetworkPolicy."},
}};

}  // namespace

std::span<const CheckInfo> audit_checks() { return kChecks; }

const CheckInfo* find_check(std::string_view id) {
  auto it = std::find_if(kChecks.begin(), kChecks.end(), [&](const CheckInfo& c) { return c.id == id; });
  return it == kChecks.end() ? nullptr : &*it;
}

const char* to_string(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "?";
}

std::optional<Severity> parse_severity(std::string_view text) {
  for (int i = 0; i < kSeverityCount; ++i) {
    if (text == to_string(static_cast<Severity>(i))) return static_cast<Severity>(i);
  }
  return std::nullopt;
}

const char* to_string(Enforcement e) {
  switch (e) {
    case Enforcement::kEnforces: return "enforces";
    case Enforcement::kDoesNotEnforce: return "does-not-enforce";
    case Enforcement::kUnknown: return "unknown";
  }
  return "?";
}

std::string ObjectRef::display() const {
  std::string out = kind + " " + (ns.empty() ? name : ns + "/" + name);
  if (!field.empty()) out += " " + field;
  return out;
}

bool AuditReport::has_finding_at_least(Severity threshold) const {
  return std::any_of(findings.begin(), findings.end(), [&](const Finding& f) { return f.severity >= threshold; });
}

}  // namespace npv
