#include "lab/nft_tiers.hpp"

#include <array>
#include <map>
#include <set>

#include "lab/nft_text.hpp"

namespace npv::nft {

namespace {

const Labels& namespace_labels(const ClusterState& cluster, const Pod& pod) {
  static const Labels kNone;
  auto ns = cluster.find_namespace(pod.ns);
  return ns ? cluster.namespaces[*ns].labels : kNone;
}

// T1 (and T4 for namespaces/pods peers).
bool selects(const ClusterState& cluster, const LabelSelector& ns_sel, const LabelSelector& pod_sel, const Pod& pod) {
  return !pod.host_network && ns_sel.matches(namespace_labels(cluster, pod)) && pod_sel.matches(pod.labels);
}

std::string verdict(TierKind tier, TierAction action, const std::string& tail_chain) {
  switch (action) {
    case TierAction::kAllow: return "accept";
    case TierAction::kDeny: return "counter drop";
    case TierAction::kPass: return tier == TierKind::kBaseline ? "accept" : "goto " + tail_chain;  // T3
  }
  return "accept";
}

struct RuleBuilder {
  const ClusterState& cluster;
  const std::vector<PodId>& lab_pods;
  const Pod& self;
  bool ingress;

  // T4: the fixed (numbered) port matches of a rule, or {""} for every port.
  std::vector<std::string> fixed_ports(const TierRule& rule, bool& has_named) const {
    has_named = false;
    if (rule.ports.empty()) return {""};
    std::array<std::vector<PortRange>, kProtocolCount> ranges;
    for (const auto& p : rule.ports) {
      if (p.kind == TierPort::Kind::kNamed) {
        has_named = true;
        continue;
      }
      ranges[static_cast<int>(p.proto)].push_back({p.port, p.end_port});
    }
    std::vector<std::string> out;
    for (int i = 0; i < kProtocolCount; ++i) {
      if (!ranges[i].empty()) out.push_back(port_match(static_cast<Protocol>(i), ranges[i]));
    }
    return out;
  }

  // T4: the named-port matches of `rule` on destination pod `dst`.
  static std::vector<std::string> named_ports(const TierRule& rule, const Pod& dst) {
    std::array<std::vector<PortRange>, kProtocolCount> ranges;
    for (const auto& p : rule.ports) {
      if (p.kind != TierPort::Kind::kNamed) continue;
      for (const auto& cp : dst.ports) {
        if (cp.name == p.name) ranges[static_cast<int>(cp.proto)].push_back({cp.port, cp.port});
      }
    }
    std::vector<std::string> out;
    for (int i = 0; i < kProtocolCount; ++i) {
      if (!ranges[i].empty()) out.push_back(port_match(static_cast<Protocol>(i), ranges[i]));
    }
    return out;
  }

  void add(std::vector<std::string>& out, const TierPolicy& pol, std::size_t index, const std::string& verdict_text) const {
    const TierRule& rule = (ingress ? pol.ingress : pol.egress)[index];
    const Side side = ingress ? Side::kSource : Side::kDestination;
    const std::string comment = " comment \"" + (pol.ref() + (ingress ? " ingress[" : " egress[") +
                                                 std::to_string(index) + "]").substr(0, 120) + "\"";
    std::set<PodId> pods;
    std::vector<std::string> addrs;
    for (const auto& peer : rule.peers) {
      if (peer.kind == TierPeer::Kind::kNamespaces || peer.kind == TierPeer::Kind::kPods) {
        for (PodId id : lab_pods) {
          if (selects(cluster, peer.namespace_selector, peer.pod_selector, cluster.pods[id])) pods.insert(id);
        }
      } else if (peer.kind == TierPeer::Kind::kNetworks) {
        for (const auto& cidr : peer.networks) addrs.push_back(ip_block_match(IpBlock{cidr, {}}, side));
      }
    }
    std::set<IpAddr> pod_ips;
    for (PodId id : pods) pod_ips.insert(cluster.pods[id].ips.begin(), cluster.pods[id].ips.end());
    for (auto& m : ip_set_matches(pod_ips, side)) addrs.push_back(std::move(m));
    bool has_named = false;
    const auto fixed = fixed_ports(rule, has_named);
    for (const auto& a : addrs) {
      for (const auto& p : fixed) out.push_back(join_match(join_match(a, p), verdict_text) + comment);
    }
    if (!has_named) return;
    if (ingress) {  // the destination is this pod
      const auto named = named_ports(rule, self);
      for (const auto& a : addrs) {
        for (const auto& p : named) out.push_back(join_match(join_match(a, p), verdict_text) + comment);
      }
      return;
    }
    for (PodId id : pods) {  // egress: per destination pod (named ports never go with networks peers)
      const Pod& dst = cluster.pods[id];
      const auto dst_addrs = ip_set_matches(std::set<IpAddr>(dst.ips.begin(), dst.ips.end()), side);
      for (const auto& p : named_ports(rule, dst)) {
        for (const auto& a : dst_addrs) out.push_back(join_match(join_match(a, p), verdict_text) + comment);
      }
    }
  }
};

}  // namespace

TierLines tier_lines(const ClusterState& cluster, const std::vector<PodId>& lab_pods, PodId self, bool ingress,
                     Dataplane mode, const std::string& tail_chain) {
  TierLines out;
  const Pod& pod = cluster.pods[self];
  const RuleBuilder builder{cluster, lab_pods, pod, ingress};
  for (const auto& pol : cluster.tier_policies) {  // T2: ClusterState order is evaluation order
    if (!selects(cluster, pol.subject.namespace_selector, pol.subject.pod_selector, pod)) continue;
    const auto& rules = ingress ? pol.ingress : pol.egress;
    auto& lines = pol.tier == TierKind::kAdmin ? out.admin : out.baseline;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      // Fault: a dataplane that ignores Admin-tier Deny.
      if (mode == Dataplane::kIgnoreAdminDeny && pol.tier == TierKind::kAdmin && rules[i].action == TierAction::kDeny) continue;
      builder.add(lines, pol, i, verdict(pol.tier, rules[i].action, tail_chain));
    }
  }
  return out;
}

}  // namespace npv::nft
