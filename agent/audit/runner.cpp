// run_audit(): builds the shared context (engine, selected pods per policy, pods per namespace,
// kube-dns pods), runs every check family, sorts and counts the findings.
#include <algorithm>
#include <set>
#include <tuple>

#include "audit/audit_context.hpp"

namespace npv {

namespace audit {

namespace {

constexpr std::string_view kDnsNamespace = "kube-system";
constexpr std::string_view kDnsLabelKey = "k8s-app";
constexpr std::string_view kDnsLabelValue = "kube-dns";
constexpr std::string_view kAssumedDnsName = "npv-assumed-kube-dns";

bool is_dns_pod(const Pod& pod) {
  if (pod.ns != kDnsNamespace) return false;
  auto it = pod.labels.find(kDnsLabelKey);
  return it != pod.labels.end() && it->second == kDnsLabelValue;
}

}  // namespace

AuditContext::AuditContext(const ClusterState& c, const PolicyEngine& e, std::optional<PodId> assumed)
    : cluster(c), engine(e), assumed_dns(assumed) {
  selected.resize(c.policies.size());
  ns_policies.resize(c.namespaces.size());
  ns_pods.resize(c.namespaces.size());
  for (std::uint32_t i = 0; i < c.policies.size(); ++i) ns_policies[*c.find_namespace(c.policies[i].ns)].push_back(i);
  for (PodId p = 0; p < c.pods.size(); ++p) {
    if (is_dns_pod(c.pods[p])) dns_pods.push_back(p);
    if (governed(p)) ns_pods[c.namespace_of(p)].push_back(p);
    // A policy selects a pod iff it isolates it in at least one direction (every policy affects one).
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      for (std::uint32_t pol : e.isolating_policies(p, d)) {
        if (selected[pol].empty() || selected[pol].back() != p) selected[pol].push_back(p);
      }
    }
  }
}

bool AuditContext::governed(PodId pod) const { return !cluster.pods[pod].host_network && pod != assumed_dns; }

ObjectRef AuditContext::policy_ref(std::uint32_t policy, std::string field) const {
  const NetworkPolicy& p = cluster.policies[policy];
  return {"NetworkPolicy", p.ns, p.name, std::move(field), p.origin};
}

ObjectRef AuditContext::pod_ref(PodId pod) const {
  const Pod& p = cluster.pods[pod];
  return {p.kind, p.ns, p.name, {}, p.origin};
}

ObjectRef AuditContext::namespace_ref(NamespaceId ns) const {
  const Namespace& n = cluster.namespaces[ns];
  return {"Namespace", {}, n.name, {}, n.declared ? n.origin : Origin()};
}

std::size_t AuditContext::namespaces_matching(const LabelSelector& selector) {
  auto [it, inserted] = namespaces_matching_.try_emplace(selector.to_string(), 0);
  if (inserted) {
    for (const auto& ns : cluster.namespaces) it->second += selector.matches(ns.labels) ? 1 : 0;
  }
  return it->second;
}

Finding& AuditContext::add(std::string_view id, std::string ns, std::string message) {
  const CheckInfo* check = find_check(id);
  Finding f;
  f.check_id = check->id;
  f.severity = check->severity;
  f.ns = std::move(ns);
  f.message = std::move(message);
  f.remediation = std::string(check->remediation);
  findings.push_back(std::move(f));
  return findings.back();
}

std::string name_list(const std::vector<std::string>& names, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > limit) out += " and " + std::to_string(names.size() - limit) + " more";
  return out;
}

const char* direction_word(Direction d) { return d == Direction::kIngress ? "ingress" : "egress"; }

const std::vector<PolicyRule>& rules_of(const NetworkPolicy& policy, Direction d) {
  return d == Direction::kIngress ? policy.ingress : policy.egress;
}

bool affects(const NetworkPolicy& policy, Direction d) {
  return d == Direction::kIngress ? policy.affects_ingress : policy.affects_egress;
}

std::string rule_field(Direction d, std::size_t rule) {
  return std::string("spec.") + direction_word(d) + "[" + std::to_string(rule) + "]";
}

}  // namespace audit

AuditReport run_audit(ClusterState cluster) {
  AuditReport report;
  // The DNS check needs a kube-dns pod; a repository of manifests rarely holds one.
  const std::string assumed_ref = std::string(audit::kDnsNamespace) + "/" + std::string(audit::kAssumedDnsName);
  bool has_dns = std::any_of(cluster.pods.begin(), cluster.pods.end(), [](const Pod& p) { return audit::is_dns_pod(p); });
  const bool add_dns = !has_dns && !cluster.find_pod(assumed_ref);
  if (add_dns) {
    Pod dns;
    dns.ns = std::string(audit::kDnsNamespace);
    dns.name = std::string(audit::kAssumedDnsName);
    dns.labels.emplace(audit::kDnsLabelKey, audit::kDnsLabelValue);
    dns.ports = {{"dns", 53, Protocol::kUDP}, {"dns-tcp", 53, Protocol::kTCP}, {"metrics", 9153, Protocol::kTCP}};
    cluster.pods.push_back(std::move(dns));
    cluster.finalize();
    report.notes.push_back(
        "no kube-system pod labelled k8s-app=kube-dns in the input: the DNS check (NPV-AUD-004) assumes one "
        "(CoreDNS defaults: ports dns 53/UDP, dns-tcp 53/TCP, metrics 9153/TCP; no IP)");
  }
  std::optional<PodId> assumed;
  if (add_dns) assumed = cluster.find_pod(assumed_ref);

  PolicyEngine engine(cluster);
  audit::AuditContext ctx(cluster, engine, assumed);
  report.cni = detect_cni(cluster);

  AuditSummary& s = report.summary;
  s.policies = cluster.policies.size();
  s.tier_policies = cluster.tier_policies.size();
  s.namespaces = cluster.namespaces.size();
  s.pods = cluster.pods.size() - (assumed ? 1 : 0);
  for (const auto& list : ctx.ns_policies) s.policy_namespaces += list.empty() ? 0 : 1;
  if (assumed) {
    // kube-system counts only if the input has it (declared, or holding a pod or a policy).
    NamespaceId ks = cluster.namespace_of(*assumed);
    auto in_ks = std::count_if(cluster.pods.begin(), cluster.pods.end(), [&](const Pod& p) { return p.ns == audit::kDnsNamespace; });
    if (!cluster.namespaces[ks].declared && ctx.ns_policies[ks].empty() && in_ks == 1) --s.namespaces;
  }

  audit::check_coverage(ctx);
  audit::check_tiers(ctx);
  audit::check_dns(ctx);
  audit::check_dead_config(ctx);
  audit::check_shadowed(ctx);
  audit::check_breadth(ctx);
  audit::check_cni(ctx, report.cni);

  report.findings = std::move(ctx.findings);
  auto key = [](const Finding& f) {
    return std::make_tuple(!f.ns.empty(), f.ns, -static_cast<int>(f.severity), f.check_id,
                           f.objects.empty() ? std::string() : f.objects.front().display());
  };
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [&](const Finding& a, const Finding& b) { return key(a) < key(b); });
  for (const auto& f : report.findings) ++s.by_severity[static_cast<int>(f.severity)];
  return report;
}

}  // namespace npv
