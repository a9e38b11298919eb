// The cluster model: Namespaces, Pods and NetworkPolicies (networking.k8s.io/v1), validated.
//
// A ClusterState is built by the manifest loader (loader.hpp) or, later, the Kubernetes API
// client and the lab. Every object in it has passed Kubernetes validation rules, so the policy
// engine never has to second-guess a field. Pods are named "namespace/name".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "npv/cidr.hpp"
#include "npv/node_agent.hpp"
#include "npv/port.hpp"
#include "npv/selector.hpp"
#include "npv/service.hpp"
#include "npv/tier_policy.hpp"

namespace npv {

// Where an object came from, for messages: "path/to/file.yaml (document 2)".
using Origin = std::string;

struct Namespace {
  std::string name;
  Labels labels;  // always includes kubernetes.io/metadata.name = name
  bool declared = false;  // false: only referenced by a pod or policy, implicit
  Origin origin;
};

struct ContainerPort {
  std::string name;  // empty when unnamed
  std::uint16_t port = 0;
  Protocol proto = Protocol::kTCP;
};

struct Pod {
  std::string ns;
  std::string name;
  Labels labels;
  std::vector<IpAddr> ips;  // status.podIPs (or status.podIP); empty for a workload template
  std::vector<ContainerPort> ports;
  bool host_network = false;
  std::string kind = "Pod";  // or the workload kind whose pod template this is
  Origin origin;

  std::string ref() const { return ns + "/" + name; }
  // The container port called `name` with protocol `proto`, as a named NetworkPolicy port resolves.
  std::optional<std::uint16_t> named_port(std::string_view port_name, Protocol proto) const;
};

// One entry of a rule's `ports` list.
struct PolicyPort {
  enum class Kind : std::uint8_t { kAllPorts, kNumber, kNamed };
  Kind kind = Kind::kAllPorts;  // kAllPorts: `port` omitted, every port of `proto`
  Protocol proto = Protocol::kTCP;
  std::uint16_t port = 0;      // kNumber: first port
  std::uint16_t end_port = 0;  // kNumber: last port (== port without endPort)
  std::string name;            // kNamed
};

struct IpBlock {
  Cidr cidr;
  std::vector<Cidr> except;  // each strictly inside cidr
  bool contains(const IpAddr& ip) const;
};

// One entry of `from`/`to`. Kubernetes allows exactly one of: ipBlock, or any combination of
// podSelector and namespaceSelector.
struct PolicyPeer {
  std::optional<LabelSelector> pod_selector;
  std::optional<LabelSelector> namespace_selector;
  std::optional<IpBlock> ip_block;
};

struct PolicyRule {
  std::vector<PolicyPeer> peers;  // empty: `from`/`to` omitted or empty, every peer
  std::vector<PolicyPort> ports;  // empty: `ports` omitted or empty, every port
};

struct NetworkPolicy {
  std::string ns;
  std::string name;
  LabelSelector pod_selector;
  bool affects_ingress = false;  // policyTypes, after defaulting
  bool affects_egress = false;
  std::vector<PolicyRule> ingress;
  std::vector<PolicyRule> egress;
  // metadata.creationTimestamp as the API server writes it ("2026-11-23T15:00:00Z", see
  // is_rfc3339_utc), or empty when the manifest has none.
  std::string creation_timestamp;
  Origin origin;

  std::string ref() const { return ns + "/" + name; }
};

// True for an RFC 3339 time in UTC with whole seconds, "YYYY-MM-DDTHH:MM:SSZ" (a real calendar
// date), the form Kubernetes writes timestamps in. Such strings order as the times they denote.
bool is_rfc3339_utc(std::string_view text);

using PodId = std::uint32_t;
using NamespaceId = std::uint32_t;

class ClusterState {
 public:
  // Objects are added by the loader; finalize() must run before any lookup.
  std::vector<Namespace> namespaces;
  std::vector<Pod> pods;
  std::vector<NetworkPolicy> policies;
  // AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy (tier_policy.hpp), sorted
  // by finalize() by tier (admin first), priority, then kind and name: evaluation order.
  std::vector<TierPolicy> tier_policies;
  std::vector<Service> services;               // service.hpp; not used by policy evaluation
  std::vector<EndpointSlice> endpoint_slices;
  std::vector<NodeAgent> node_agents;  // DaemonSets and their pods, for CNI detection (node_agent.hpp)
  std::vector<std::string> notes;  // skipped objects and other non-fatal remarks

  // Adds implicit namespaces for every namespace that is referenced by a pod or policy but not
  // declared, sorts namespaces, pods, policies, services and endpoint slices by name (so output
  // is deterministic) and builds the lookups.
  void finalize();

  std::optional<PodId> find_pod(std::string_view ref) const;  // "ns/name"
  std::optional<PodId> find_pod_by_ip(const IpAddr& ip) const;
  std::optional<NamespaceId> find_namespace(std::string_view name) const;
  NamespaceId namespace_of(PodId pod) const { return pod_namespace_[pod]; }

 private:
  std::unordered_map<std::string, PodId> pod_by_ref_;
  struct IpHash {
    std::size_t operator()(const IpAddr& ip) const noexcept;
  };
  std::unordered_map<IpAddr, PodId, IpHash> pod_by_ip_;
  std::unordered_map<std::string, NamespaceId> namespace_by_name_;
  std::vector<NamespaceId> pod_namespace_;
};

inline constexpr std::string_view kNamespaceNameLabel = "kubernetes.io/metadata.name";

}  // namespace npv
