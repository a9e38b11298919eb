// Configuration that has no effect: NPV-AUD-010 (a policy selecting no pod), -011 (a selector peer
// matching no pod), -013 (rules of a direction the policy's policyTypes omit).
//
// Pods here are the model's pods: real pods and, for workloads without real pods in the input,
// their pod templates (loader.hpp), so a repository holding only Deployments is judged by the
// Deployments' template labels. The assumed kube-dns pod counts too (a policy or peer written for
// kube-dns is not dead because the input lacks CoreDNS).
#include "audit/audit_context.hpp"

namespace npv::audit {

namespace {

std::string peers_key(Direction d) { return d == Direction::kIngress ? "from" : "to"; }

// Why a selector peer matches no pod, for the message.
std::string why_empty(AuditContext& ctx, const NetworkPolicy& pol, const PolicyPeer& peer) {
  const std::string pods = peer.pod_selector ? "pods matching " + peer.pod_selector->to_string() : "pods";
  if (!peer.namespace_selector) return "no " + pods + " in namespace " + pol.ns;
  const std::size_t namespaces = ctx.namespaces_matching(*peer.namespace_selector);
  if (namespaces == 0) return "namespaceSelector " + peer.namespace_selector->to_string() + " matches no namespace";
  return "no " + pods + " in the " + std::to_string(namespaces) + " namespace(s) matching " +
         peer.namespace_selector->to_string();
}

}  // namespace

void check_dead_config(AuditContext& ctx) {
  const ClusterState& c = ctx.cluster;
  std::vector<std::size_t> ns_pods(c.namespaces.size(), 0);  // every pod, hostNetwork ones too
  for (PodId p = 0; p < c.pods.size(); ++p) ++ns_pods[c.namespace_of(p)];
  for (std::uint32_t i = 0; i < c.policies.size(); ++i) {
    const NetworkPolicy& pol = c.policies[i];
    if (ctx.selected[i].empty()) {
      const std::size_t pods = ns_pods[*c.find_namespace(pol.ns)];
      Finding& f = ctx.add("NPV-AUD-010", pol.ns,
                           "spec.podSelector " + pol.pod_selector.to_string() + " matches none of the " +
                               std::to_string(pods) + " pod(s) of namespace " + pol.ns + ": the policy protects nothing");
      f.objects.push_back(ctx.policy_ref(i, "spec.podSelector"));
    }
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      const auto& rules = rules_of(pol, d);
      if (!affects(pol, d)) {
        if (rules.empty()) continue;
        Finding& f = ctx.add("NPV-AUD-013", pol.ns,
                             "spec." + std::string(direction_word(d)) + " has " + std::to_string(rules.size()) +
                                 " rule(s) but spec.policyTypes omits " +
                                 (d == Direction::kIngress ? "Ingress" : "Egress") +
                                 ": Kubernetes ignores them and the policy does not isolate its pods for " +
                                 direction_word(d));
        f.objects.push_back(ctx.policy_ref(i, "spec." + std::string(direction_word(d))));
        continue;
      }
      for (std::uint32_t r = 0; r < rules.size(); ++r) {
        for (std::uint32_t j = 0; j < rules[r].peers.size(); ++j) {
          const PolicyPeer& peer = rules[r].peers[j];
          if (peer.ip_block) continue;  // addresses outside the cluster are not judged
          if (ctx.engine.peer_pods(i, d, r, j).size() != 0) continue;
          std::string field = rule_field(d, r) + "." + peers_key(d) + "[" + std::to_string(j) + "]";
          Finding& f = ctx.add("NPV-AUD-011", pol.ns,
                               field + " matches nothing (" + why_empty(ctx, pol, peer) + "), so it allows no " +
                                   direction_word(d) + " flow");
          f.objects.push_back(ctx.policy_ref(i, field));
        }
      }
    }
  }
}

}  // namespace npv::audit
