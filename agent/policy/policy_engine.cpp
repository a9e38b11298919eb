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
  if (rule.ports_begin == rule.ports_end) return true;  // [R14]
  for (std::uint32_t i = rule.ports_begin; i < rule.ports_end; ++i) {
    const CompiledPort& p = index.ports[i];
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

bool peer_matches(const CompiledRule& rule, const PolicyEngine::Index& index, const Endpoint& peer) {
  if (rule.peers_begin == rule.peers_end) return true;  // [R8]
  for (std::uint32_t i = rule.peers_begin; i < rule.peers_end; ++i) {
    const CompiledPeer& p = index.peers[i];
    if (p.ip_block && peer.ip) {
      if (p.ip_block->contains(*peer.ip)) return true;  // [R12] the flow's own IP
      continue;
    }
    // [R9][R10][R11] selector peers, resolved into pod sets at compile time; [R12] an ipBlock peer
    // and a pod endpoint without the flow's IP: the pods with any IP in the block (none without
    // IPs); [R13] an endpoint that is not a pod matches no selector.
    if (peer.pod && p.pods.contains(*peer.pod)) return true;
  }
  return false;
}

bool rule_matches(const CompiledRule& rule, const PolicyEngine::Index& index, const Sides& sides,
                  const PortProto& port) {
  return port_matches(rule, index, sides.dst, port) && peer_matches(rule, index, sides.peer);  // [R7]
}

// [R3][R4][R5][R6] for one direction; `subject` is the pod whose policies apply.
bool direction_allows(const PolicyEngine::Index& index, Direction dir,
                      const Endpoint& subject, const Sides& sides, const PortProto& port) {
  if (!subject.pod) return true;  // [R3]
  const int d = direction_slot(dir);
  if (index.isolating[d].of(*subject.pod).empty()) return true;  // [R5]
  // [R6] the rules of every isolating policy, concatenated at compile time: a union.
  for (const CompiledRule& rule : index.rules_of(*subject.pod, d)) {
    if (rule_matches(rule, index, sides, port)) return true;
  }
  return false;
}

DirectionVerdict explain_direction(const PolicyEngine::Index& index, Direction dir,
                                   const Endpoint& subject, const Sides& sides, const PortProto& port) {
  DirectionVerdict v;
  v.governed = subject.pod.has_value();  // [R3]
  if (!v.governed) return v;
  const int d = direction_slot(dir);
  auto policies = index.isolating[d].of(*subject.pod);
  v.isolating.assign(policies.begin(), policies.end());  // [R4]
  for (std::uint32_t id : policies) {
    const std::uint32_t first = index.first_rule[d][id];
    for (std::uint32_t r = first; r < index.first_rule[d][id + 1]; ++r) {
      if (rule_matches(index.rules[r], index, sides, port)) v.allowed_by.push_back({id, r - first});  // [R6]
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
  return direction_allows(*index_, Direction::kEgress, flow.src, {flow.dst, flow.dst}, flow.port) &&
         direction_allows(*index_, Direction::kIngress, flow.dst, {flow.src, flow.dst}, flow.port);
}

Explanation PolicyEngine::explain(const Flow& flow) const {
  Explanation e;
  e.self = is_self(flow);  // [R1]
  e.egress = explain_direction(*index_, Direction::kEgress, flow.src, {flow.dst, flow.dst}, flow.port);
  e.ingress = explain_direction(*index_, Direction::kIngress, flow.dst, {flow.src, flow.dst}, flow.port);
  return e;
}

std::span<const std::uint32_t> PolicyEngine::isolating_policies(PodId pod, Direction dir) const {
  return index_->isolating[direction_slot(dir)].of(pod);
}

PodSetView PolicyEngine::peer_pods(std::uint32_t policy, Direction dir, std::uint32_t rule, std::uint32_t peer) const {
  const int d = direction_slot(dir);
  const auto& first = index_->first_rule[d];
  if (policy + 1 >= first.size()) return {};
  const std::uint32_t r = first[policy] + rule;
  if (r >= first[policy + 1]) return {};  // out of range, or a direction the policy does not affect
  const CompiledRule& cr = index_->rules[r];
  if (cr.peers_begin + peer >= cr.peers_end) return {};
  return index_->peers[cr.peers_begin + peer].pods;
}

std::size_t PolicyEngine::index_memory_bytes() const { return index_->memory_bytes(); }

}  // namespace npv
