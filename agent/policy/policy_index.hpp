// The compiled form of a ClusterState's NetworkPolicies (internal to agent/policy).
//
// Everything a verdict touches lives in flat arrays: rules refer to ranges of peers and ports, and
// each pod has, per direction, the list of rules of the policies that isolate it. A verdict walks
// one contiguous list per direction instead of chasing policy → rule → peer pointers.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "npv/model.hpp"
#include "npv/pod_set.hpp"
#include "npv/policy_engine.hpp"

namespace npv {

inline constexpr std::uint32_t kNoName = UINT32_MAX;

struct CompiledPort {
  PolicyPort::Kind kind;
  Protocol proto;
  std::uint16_t lo;       // kNumber: first..last port
  std::uint16_t hi;
  std::uint32_t name_id;  // kNamed: interned port name, kNoName if no pod declares it
};

// A peer. `pods`: the pods it selects (selector peers), or for an ipBlock peer the pods having
// any IP inside the block (used when a flow names a pod but not the IP it used). `ip_block`
// (pointer into the ClusterState) is set for ipBlock peers and checks a flow's actual IP.
struct CompiledPeer {
  PodSetView pods;
  const IpBlock* ip_block = nullptr;
};

// Ranges into Index::peers and Index::ports. An empty range means `from`/`to` (or `ports`) was
// omitted or empty: every peer (port) matches. A present list is never empty after compilation.
struct CompiledRule {
  std::uint32_t peers_begin, peers_end;
  std::uint32_t ports_begin, ports_end;
};

// Per-pod lists in CSR form: ids[offsets[pod] .. offsets[pod + 1]).
struct PodLists {
  std::vector<std::uint32_t> offsets;
  std::vector<std::uint32_t> ids;
  std::span<const std::uint32_t> of(PodId pod) const {
    return {ids.data() + offsets[pod], ids.data() + offsets[pod + 1]};
  }
};

// A pod's named container port, with the name interned.
struct NamedPort {
  std::uint32_t name_id;
  Protocol proto;
  std::uint16_t port;
};

// A rule of a tier policy (ClusterState::tier_policies), compiled like a NetworkPolicy rule.
struct CompiledTierRule {
  CompiledRule rule;
  TierAction action;
  std::uint32_t policy;  // index into ClusterState::tier_policies
  std::uint32_t index;   // the rule's index in the policy's ingress or egress list
};

// Per-pod lists of tier rule ids in evaluation order, interned: pods with the same applicable
// rules (usually a whole namespace) share one list in `ids`.
struct TierLists {
  std::vector<std::uint32_t> begin;  // per pod
  std::vector<std::uint32_t> end;
  std::vector<std::uint32_t> ids;    // into Index::tier_rules
  std::span<const std::uint32_t> of(PodId pod) const { return {ids.data() + begin[pod], ids.data() + end[pod]}; }
};

// The verdict-path filter of one tier and direction. Its rules are numbered locally in evaluation
// order (bit i = rule `global[i]`). A rule can match a flow only if it applies to the subject pod
// (`subject` bits), names the flow's protocol (`by_proto`), and: for a peer that is a cluster pod,
// one of its selector peers holds the pod (`by_peer`: then the peer matches, only ports remain) or
// one of its networks holds one of the pod's IPs (`by_peer_ip`: a pod endpoint's IP is one of the
// pod's own); for a peer that is only an IP, it has a networks peer (`ip_rules`). Candidates are
// walked lowest bit first and checked. Exact: the bits only skip rules that cannot match.
struct TierFilter {
  std::uint32_t words = 0;               // 64-bit words per bitset
  std::vector<std::uint32_t> global;     // local bit -> index into Index::tier_rules
  std::vector<std::uint64_t> subject;    // interned subject bitsets, `words` each
  std::vector<std::uint32_t> subject_of; // per pod: offset into `subject`
  std::vector<std::uint64_t> by_peer;    // per pod: `words` words at pod * words
  std::vector<std::uint64_t> by_peer_ip; // per pod, likewise
  std::vector<std::uint64_t> ip_rules;   // `words` words
  // Per protocol (Protocol value), `words` words: rules with no ports or a port of that protocol.
  std::vector<std::uint64_t> by_proto[kProtocolCount];
};

struct PolicyEngine::Index {
  std::vector<CompiledRule> rules;
  std::vector<CompiledPeer> peers;
  std::vector<CompiledPort> ports;
  // Per policy and direction, the first rule in `rules`; rules of policy p, direction d are
  // [first_rule[d][p], first_rule[d][p] + number of rules). Index 0 = ingress, 1 = egress.
  std::vector<std::uint32_t> first_rule[2];
  PodLists isolating[2];  // policy ids isolating each pod (sorted), per direction
  // Copies of the rules of those policies, per pod and direction, in CSR form: what verdicts walk
  // (contiguous, no indirection through rule ids).
  std::vector<std::uint32_t> pod_rule_offsets[2];
  std::vector<CompiledRule> pod_rules[2];
  std::span<const CompiledRule> rules_of(PodId pod, int dir) const {
    return {pod_rules[dir].data() + pod_rule_offsets[dir][pod], pod_rules[dir].data() + pod_rule_offsets[dir][pod + 1]};
  }
  std::vector<std::vector<NamedPort>> named_ports;  // per pod
  // Cluster-wide tiers: every compiled tier rule, and per tier (0 admin, 1 baseline) and
  // direction the rules applying to each pod, in evaluation order. Empty without tier policies.
  std::vector<CompiledTierRule> tier_rules;
  TierLists tier_lists[2][2];
  TierFilter tier_filters[2][2];  // the same rules, for allowed()
  std::deque<IpBlock> tier_networks;  // the networks peers' CIDRs; CompiledPeer::ip_block points here
  std::deque<PodSet> pod_sets;  // interned peer pod sets; CompiledPeer::pods point here

  // Heap-allocated so that the peers' pointers into pod_sets stay valid.
  static std::unique_ptr<Index> compile(const ClusterState& cluster);
  std::size_t memory_bytes() const;
};

inline int direction_slot(Direction d) { return d == Direction::kIngress ? 0 : 1; }
inline int tier_slot(TierKind t) { return t == TierKind::kAdmin ? 0 : 1; }

}  // namespace npv
