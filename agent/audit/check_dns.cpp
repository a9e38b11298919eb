// NPV-AUD-004: pods that cannot reach kube-dns on 53/UDP (high) or only on 53/TCP (medium).
//
// Every governed pod is checked with the engine's full verdict (its egress AND kube-dns's ingress)
// against each kube-dns pod; one reachable kube-dns pod is enough. A kube-dns pod without an IP (a
// template, or the assumed one) cannot match an ipBlock; for it, a flow is also tried to an address
// of each ipBlock peer of the pod's egress rules, so that a rule such as "0.0.0.0/0 on 53" counts
// (the check does not know kube-dns's IP, and prefers silence to a false alarm).
#include <algorithm>
#include <set>

#include "audit/audit_context.hpp"

namespace npv::audit {

namespace {

constexpr PortProto kDnsUdp{53, Protocol::kUDP};
constexpr PortProto kDnsTcp{53, Protocol::kTCP};

Endpoint endpoint_of(const ClusterState& c, PodId p) {
  Endpoint e = Endpoint::of_pod(p);
  if (!c.pods[p].ips.empty()) e.ip = c.pods[p].ips.front();
  return e;
}

// Addresses inside the block to try: its first and last address, unless excepted.
std::vector<IpAddr> probes_in(const IpBlock& block) {
  IpAddr last = block.cidr.base;
  for (int bit = block.cidr.prefix; bit < last.bit_width(); ++bit) last.bytes[bit / 8] |= 0x80 >> (bit % 8);
  std::vector<IpAddr> out;
  for (const IpAddr& ip : {block.cidr.base, last}) {
    if (block.contains(ip)) out.push_back(ip);
  }
  return out;
}

struct DnsVerdict {
  bool allowed = false;
  bool egress_blocks = false;   // the pod's egress policies deny it (for every kube-dns pod)
  bool ingress_blocks = false;  // kube-dns's ingress policies deny it (for some kube-dns pod)
};

DnsVerdict reach_dns(const AuditContext& ctx, PodId pod, const PortProto& port) {
  const ClusterState& c = ctx.cluster;
  DnsVerdict v;
  v.egress_blocks = true;
  for (PodId dns : ctx.dns_pods) {
    Flow flow{endpoint_of(c, pod), endpoint_of(c, dns), port};
    if (ctx.engine.allowed(flow)) return {true, false, false};
    Explanation e = ctx.engine.explain(flow);
    v.egress_blocks = v.egress_blocks && !e.egress.allowed();
    v.ingress_blocks = v.ingress_blocks || !e.ingress.allowed();
    if (!c.pods[dns].ips.empty()) continue;
    for (std::uint32_t pol : ctx.engine.isolating_policies(pod, Direction::kEgress)) {
      for (const auto& rule : c.policies[pol].egress) {
        for (const auto& peer : rule.peers) {
          if (!peer.ip_block) continue;
          for (const IpAddr& ip : probes_in(*peer.ip_block)) {
            Flow via_ip{flow.src, Endpoint{dns, ip}, port};
            if (ctx.engine.allowed(via_ip)) return {true, false, false};
          }
        }
      }
    }
  }
  return v;
}

void report(AuditContext& ctx, NamespaceId ns, const std::vector<PodId>& pods, bool udp) {
  const ClusterState& c = ctx.cluster;
  std::set<std::uint32_t> egress_policies, ingress_policies;
  bool egress = false, ingress = false;
  std::vector<std::string> names;
  for (PodId p : pods) {
    names.push_back(c.pods[p].name);
    DnsVerdict v = reach_dns(ctx, p, udp ? kDnsUdp : kDnsTcp);
    if (v.egress_blocks) {
      egress = true;
      for (auto pol : ctx.engine.isolating_policies(p, Direction::kEgress)) egress_policies.insert(pol);
    }
    if (v.ingress_blocks) {
      ingress = true;
      for (PodId dns : ctx.dns_pods) {
        for (auto pol : ctx.engine.isolating_policies(dns, Direction::kIngress)) ingress_policies.insert(pol);
      }
    }
  }
  std::vector<std::string> dns_names;
  for (PodId d : ctx.dns_pods) dns_names.push_back(c.pods[d].ref());
  std::string message = std::to_string(pods.size()) + " of " + std::to_string(ctx.ns_pods[ns].size()) +
                        " pod(s) cannot reach kube-dns (" + name_list(dns_names, 2) + ") on " +
                        (udp ? "53/UDP, so name resolution fails" : "53/TCP (53/UDP works), so large answers fail") +
                        ": " + name_list(names);
  std::string blame;
  if (egress) blame = "their egress policies allow no such flow";
  if (ingress) blame += std::string(blame.empty() ? "" : "; ") + "kube-dns's ingress policies do not admit it";
  message += " (" + blame + ")";
  Finding& f = ctx.add("NPV-AUD-004", c.namespaces[ns].name, std::move(message));
  if (!udp) f.severity = Severity::kMedium;
  // A default deny of the namespace first: the usual cause.
  std::vector<std::uint32_t> ordered(egress_policies.begin(), egress_policies.end());
  std::stable_partition(ordered.begin(), ordered.end(), [&](std::uint32_t pol) {
    const auto& p = c.policies[pol];
    return p.ns == c.namespaces[ns].name && p.pod_selector.selects_everything() && p.egress.empty();
  });
  for (auto pol : ordered) f.objects.push_back(ctx.policy_ref(pol));
  for (auto pol : ingress_policies) f.objects.push_back(ctx.policy_ref(pol));
  for (PodId p : pods) f.objects.push_back(ctx.pod_ref(p));
}

}  // namespace

void check_dns(AuditContext& ctx) {
  if (ctx.dns_pods.empty()) return;
  const ClusterState& c = ctx.cluster;
  for (NamespaceId ns = 0; ns < c.namespaces.size(); ++ns) {
    std::vector<PodId> no_udp, no_tcp;
    for (PodId p : ctx.ns_pods[ns]) {
      if (std::find(ctx.dns_pods.begin(), ctx.dns_pods.end(), p) != ctx.dns_pods.end()) continue;
      if (!reach_dns(ctx, p, kDnsUdp).allowed) {
        no_udp.push_back(p);
      } else if (!reach_dns(ctx, p, kDnsTcp).allowed) {
        no_tcp.push_back(p);
      }
    }
    if (!no_udp.empty()) report(ctx, ns, no_udp, true);
    if (!no_tcp.empty()) report(ctx, ns, no_tcp, false);
  }
}

}  // namespace npv::audit
