// Verdicts of the NetworkPolicy engine. The rules implemented, from the Kubernetes API reference
// (networking.k8s.io/v1 NetworkPolicy) and the NetworkPolicy concept page; each branch below names
// the rule it implements as [Rn]:
//
//  R1  A pod may always talk to itself, whatever the policies say.
//  R2  A flow is allowed only if the source's egress AND the destination's ingress allow it.
//  R3  Only pods are subject to NetworkPolicy: a direction whose endpoint is an IP outside the
//      cluster is not evaluated (allowed as far as that side is concerned).
//  R4  A pod is isolated for a direction iff some NetworkPolicy in its namespace selects it with
//      spec.podSelector and has that direction in policyTypes. policyTypes defaults to Ingress,
//      plus Egress when spec.egress has at least one rule (handled by the loader).
//  R5  A direction in which the pod is not isolated allows everything.
//  R6  An isolated direction allows the flow iff at least one rule, of any policy isolating the
//      pod in that direction, matches it: policies are additive (a union, no order, no deny).
//      Rules of a direction the policy's policyTypes omit are ignored.
//  R7  A rule matches iff one of its peers matches AND one of its ports matches.
//  R8  `from`/`to` omitted or empty: every peer matches, including IPs outside the cluster.
//  R9  podSelector alone: pods matching it in the policy's own namespace.
//  R10 namespaceSelector alone: every pod in the namespaces matching it ({} = all namespaces).
//  R11 podSelector and namespaceSelector in ONE peer: pods matching podSelector in namespaces
//      matching namespaceSelector (AND); in two peers they are ORed (R7).
//  R12 ipBlock: the IP is inside cidr and inside none of `except`. A pod matches by its IP (the
//      flow's IP when known, else any of the pod's IPs); a pod without IP never matches.
//  R13 Selector peers never match an IP that is not a cluster pod.
//  R14 `ports` omitted or empty: every port of every protocol matches.
//  R15 A port entry matches only its protocol (TCP when omitted); `port` omitted: every port of
//      that protocol; a number: that port, or the inclusive range port..endPort.
//  R16 A named port matches when the DESTINATION pod has a container port of that name and
//      protocol whose number is the flow's port; it never matches a destination outside the
//      cluster.
//  R17 Label selectors (selector.cpp): requirements ANDed; In, NotIn (true if the key is absent),
//      Exists, DoesNotExist; matchLabels k: v is k In (v); an empty selector matches everything.
#include <algorithm>

#include "policy/policy_index.hpp"

namespace npv {

namespace {

struct Sides {
  const Endpoint& peer;  // the other side: source for ingress rules, destination for egress rules
  const Endpoint& dst;   // the flow's destination, against which named ports resolve
};

bool port_matches(const CompiledRule& rule, const PolicyEngine::Index& index, const Endpoint& dst,
                  const PortProto& port) {
  if (rule.all_ports) return true;  // [R14]
  for (const auto& p : rule.ports) {
    if (p.proto != port.proto) continue;  // [R15] protocol first
    switch (p.kind) {
      case PolicyPort::Kind::kAllPorts:  // [R15] port omitted
        return true;
      case PolicyPort::Kind::kNumber:  // [R15] number or port..endPort
        if (port.port >= p.lo && port.port <= p.hi) return true;
        break;
      case PolicyPort::Kind::kNamed:  // [R16] resolves against the destination pod only
        if (!dst.pod || p.name_id == kNoName) break;
        for (const auto& np : index.named_ports[*dst.pod]) {
          if (np.name_id == p.name_id && np.proto == port.proto && np.port == port.port) return true;
        }
        break;
    }
  }
  return false;
}

bool ip_block_matches(const IpBlock& block, const Endpoint& peer, const ClusterState& cluster) {
  if (peer.ip) return block.contains(*peer.ip);  // [R12] the flow's own IP
  if (!peer.pod) return false;
  for (const auto& ip : cluster.pods[*peer.pod].ips) {  // [R12] any of the pod's IPs; none: no match
    if (block.contains(ip)) return true;
  }
  return false;
}

bool peer_matches(const CompiledRule& rule, const Endpoint& peer, const ClusterState& cluster) {
  if (rule.all_peers) return true;  // [R8]
  for (const auto& p : rule.peers) {
    if (p.pods) {
      // [R9][R10][R11] resolved into a pod set at compile time; [R13] IPs are not pods.
      if (peer.pod && p.pods->contains(*peer.pod)) return true;
    } else if (ip_block_matches(*p.ip_block, peer, cluster)) {  // [R12]
      return true;
    }
  }
  return false;
}

bool rule_matches(const CompiledRule& rule, const PolicyEngine::Index& index, const ClusterState& cluster,
                  const Sides& sides, const PortProto& port) {
  return port_matches(rule, index, sides.dst, port) && peer_matches(rule, sides.peer, cluster);  // [R7]
}

std::span<const std::uint32_t> isolating(const PolicyEngine::Index& index, PodId pod, Direction dir) {
  const auto& offsets = dir == Direction::kIngress ? index.ingress_offsets : index.egress_offsets;
  const auto& ids = dir == Direction::kIngress ? index.ingress_ids : index.egress_ids;
  return {ids.data() + offsets[pod], ids.data() + offsets[pod + 1]};
}

const std::vector<CompiledRule>& rules_of(const CompiledPolicy& p, Direction dir) {
  return dir == Direction::kIngress ? p.ingress : p.egress;
}

// [R3][R4][R5][R6] for one direction; `subject` is the pod whose policies apply.
bool direction_allows(const PolicyEngine::Index& index, const ClusterState& cluster, Direction dir,
                      const Endpoint& subject, const Sides& sides, const PortProto& port) {
  if (!subject.pod) return true;  // [R3]
  auto policies = isolating(index, *subject.pod, dir);
  if (policies.empty()) return true;  // [R5]
  for (std::uint32_t id : policies) {
    for (const auto& rule : rules_of(index.policies[id], dir)) {  // [R6] union over policies
      if (rule_matches(rule, index, cluster, sides, port)) return true;
    }
  }
  return false;
}

DirectionVerdict explain_direction(const PolicyEngine::Index& index, const ClusterState& cluster, Direction dir,
                                   const Endpoint& subject, const Sides& sides, const PortProto& port) {
  DirectionVerdict v;
  v.governed = subject.pod.has_value();  // [R3]
  if (!v.governed) return v;
  auto policies = isolating(index, *subject.pod, dir);
  v.isolating.assign(policies.begin(), policies.end());  // [R4]
  for (std::uint32_t id : policies) {
    const auto& rules = rules_of(index.policies[id], dir);
    for (std::uint32_t r = 0; r < rules.size(); ++r) {
      if (rule_matches(rules[r], index, cluster, sides, port)) v.allowed_by.push_back({id, r});  // [R6]
    }
  }
  return v;
}

bool is_self(const Flow& flow) { return flow.src.pod && flow.dst.pod && *flow.src.pod == *flow.dst.pod; }

}  // namespace

PolicyEngine::PolicyEngine(const ClusterState& cluster) : cluster_(&cluster), index_(Index::compile(cluster)) {}
PolicyEngine::~PolicyEngine() = default;
PolicyEngine::PolicyEngine(PolicyEngine&&) noexcept = default;
PolicyEngine& PolicyEngine::operator=(PolicyEngine&&) noexcept = default;

bool PolicyEngine::allowed(const Flow& flow) const {
  if (is_self(flow)) return true;  // [R1]
  // [R2] egress of the source (peer: destination), then ingress of the destination (peer: source).
  return direction_allows(*index_, *cluster_, Direction::kEgress, flow.src, {flow.dst, flow.dst}, flow.port) &&
         direction_allows(*index_, *cluster_, Direction::kIngress, flow.dst, {flow.src, flow.dst}, flow.port);
}

Explanation PolicyEngine::explain(const Flow& flow) const {
  Explanation e;
  e.self = is_self(flow);  // [R1]
  e.egress = explain_direction(*index_, *cluster_, Direction::kEgress, flow.src, {flow.dst, flow.dst}, flow.port);
  e.ingress = explain_direction(*index_, *cluster_, Direction::kIngress, flow.dst, {flow.src, flow.dst}, flow.port);
  return e;
}

std::span<const std::uint32_t> PolicyEngine::isolating_policies(PodId pod, Direction dir) const {
  return isolating(*index_, pod, dir);
}

std::size_t PolicyEngine::index_memory_bytes() const { return index_->memory_bytes(); }

}  // namespace npv
