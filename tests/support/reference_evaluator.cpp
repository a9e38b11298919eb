// The rules this evaluator implements, with the Kubernetes API reference statement each rests on
// (networking.k8s.io/v1 field docs; k8s.io/apimachinery/pkg/labels Requirement.Matches):
//
//  1. Self. A pod may always talk to itself.
//  2. Both ends. A flow is allowed iff the source's egress allows it AND the destination's ingress
//     allows it.
//  3. Ungoverned. An endpoint that is not a cluster pod (an IP only) is not subject to
//     NetworkPolicy in its own direction: that direction allows.
//  4. Isolation. A pod is isolated for a direction iff some policy in the pod's namespace selects it
//     (spec.podSelector; "an empty podSelector selects all pods in this namespace") and that
//     policy's policyTypes (after defaulting) include the direction.
//  5. Not isolated: the direction allows.
//  6. Isolated: the direction allows iff some rule, of a policy that selects the pod and affects
//     the direction, matches both the peer (7) and the port (8). Rules of the other direction, and
//     rules of policies whose policyTypes omit this direction, never count.
//  7. Peers ("from"/"to"). The rule matches the peer iff:
//     a. the list is empty: every peer, pods and IPs alike ("If this field is empty or missing,
//        this rule matches all sources/destinations");
//     otherwise some entry matches:
//     b. ipBlock: the peer's IP lies in cidr and in no except CIDR. For a pod peer the IP is the
//        flow's endpoint IP when given, else any of the pod's IPs; a pod without IPs never matches;
//     c. a podSelector/namespaceSelector entry never matches a non-pod peer;
//     d. podSelector alone: pods matching it in the POLICY's namespace;
//     e. namespaceSelector alone: every pod in a namespace whose labels match it;
//     f. both in one entry: pods matching podSelector in namespaces matching namespaceSelector.
//  8. Ports. The rule matches the port iff:
//     a. the list is empty: every port and protocol;
//     otherwise some entry matches, where an entry matches only its own protocol, and:
//     b. port omitted: any port number;
//     c. numeric port: port <= flow port <= endPort (endPort == port when absent);
//     d. named port: the DESTINATION pod has a container port with that name and protocol whose
//        number is the flow's port; never matches a destination that is not a cluster pod.
// 14. Tiers (reference_tiers.cpp for rules 10-13). A direction of a pod: the first matching
//     Admin-tier rule decides if it is Allow or Deny; else (none, or Pass) an isolated pod is
//     decided by rule 6; else the first matching Baseline-tier rule decides if it is Allow or
//     Deny; else allowed.
//  9. Label selectors. Requirements are ANDed; an empty selector matches everything. In: key
//     present with one of the values. NotIn: key absent, or its value not among the values.
//     Exists: key present. DoesNotExist: key absent. (matchLabels k: v is In (v).)
#include "support/reference_evaluator.hpp"

#include <algorithm>
#include <string>

namespace npv::test {
namespace {

bool requirement_matches(const Requirement& r, const Labels& labels) {
  auto it = labels.find(r.key);
  bool present = it != labels.end();
  bool listed = present && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
  switch (r.op) {
    case SelectorOp::kIn: return listed;                    // rule 9: In
    case SelectorOp::kNotIn: return !present || !listed;    // rule 9: NotIn, true when absent
    case SelectorOp::kExists: return present;               // rule 9: Exists
    case SelectorOp::kDoesNotExist: return !present;        // rule 9: DoesNotExist
  }
  return false;
}

// Prefix comparison written out bit by bit; `ip` of the other family never matches.
bool in_cidr(const Cidr& cidr, const IpAddr& ip) {
  if (cidr.base.family != ip.family) return false;
  for (int bit = 0; bit < cidr.prefix; ++bit) {
    int byte = bit / 8;
    int mask = 0x80 >> (bit % 8);
    if ((cidr.base.bytes[byte] & mask) != (ip.bytes[byte] & mask)) return false;
  }
  return true;
}

bool in_ip_block(const IpBlock& block, const IpAddr& ip) {
  if (!in_cidr(block.cidr, ip)) return false;
  for (const Cidr& ex : block.except) {
    if (in_cidr(ex, ip)) return false;
  }
  return true;
}

const Labels* namespace_labels(const ClusterState& cluster, const std::string& name) {
  for (const Namespace& ns : cluster.namespaces) {
    if (ns.name == name) return &ns.labels;
  }
  return nullptr;
}

bool peer_matches(const ClusterState& cluster, const NetworkPolicy& policy, const PolicyPeer& peer,
                  const Endpoint& other) {
  if (peer.ip_block) {
    // Rule 7b.
    if (other.ip) return in_ip_block(*peer.ip_block, *other.ip);
    if (!other.pod) return false;
    for (const IpAddr& ip : cluster.pods[*other.pod].ips) {
      if (in_ip_block(*peer.ip_block, ip)) return true;
    }
    return false;
  }
  if (!other.pod) return false;  // rule 7c
  const Pod& pod = cluster.pods[*other.pod];
  if (peer.namespace_selector) {
    // Rules 7e and 7f: the namespace part.
    const Labels* ns_labels = namespace_labels(cluster, pod.ns);
    if (ns_labels == nullptr || !reference_selects(*peer.namespace_selector, *ns_labels)) return false;
  } else if (pod.ns != policy.ns) {
    return false;  // rule 7d: podSelector alone means the policy's own namespace
  }
  // Rules 7d and 7f: the pod part; rule 7e when there is none.
  return !peer.pod_selector || reference_selects(*peer.pod_selector, pod.labels);
}

bool port_matches(const ClusterState& cluster, const PolicyPort& pp, const Flow& flow) {
  if (pp.proto != flow.port.proto) return false;  // rule 8: own protocol only
  switch (pp.kind) {
    case PolicyPort::Kind::kAllPorts: return true;  // rule 8b
    case PolicyPort::Kind::kNumber:                 // rule 8c
      return pp.port <= flow.port.port && flow.port.port <= pp.end_port;
    case PolicyPort::Kind::kNamed: {  // rule 8d
      if (!flow.dst.pod) return false;
      for (const ContainerPort& cp : cluster.pods[*flow.dst.pod].ports) {
        if (cp.name == pp.name && cp.proto == pp.proto && cp.port == flow.port.port) return true;
      }
      return false;
    }
  }
  return false;
}

bool rule_matches(const ClusterState& cluster, const NetworkPolicy& policy, const PolicyRule& rule,
                  const Endpoint& other, const Flow& flow) {
  bool peer_ok = rule.peers.empty();  // rule 7a
  for (const PolicyPeer& peer : rule.peers) peer_ok = peer_ok || peer_matches(cluster, policy, peer, other);
  bool port_ok = rule.ports.empty();  // rule 8a
  for (const PolicyPort& pp : rule.ports) port_ok = port_ok || port_matches(cluster, pp, flow);
  return peer_ok && port_ok;
}

// One direction: `self` is the endpoint whose policies apply, `other` the peer.
ReferenceDirection evaluate(const ClusterState& cluster, const Flow& flow, Direction dir) {
  const Endpoint& self = dir == Direction::kEgress ? flow.src : flow.dst;
  const Endpoint& other = dir == Direction::kEgress ? flow.dst : flow.src;
  ReferenceDirection out;
  if (!self.pod) return out;  // rule 3
  out.governed = true;
  const Pod& pod = cluster.pods[*self.pod];
  for (std::uint32_t p = 0; p < cluster.policies.size(); ++p) {
    const NetworkPolicy& policy = cluster.policies[p];
    // Rule 4: same namespace, selected, and the direction is among the policyTypes.
    if (policy.ns != pod.ns || !reference_selects(policy.pod_selector, pod.labels)) continue;
    bool affects = dir == Direction::kEgress ? policy.affects_egress : policy.affects_ingress;
    if (!affects) continue;
    out.isolating.push_back(p);
    // Rule 6: only this direction's rules.
    const auto& rules = dir == Direction::kEgress ? policy.egress : policy.ingress;
    for (std::uint32_t r = 0; r < rules.size(); ++r) {
      if (rule_matches(cluster, policy, rules[r], other, flow)) out.allowed_by.push_back({p, r});
    }
  }
  out.allowed = out.isolating.empty() || !out.allowed_by.empty();  // rules 5 and 6
  // Rule 14.
  out.admin = reference_tier_match(cluster, TierKind::kAdmin, dir, *self.pod, other, flow);
  if (out.admin && out.admin->action != TierAction::kPass) {
    out.allowed = out.admin->action == TierAction::kAllow;
    return out;
  }
  if (!out.isolating.empty()) return out;
  out.baseline = reference_tier_match(cluster, TierKind::kBaseline, dir, *self.pod, other, flow);
  if (out.baseline && out.baseline->action != TierAction::kPass) out.allowed = out.baseline->action == TierAction::kAllow;
  return out;
}

}  // namespace

bool reference_selects(const LabelSelector& selector, const Labels& labels) {
  for (const Requirement& r : selector.requirements()) {
    if (!requirement_matches(r, labels)) return false;  // rule 9: ANDed
  }
  return true;  // rule 9: the empty selector matches everything
}

ReferenceVerdict reference_explain(const ClusterState& cluster, const Flow& flow) {
  ReferenceVerdict v;
  v.egress = evaluate(cluster, flow, Direction::kEgress);
  v.ingress = evaluate(cluster, flow, Direction::kIngress);
  v.self = flow.src.pod && flow.dst.pod && *flow.src.pod == *flow.dst.pod;
  v.allowed = v.self || (v.egress.allowed && v.ingress.allowed);  // rules 1 and 2
  return v;
}

bool reference_allowed(const ClusterState& cluster, const Flow& flow) {
  return reference_explain(cluster, flow).allowed;
}

}  // namespace npv::test
