// The cluster-wide tiers in the audit: NPV-AUD-014 (tier policies sharing a priority where they
// apply to the same pods), and the tier default deny that satisfies NPV-AUD-002/003.
//
// A tier default deny for namespace N and direction D is an Admin- or Baseline-tier policy whose
// subject covers every pod of N (subject.namespaces matching N, or subject.pods with podSelector
// {} and a namespaceSelector matching N) with a Deny rule for D that has no ports and whose peers
// cover every pod (namespaces: {}, or pods with both selectors {}); for egress also every address
// outside the cluster (networks 0.0.0.0/0 and ::/0). It plays the role of a NetworkPolicy default
// deny: narrower Allow rules (or NetworkPolicies, for a baseline) open what is needed.
#include <map>
#include <set>

#include "audit/audit_context.hpp"

namespace npv::audit {

namespace {

bool covers_every_pod(const TierPeer& p) {
  return (p.kind == TierPeer::Kind::kNamespaces || p.kind == TierPeer::Kind::kPods) &&
         p.namespace_selector.selects_everything() && p.pod_selector.selects_everything();
}

bool covers_every_address(const std::vector<TierPeer>& peers, int family) {
  for (const auto& p : peers) {
    if (p.kind != TierPeer::Kind::kNetworks) continue;
    for (const auto& c : p.networks) {
      if (c.prefix == 0 && c.base.family == family) return true;
    }
  }
  return false;
}

bool is_deny_all(const TierRule& r, Direction d) {
  if (r.action != TierAction::kDeny || !r.ports.empty()) return false;
  bool pods = false;
  for (const auto& p : r.peers) pods = pods || covers_every_pod(p);
  if (!pods) return false;
  return d == Direction::kIngress || (covers_every_address(r.peers, 4) && covers_every_address(r.peers, 6));
}

ObjectRef tier_ref(const TierPolicy& p, std::string field = {}) {
  return {to_string(p.api), "", p.name, std::move(field), p.origin};
}

}  // namespace

std::optional<std::uint32_t> tier_default_deny(const AuditContext& ctx, NamespaceId ns, Direction d) {
  const auto& c = ctx.cluster;
  for (std::uint32_t i = 0; i < c.tier_policies.size(); ++i) {
    const TierPolicy& p = c.tier_policies[i];
    if (!p.subject.pod_selector.selects_everything()) continue;
    if (!p.subject.namespace_selector.matches(c.namespaces[ns].labels)) continue;
    for (const auto& r : d == Direction::kIngress ? p.ingress : p.egress) {
      if (is_deny_all(r, d)) return i;
    }
  }
  return std::nullopt;
}

void check_tiers(AuditContext& ctx) {
  const auto& c = ctx.cluster;
  // NPV-AUD-014: policies of a PriorityTie that apply to a common pod in a common direction.
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::set<std::string>> overlaps;  // policy pair -> pods
  for (PodId pod = 0; pod < c.pods.size(); ++pod) {
    if (!ctx.governed(pod)) continue;
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      const auto list = ctx.engine.tier_policies_of(pod, d);
      for (std::size_t a = 0; a < list.size(); ++a) {
        for (std::size_t b = a + 1; b < list.size(); ++b) {
          const TierPolicy& x = c.tier_policies[list[a]];
          const TierPolicy& y = c.tier_policies[list[b]];
          if (x.tier == y.tier && x.priority == y.priority) overlaps[{list[a], list[b]}].insert(c.pods[pod].ref());
        }
      }
    }
  }
  for (const auto& [pair, pods] : overlaps) {
    const TierPolicy& x = c.tier_policies[pair.first];
    const TierPolicy& y = c.tier_policies[pair.second];
    Finding& f = ctx.add("NPV-AUD-014", "",
                         x.ref() + " and " + y.ref() + " share " + to_string(x.tier) + " tier priority " +
                             std::to_string(x.priority) + " and both apply to " + std::to_string(pods.size()) +
                             " pod(s) (" + name_list({pods.begin(), pods.end()}) +
                             "): where both match a connection the API leaves the outcome undefined (npv "
                             "evaluates " + x.ref() + " first)");
    f.objects.push_back(tier_ref(x, "spec.priority"));
    f.objects.push_back(tier_ref(y, "spec.priority"));
  }
}

}  // namespace npv::audit
