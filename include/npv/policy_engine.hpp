// The NetworkPolicy engine: for any flow, the verdict Kubernetes NetworkPolicy (networking.k8s.io/v1)
// semantics define, with the cluster-wide tiers around it (Admin tier, NetworkPolicy, Baseline
// tier: tier_policy.hpp), and why.
//
// The engine compiles a ClusterState into an index: for every pod, the policies that isolate it
// per direction; for every peer, the set of pods it selects; for every named port, an interned id.
// A verdict then looks only at the policies that select the two endpoints.
//
// Thread-safety: after construction the engine is immutable; concurrent verdicts are safe.
// Lifetime: the engine refers to the ClusterState it was built from, which must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "npv/cidr.hpp"
#include "npv/model.hpp"
#include "npv/pod_set.hpp"
#include "npv/port.hpp"

namespace npv {

// One side of a flow: a pod of the cluster, an IP (outside the cluster, or the pod's own IP
// the flow used), or both.
struct Endpoint {
  std::optional<PodId> pod;
  std::optional<IpAddr> ip;

  static Endpoint of_pod(PodId id) { return {id, std::nullopt}; }
  static Endpoint of_ip(const IpAddr& addr) { return {std::nullopt, addr}; }
};

// A connection attempt from src to dst on dst's port.
struct Flow {
  Endpoint src;
  Endpoint dst;
  PortProto port;
};

enum class Direction : std::uint8_t { kIngress, kEgress };

// A rule of a policy: ClusterState::policies[policy].ingress[rule] (or .egress[rule]).
struct RuleRef {
  std::uint32_t policy = 0;
  std::uint32_t rule = 0;
  auto operator<=>(const RuleRef&) const = default;
};

// A rule of a cluster-wide tier policy: ClusterState::tier_policies[policy].ingress[rule] (or
// .egress[rule]), with its action.
struct TierRuleRef {
  std::uint32_t policy = 0;
  std::uint32_t rule = 0;
  TierAction action = TierAction::kAllow;
  auto operator<=>(const TierRuleRef&) const = default;
};

// Which tier decided a direction ([T1]-[T12] in policy_engine.cpp).
enum class DecidingTier : std::uint8_t {
  kNotGoverned,    // the endpoint is not a cluster pod: nothing applies, allowed
  kAdmin,          // an Admin-tier rule with Allow or Deny matched
  kNetworkPolicy,  // a NetworkPolicy isolates the pod (the Admin tier passed or did not match)
  kBaseline,       // a Baseline-tier rule with Allow or Deny matched (the pod is not isolated)
  kDefault,        // nothing matched: the Kubernetes default, allowed
};
const char* to_string(DecidingTier t);  // "none", "admin", "networkpolicy", "baseline", "default"

// Why one direction of a flow is allowed or denied.
struct DirectionVerdict {
  bool governed = false;                 // the endpoint is a cluster pod, so policies can apply
  // The NetworkPolicy tier's view, filled in whichever tier decided (see decided_by()):
  std::vector<std::uint32_t> isolating;  // policies that select the pod for this direction
  std::vector<RuleRef> allowed_by;       // every rule of those policies that allows the flow
  std::optional<TierRuleRef> admin;      // the first matching Admin-tier rule (any action)
  std::optional<TierRuleRef> baseline;   // the first matching Baseline-tier rule, when reached
  // Matching rules of other policies that share the deciding tier rule's tier and priority but
  // act differently: the API leaves the outcome undefined (tier_policy.hpp PriorityTie).
  std::vector<TierRuleRef> tied;
  bool isolated() const { return governed && !isolating.empty(); }
  DecidingTier decided_by() const {
    if (!governed) return DecidingTier::kNotGoverned;
    if (admin && admin->action != TierAction::kPass) return DecidingTier::kAdmin;
    if (isolated()) return DecidingTier::kNetworkPolicy;
    if (baseline && baseline->action != TierAction::kPass) return DecidingTier::kBaseline;
    return DecidingTier::kDefault;
  }
  bool allowed() const {
    switch (decided_by()) {
      case DecidingTier::kAdmin: return admin->action == TierAction::kAllow;
      case DecidingTier::kNetworkPolicy: return !allowed_by.empty();
      case DecidingTier::kBaseline: return baseline->action == TierAction::kAllow;
      default: return true;
    }
  }
};

struct Explanation {
  bool self = false;  // pod to itself: always allowed
  DirectionVerdict egress;   // of the source
  DirectionVerdict ingress;  // of the destination
  bool allowed() const { return self || (egress.allowed() && ingress.allowed()); }
};

class PolicyEngine {
 public:
  explicit PolicyEngine(const ClusterState& cluster);
  ~PolicyEngine();
  PolicyEngine(PolicyEngine&&) noexcept;
  PolicyEngine& operator=(PolicyEngine&&) noexcept;

  // The verdict alone; stops at the first allowing rule. The hot path.
  bool allowed(const Flow& flow) const;
  // The verdict with every isolating policy and every allowing rule.
  Explanation explain(const Flow& flow) const;

  const ClusterState& cluster() const { return *cluster_; }
  // Policies that select `pod` for a direction, sorted.
  std::span<const std::uint32_t> isolating_policies(PodId pod, Direction dir) const;
  // Tier policies (indices into ClusterState::tier_policies) whose subject selects `pod` and that
  // have rules for the direction, in evaluation order.
  std::vector<std::uint32_t> tier_policies_of(PodId pod, Direction dir) const;
  // The pods peer `peer` of rule `rule` (index into the policy's ingress or egress list) of policy
  // `policy` selects: for a selector peer, the pods its selectors match ([R9]-[R11]); for an ipBlock
  // peer, the pods having an IP in the block ([R12]). Rules of a direction the policy's policyTypes
  // omit are ignored ([R6]) and not compiled: for them, and for out-of-range indices, the empty set.
  // Valid as long as the engine lives.
  PodSetView peer_pods(std::uint32_t policy, Direction dir, std::uint32_t rule, std::uint32_t peer) const;
  // Bytes held by the index (excluding the ClusterState).
  std::size_t index_memory_bytes() const;

  struct Index;  // defined in agent/policy/policy_index.hpp

 private:
  const ClusterState* cluster_;
  std::unique_ptr<Index> index_;
};

}  // namespace npv
