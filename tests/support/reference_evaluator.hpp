// A rule-by-rule NetworkPolicy (networking.k8s.io/v1) evaluator, with the cluster-wide tiers
// (reference_tiers.cpp), the oracle the property test
// checks the indexed PolicyEngine against.
//
// Written from the Kubernetes API reference (NetworkPolicySpec, NetworkPolicyIngressRule/EgressRule,
// NetworkPolicyPeer, NetworkPolicyPort, IPBlock) and k8s.io/apimachinery labels Requirement.Matches,
// never from the engine: it shares no code with agent/policy/ and does not call
// LabelSelector::matches, Cidr::contains or IpBlock::contains either, so a bug there shows up as a
// disagreement too. It scans every policy for every flow: slow, on purpose.
//
// Thread-safety: pure functions of their arguments. The ClusterState must be finalize()d.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "npv/model.hpp"
#include "npv/policy_engine.hpp"

namespace npv::test {

// One direction of a flow (egress of the source, ingress of the destination), as the reference
// sees it. Field meanings mirror npv::DirectionVerdict so the two can be compared.
struct ReferenceDirection {
  bool governed = false;                 // the endpoint is a cluster pod
  std::vector<std::uint32_t> isolating;  // policies selecting the pod for this direction, sorted
  std::vector<RuleRef> allowed_by;       // every allowing rule of those policies, sorted
  std::optional<TierRuleRef> admin;      // the first matching Admin-tier rule (reference_tiers.cpp)
  std::optional<TierRuleRef> baseline;   // the first matching Baseline-tier rule, when reached
  bool allowed = true;
};

struct ReferenceVerdict {
  bool self = false;  // pod to itself
  ReferenceDirection egress;
  ReferenceDirection ingress;
  bool allowed = true;
};

ReferenceVerdict reference_explain(const ClusterState& cluster, const Flow& flow);
bool reference_allowed(const ClusterState& cluster, const Flow& flow);

// The first matching rule of `tier` for `subject` in direction `dir` (reference_tiers.cpp rules
// 10-13), or nullopt.
std::optional<TierRuleRef> reference_tier_match(const ClusterState& cluster, TierKind tier, Direction dir,
                                                PodId subject, const Endpoint& other, const Flow& flow);

// Label selector semantics (rule 9 in the .cpp), exposed for tests of the reference itself.
bool reference_selects(const LabelSelector& selector, const Labels& labels);

}  // namespace npv::test
