// Random clusters and flows for the property test and the benchmarks.
//
// random_cluster() builds a ClusterState directly (no YAML) that mixes every feature the engine
// must handle: small label vocabularies (so selectors often match), namespace labels, matchLabels
// and all four matchExpressions operators, policyTypes Ingress/Egress/both (with ignored rules of
// the other direction), empty and non-empty from/to/ports, podSelector-only, namespaceSelector-only
// and combined peers, ipBlocks with except (IPv4 and IPv6), numeric ports, endPort ranges, named
// ports (declared by some pods, by none for others), TCP/UDP/SCTP, pods with IPv4, dual-stack,
// IPv6-only and no IP (workload templates), implicit namespaces, and namespaces no policy lives in.
// hostNetwork pods are never generated. With tier_policies > 0, also cluster-wide tier policies of
// every kind, action, peer and port form, with small priorities so that ties occur.
//
// Deterministic: the same spec gives the same cluster on every platform (std::mt19937_64 with
// hand-written bounded draws, no std distributions). Time and memory are linear in
// pods + namespaces + policies: 10,000 pods / 1,000 namespaces / 5,000 policies take well under a
// second.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

#include "npv/model.hpp"
#include "npv/policy_engine.hpp"

namespace npv::test {

struct RandomClusterSpec {
  std::size_t namespaces = 4;  // at least 1 is used
  std::size_t pods = 20;
  std::size_t policies = 10;
  std::size_t tier_policies = 0;  // AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy
  std::uint64_t seed = 1;
  // Percentages.
  unsigned no_ip_percent = 10;                // workload templates: a pod without IPs
  unsigned dual_stack_percent = 25;           // IPv4 + IPv6
  unsigned ipv6_only_percent = 5;
  unsigned undeclared_namespace_percent = 10;  // left to finalize(): only the name label
  unsigned unpoliced_namespace_percent = 20;   // no policy lives there: pods selected by nothing
};

// A finalize()d cluster. Pod IPs are unique; IPv4 pod IPs lie in 10.0.0.0/8 (below 10.255.0.0),
// IPv6 pod IPs in fd00::/32.
ClusterState random_cluster(const RandomClusterSpec& spec);

// A flow on one of a small set of ports that overlaps the policies' ports and container ports:
// mostly pod to pod (sometimes a pod to itself), else pod to external IP or external IP to pod.
// A pod endpoint sometimes carries one of the pod's IPs. External IPs never belong to a pod, and
// fall both inside and outside the pods' ranges. With no pods: external to external.
Flow random_flow(const ClusterState& cluster, std::mt19937_64& rng);

// For failure messages: "ns/pod (10.0.0.3) -> 203.0.113.7 80/TCP".
std::string describe_flow(const ClusterState& cluster, const Flow& flow);
// A policy in a compact YAML-like text, enough to rebuild it by hand.
std::string describe_policy(const NetworkPolicy& policy);
std::string describe_tier_policy(const TierPolicy& policy);
// A pod with its namespace labels, IPs and container ports.
std::string describe_pod(const ClusterState& cluster, PodId pod);

}  // namespace npv::test
