// The cluster-wide tiers as the reference evaluator reads them (reference_evaluator.hpp), written
// from the network-policy-api reference (v1alpha1 AdminNetworkPolicy / BaselineAdminNetworkPolicy,
// v1alpha2 ClusterNetworkPolicy), sharing no code with agent/policy/:
//
//  10. Subject. subject.namespaces selects every pod in a namespace whose labels match; subject.pods
//      pods matching podSelector in such namespaces. hostNetwork pods are never selected.
//  11. Order. Within a tier, policies by spec.priority, lower first; equal priorities by kind then
//      name (the API leaves that order undefined; this is the order npv documents). Within a
//      policy, rules as written. The first rule matching peer (12) and port (13) is the tier's
//      answer.
//  12. Peers. namespaces / pods: a cluster pod (not hostNetwork) selected like a subject; never an
//      IP that is not a pod. networks: the peer's IP (the flow's, else any of the pod's IPs) in a
//      CIDR. nodes, domainNames: nothing (npv has no Node objects and sees no names).
//  13. Ports. None listed: every port. A number or range: its protocol and start..end. A named
//      port: the destination pod has a container port of that name with the flow's number and
//      protocol.
#include <algorithm>
#include <tuple>

#include "support/reference_evaluator.hpp"

namespace npv::test {
namespace {

bool bit_prefix_equal(const Cidr& cidr, const IpAddr& ip) {
  if (cidr.base.family != ip.family) return false;
  for (int bit = 0; bit < cidr.prefix; ++bit) {
    const int mask = 0x80 >> (bit % 8);
    if ((cidr.base.bytes[bit / 8] & mask) != (ip.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

const Labels* labels_of_namespace(const ClusterState& cluster, const std::string& name) {
  for (const Namespace& ns : cluster.namespaces) {
    if (ns.name == name) return &ns.labels;
  }
  return nullptr;
}

// Rules 10 and 12: a pod selected by a namespace selector and a pod selector.
bool pod_selected(const ClusterState& cluster, const Pod& pod, const LabelSelector& ns_sel, const LabelSelector& pod_sel) {
  if (pod.host_network) return false;
  const Labels* ns_labels = labels_of_namespace(cluster, pod.ns);
  return ns_labels && reference_selects(ns_sel, *ns_labels) && reference_selects(pod_sel, pod.labels);
}

bool tier_peer_matches(const ClusterState& cluster, const TierPeer& peer, const Endpoint& other) {
  switch (peer.kind) {
    case TierPeer::Kind::kNamespaces:
    case TierPeer::Kind::kPods:  // rule 12 (kNamespaces has an empty pod selector)
      return other.pod && pod_selected(cluster, cluster.pods[*other.pod], peer.namespace_selector, peer.pod_selector);
    case TierPeer::Kind::kNetworks:
      for (const Cidr& c : peer.networks) {
        if (other.ip) {
          if (bit_prefix_equal(c, *other.ip)) return true;
          continue;
        }
        if (!other.pod) continue;
        for (const IpAddr& ip : cluster.pods[*other.pod].ips) {
          if (bit_prefix_equal(c, ip)) return true;
        }
      }
      return false;
    default:
      return false;  // rule 12: nodes, domainNames
  }
}

bool tier_port_matches(const ClusterState& cluster, const TierPort& tp, const Flow& flow) {
  if (tp.kind == TierPort::Kind::kNumber) {
    return tp.proto == flow.port.proto && tp.port <= flow.port.port && flow.port.port <= tp.end_port;
  }
  if (!flow.dst.pod) return false;
  for (const ContainerPort& cp : cluster.pods[*flow.dst.pod].ports) {
    if (cp.name == tp.name && cp.port == flow.port.port && cp.proto == flow.port.proto) return true;
  }
  return false;
}

}  // namespace

std::optional<TierRuleRef> reference_tier_match(const ClusterState& cluster, TierKind tier, Direction dir,
                                                PodId subject, const Endpoint& other, const Flow& flow) {
  const Pod& pod = cluster.pods[subject];
  std::vector<std::uint32_t> order;
  for (std::uint32_t i = 0; i < cluster.tier_policies.size(); ++i) {
    const TierPolicy& p = cluster.tier_policies[i];
    if (p.tier == tier && pod_selected(cluster, pod, p.subject.namespace_selector, p.subject.pod_selector)) {
      order.push_back(i);  // rule 10
    }
  }
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {  // rule 11
    const TierPolicy& x = cluster.tier_policies[a];
    const TierPolicy& y = cluster.tier_policies[b];
    return std::tie(x.priority, x.api, x.name) < std::tie(y.priority, y.api, y.name);
  });
  for (std::uint32_t i : order) {
    const TierPolicy& p = cluster.tier_policies[i];
    const auto& rules = dir == Direction::kEgress ? p.egress : p.ingress;
    for (std::uint32_t r = 0; r < rules.size(); ++r) {
      bool peer_ok = false;
      for (const TierPeer& peer : rules[r].peers) peer_ok = peer_ok || tier_peer_matches(cluster, peer, other);
      bool port_ok = rules[r].ports.empty();
      for (const TierPort& tp : rules[r].ports) port_ok = port_ok || tier_port_matches(cluster, tp, flow);
      if (peer_ok && port_ok) return TierRuleRef{i, r, rules[r].action};
    }
  }
  return std::nullopt;
}

}  // namespace npv::test
