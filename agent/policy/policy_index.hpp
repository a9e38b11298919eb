// The compiled form of a ClusterState's NetworkPolicies (internal to agent/policy).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "npv/model.hpp"
#include "npv/pod_set.hpp"
#include "npv/policy_engine.hpp"

namespace npv {

inline constexpr std::uint32_t kNoName = UINT32_MAX;

struct CompiledPort {
  PolicyPort::Kind kind;
  Protocol proto;
  std::uint16_t lo;  // kNumber: first..last port
  std::uint16_t hi;
  std::uint32_t name_id;  // kNamed: interned port name
};

// A peer: a set of pods (selector peers) or an ipBlock (pointer into the ClusterState).
struct CompiledPeer {
  const PodSet* pods = nullptr;
  const IpBlock* ip_block = nullptr;
};

struct CompiledRule {
  bool all_peers = false;  // `from`/`to` omitted or empty
  bool all_ports = false;  // `ports` omitted or empty
  std::vector<CompiledPeer> peers;
  std::vector<CompiledPort> ports;
};

struct CompiledPolicy {
  std::vector<CompiledRule> ingress;  // empty unless the policy affects ingress
  std::vector<CompiledRule> egress;   // empty unless the policy affects egress
};

// A pod's named container port, with the name interned.
struct NamedPort {
  std::uint32_t name_id;
  Protocol proto;
  std::uint16_t port;
};

struct PolicyEngine::Index {
  std::vector<CompiledPolicy> policies;  // parallel to ClusterState::policies
  // Isolating policies per pod and direction, in CSR form: ids[offsets[pod] .. offsets[pod+1]).
  std::vector<std::uint32_t> ingress_offsets, ingress_ids;
  std::vector<std::uint32_t> egress_offsets, egress_ids;
  std::vector<std::vector<NamedPort>> named_ports;  // per pod
  std::deque<PodSet> pod_sets;  // interned peer pod sets; CompiledPeer::pods point here

  // Heap-allocated so that the peers' pointers into pod_sets stay valid.
  static std::unique_ptr<Index> compile(const ClusterState& cluster);
  std::size_t memory_bytes() const;
};

}  // namespace npv
