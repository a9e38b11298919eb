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
//
// The cluster-wide tiers around NetworkPolicy (policy.networking.k8s.io AdminNetworkPolicy,
// BaselineAdminNetworkPolicy v1alpha1, ClusterNetworkPolicy v1alpha2; tier_policy.hpp maps the
// two generations), from the API reference and NPEP-2 / the v1alpha2 Tier documentation:
//
//  T1  Each direction is decided in tiers: Admin tier, then NetworkPolicy, then Baseline tier,
//      then the Kubernetes default (allow). [R1] self and [R2] both-directions still hold; an
//      endpoint that is not a cluster pod ([R3]) is subject to no tier.
//  T2  A tier policy applies to the pods its subject selects: subject.namespaces, every pod in the
//      matching namespaces; subject.pods, pods matching podSelector in namespaces matching
//      namespaceSelector. hostNetwork pods are never subjects.
//  T3  Within a tier, policies are evaluated by spec.priority (0..1000, lower first); within a
//      policy, rules in the order written. The first matching rule decides (no union).
//  T4  Admin tier: Allow (v1alpha2 Accept) allows and Deny denies, final; no NetworkPolicy or
//      Baseline rule is consulted. Pass skips the rest of the Admin tier: NetworkPolicy decides.
//  T5  NetworkPolicy tier: a pod isolated for the direction ([R4]) is decided by [R6], final.
//  T6  Baseline tier: only for a pod no NetworkPolicy isolates in that direction. Allow allows,
//      Deny denies; Pass (v1alpha2 only) skips the rest of the tier. No match: [T1] default allow.
//  T7  namespaces / pods peers: the pods (not hostNetwork) the selectors pick; they never match an
//      IP that is not a cluster pod.
//  T8  networks peer (egress): the peer's IP lies in one of the CIDRs, cluster pods included (by
//      the flow's IP, else any of the pod's IPs).
//  T9  nodes and domainNames peers match no flow (the loader notes them).
//  T10 ports (v1alpha2 protocols): absent, every port of every protocol; portNumber, that protocol
//      and port; portRange, start..end inclusive; namedPort, a destination container port of that
//      name and the flow's number and protocol ([R16], any protocol).
//  T11 A rule matches iff one of its peers matches AND one of its ports matches.
//  T12 Same tier and priority: the API leaves the order undefined; npv evaluates by kind and name
//      and explain() reports other such policies' matching rules whose action differs.
#include <algorithm>
#include <bit>
#include <span>

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

// [T3][T11] the first rule of `rules` (tier rule ids in evaluation order) that matches, or null.
const CompiledTierRule* first_tier_match(const PolicyEngine::Index& index, std::span<const std::uint32_t> rules,
                                         const Sides& sides, const PortProto& port) {
  for (std::uint32_t id : rules) {
    const CompiledTierRule& tr = index.tier_rules[id];
    if (rule_matches(tr.rule, index, sides, port)) return &tr;
  }
  return nullptr;
}

// [T3][T11] the first matching rule of one tier for `pod`, through the tier's filter (see
// TierFilter): only rules that apply to the pod and could match the peer are checked, in order.
const CompiledTierRule* first_filtered_match(const PolicyEngine::Index& index, const TierFilter& f, PodId pod,
                                             const Sides& sides, const PortProto& port) {
  if (f.words == 0) return nullptr;
  const std::uint64_t* subject = f.subject.data() + f.subject_of[pod];
  const std::size_t row = sides.peer.pod ? static_cast<std::size_t>(*sides.peer.pod) * f.words : 0;
  const std::uint64_t* by_proto = f.by_proto[static_cast<int>(port.proto)].data();
  for (std::uint32_t w = 0; w < f.words; ++w) {
    const std::uint64_t peer_hit = sides.peer.pod ? f.by_peer[row + w] : 0;
    const std::uint64_t maybe = sides.peer.pod ? f.by_peer_ip[row + w] : f.ip_rules[w];
    std::uint64_t m = subject[w] & (peer_hit | maybe) & by_proto[w];
    for (; m != 0; m &= m - 1) {
      const auto bit = static_cast<std::uint32_t>(std::countr_zero(m));
      const CompiledTierRule& tr = index.tier_rules[f.global[w * 64 + bit]];
      // A by_peer bit means a selector peer of the rule holds the peer pod: only ports remain.
      const bool matches = (peer_hit >> bit) & 1 ? port_matches(tr.rule, index, sides.dst, port)
                                                 : rule_matches(tr.rule, index, sides, port);
      if (matches) return &tr;
    }
  }
  return nullptr;
}

// [R3]-[R6] and [T1]-[T6] for one direction; `subject` is the pod whose policies apply.
bool direction_allows(const PolicyEngine::Index& index, Direction dir,
                      const Endpoint& subject, const Sides& sides, const PortProto& port) {
  if (!subject.pod) return true;  // [R3][T1]
  const int d = direction_slot(dir);
  const PodId pod = *subject.pod;
  // [T4] Admin tier: the first matching rule decides unless it passes.
  if (const CompiledTierRule* m = first_filtered_match(index, index.tier_filters[0][d], pod, sides, port)) {
    if (m->action == TierAction::kAllow) return true;
    if (m->action == TierAction::kDeny) return false;
  }
  if (!index.isolating[d].of(pod).empty()) {  // [T5]
    // [R6] the rules of every isolating policy, concatenated at compile time: a union.
    for (const CompiledRule& rule : index.rules_of(pod, d)) {
      if (rule_matches(rule, index, sides, port)) return true;
    }
    return false;
  }
  // [T6] Baseline tier, then [R5][T1] the default: allow.
  const CompiledTierRule* m = first_filtered_match(index, index.tier_filters[1][d], pod, sides, port);
  return !m || m->action != TierAction::kDeny;
}

TierRuleRef ref_of(const CompiledTierRule& r) { return {r.policy, r.index, r.action}; }

// [T12] after the deciding rule `decided` of a tier list, the first matching rule of each other
// policy with the same priority whose action differs.
void find_ties(const PolicyEngine::Index& index, const ClusterState& cluster, std::span<const std::uint32_t> rules,
               const CompiledTierRule& decided, const Sides& sides, const PortProto& port,
               std::vector<TierRuleRef>& out) {
  const int priority = cluster.tier_policies[decided.policy].priority;
  std::uint32_t seen_policy = decided.policy;
  for (std::uint32_t id : rules) {
    const CompiledTierRule& tr = index.tier_rules[id];
    if (tr.policy == decided.policy || cluster.tier_policies[tr.policy].priority != priority) continue;
    if (tr.policy == seen_policy) continue;  // only a policy's first matching rule counts [T3]
    if (!rule_matches(tr.rule, index, sides, port)) continue;
    seen_policy = tr.policy;
    if (tr.action != decided.action) out.push_back(ref_of(tr));
  }
}

DirectionVerdict explain_direction(const PolicyEngine::Index& index, const ClusterState& cluster, Direction dir,
                                   const Endpoint& subject, const Sides& sides, const PortProto& port) {
  DirectionVerdict v;
  v.governed = subject.pod.has_value();  // [R3]
  if (!v.governed) return v;
  const int d = direction_slot(dir);
  const auto admin_rules = index.tier_lists[0][d].of(*subject.pod);
  if (const CompiledTierRule* m = first_tier_match(index, admin_rules, sides, port)) {  // [T4]
    v.admin = ref_of(*m);
    find_ties(index, cluster, admin_rules, *m, sides, port, v.tied);
  }
  // The NetworkPolicy view is filled in even when the Admin tier decided, for the explanation.
  auto policies = index.isolating[d].of(*subject.pod);
  v.isolating.assign(policies.begin(), policies.end());  // [R4]
  for (std::uint32_t id : policies) {
    const std::uint32_t first = index.first_rule[d][id];
    for (std::uint32_t r = first; r < index.first_rule[d][id + 1]; ++r) {
      if (rule_matches(index.rules[r], index, sides, port)) v.allowed_by.push_back({id, r - first});  // [R6]
    }
  }
  if (v.decided_by() != DecidingTier::kDefault) return v;  // [T4][T5]: the Baseline tier is not reached
  const auto baseline_rules = index.tier_lists[1][d].of(*subject.pod);
  if (const CompiledTierRule* m = first_tier_match(index, baseline_rules, sides, port)) {  // [T6]
    v.baseline = ref_of(*m);
    find_ties(index, cluster, baseline_rules, *m, sides, port, v.tied);
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
  e.egress = explain_direction(*index_, *cluster_, Direction::kEgress, flow.src, {flow.dst, flow.dst}, flow.port);
  e.ingress = explain_direction(*index_, *cluster_, Direction::kIngress, flow.dst, {flow.src, flow.dst}, flow.port);
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

std::vector<std::uint32_t> PolicyEngine::tier_policies_of(PodId pod, Direction dir) const {
  std::vector<std::uint32_t> out;
  for (const auto& lists : index_->tier_lists) {
    for (std::uint32_t id : lists[direction_slot(dir)].of(pod)) {
      const std::uint32_t p = index_->tier_rules[id].policy;
      if (out.empty() || out.back() != p) out.push_back(p);
    }
  }
  return out;
}

const char* to_string(DecidingTier t) {
  switch (t) {
    case DecidingTier::kNotGoverned: return "none";
    case DecidingTier::kAdmin: return "admin";
    case DecidingTier::kNetworkPolicy: return "networkpolicy";
    case DecidingTier::kBaseline: return "baseline";
    case DecidingTier::kDefault: return "default";
  }
  return "?";
}

std::size_t PolicyEngine::index_memory_bytes() const { return index_->memory_bytes(); }

}  // namespace npv
