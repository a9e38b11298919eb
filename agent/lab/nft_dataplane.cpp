// NetworkPolicies compiled to one nftables ruleset per lab pod (npv/nft_dataplane.hpp).
//
// An independent reading of networking.k8s.io/v1 NetworkPolicy (it shares only the model with the
// PolicyEngine). Rules implemented, named by the branches below:
//   R1 Isolation: a pod is isolated for ingress (egress) iff some policy in the pod's own namespace
//      selects it (spec.podSelector matches its labels) and lists Ingress (Egress) in its
//      policyTypes (after defaulting). A direction no policy isolates allows everything.
//   R2 Union: in an isolated direction a connection is allowed iff at least one rule of one
//      isolating policy allows it; policies and rules only add, their order does not matter.
//   R3 A rule allows a connection iff one of its peers matches the remote end (no peers: every
//      remote end) and one of its ports matches (no ports: every port of every protocol).
//   R4 Selector peers: podSelector alone selects pods of the policy's namespace; namespaceSelector
//      alone every pod of the selected namespaces; both, the selected pods of the selected
//      namespaces. A selected pod matches by every one of its IPs.
//   R5 ipBlock peers match by IP (pod IPs included): inside cidr and inside no `except` prefix.
//   R6 Ports: the protocol defaults to TCP (done by the parser); no port: every port of the
//      protocol; port..endPort inclusive; a named port is the container port of that name and
//      protocol on the DESTINATION pod; a name the destination does not declare matches nothing.
//   R7 Egress named ports therefore resolve per destination pod: one accept per (destination
//      addresses, resolved ports). Non-pod destinations never match a named port.
//   R8 Traffic of a pod to itself is always allowed (loopback and its own addresses), and so are
//      the replies of allowed connections (conntrack established/related).
//   R9 Lab plumbing, not policy: IPv6 neighbour discovery and MLD are always accepted (without
//      them no IPv6 connection could be attempted at all; ARP is outside the inet family).
#include "npv/nft_dataplane.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <tuple>
#include <vector>

#include "lab/nft_text.hpp"
#include "lab/nft_tiers.hpp"

namespace npv {

const char* to_string(Dataplane d) {
  switch (d) {
    case Dataplane::kNone: return "none";
    case Dataplane::kEnforcing: return "enforcing";
    case Dataplane::kIngressOnly: return "ingress-only";
    case Dataplane::kIgnoreNamedPorts: return "ignore-named-ports";
    case Dataplane::kIgnoreExcept: return "ignore-except";
    case Dataplane::kTcpOnly: return "tcp-only";
    case Dataplane::kStale: return "stale";
    case Dataplane::kIgnoreAdminDeny: return "ignore-admin-deny";
  }
  return "none";
}

std::optional<Dataplane> parse_dataplane(std::string_view text) {
  for (Dataplane d : {Dataplane::kNone, Dataplane::kEnforcing, Dataplane::kIngressOnly, Dataplane::kIgnoreNamedPorts,
                      Dataplane::kIgnoreExcept, Dataplane::kTcpOnly, Dataplane::kStale, Dataplane::kIgnoreAdminDeny}) {
    if (text == to_string(d)) return d;
  }
  return std::nullopt;
}

namespace {

using nft::Side;

constexpr std::array<Protocol, kProtocolCount> kProtocols = {Protocol::kTCP, Protocol::kUDP, Protocol::kSCTP};

// The remote ends one rule's peers allow.
struct Peers {
  bool any = false;           // no peers: every address (R3)
  std::set<IpAddr> pod_ips;   // IPs of the pods selector peers select (R4)
  std::vector<IpBlock> blocks;  // ipBlock peers (R5); `except` already cleared in kIgnoreExcept

  bool contains(const IpAddr& ip) const {
    return any || pod_ips.contains(ip) ||
           std::any_of(blocks.begin(), blocks.end(), [&](const IpBlock& b) { return b.contains(ip); });
  }
};

// The ports one rule allows, per protocol.
struct Ports {
  bool any = false;  // no ports: every protocol and port (R3)
  std::array<bool, kProtocolCount> all{};  // every port of the protocol
  std::array<std::vector<nft::PortRange>, kProtocolCount> ranges;

  void add(Protocol p, std::uint16_t first, std::uint16_t last) {
    ranges[static_cast<int>(p)].push_back({first, last});
  }
};

// One chain's accept rules, without duplicates, in the order they were derived.
class RuleList {
 public:
  void add(const std::string& match, const std::string& comment) {
    std::string line = nft::join_match(match, "accept");
    if (!comment.empty()) line += " comment \"" + comment.substr(0, 120) + "\"";
    if (seen_.insert(line).second) lines_.push_back(std::move(line));
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::set<std::string> seen_;
  std::vector<std::string> lines_;
};

class Compiler {
 public:
  Compiler(const ClusterState& cluster, const DataplaneOptions& options) : cluster_(cluster), options_(options) {
    for (PodId id = 0; id < cluster.pods.size(); ++id) {
      if (cluster.pods[id].ips.empty()) continue;  // not a lab pod: neither subject nor peer
      lab_pods_.push_back(id);
    }
  }

  const std::vector<PodId>& lab_pods() const { return lab_pods_; }
  std::string compile(PodId id) const;

 private:
  // The policies this dataplane enforces at all (kStale: only those synced before the cutoff).
  bool enforced(const NetworkPolicy& pol) const {
    if (options_.mode != Dataplane::kStale) return true;
    // A policy without timestamp counts as new; so does every policy when the cutoff is invalid.
    return !pol.creation_timestamp.empty() && is_rfc3339_utc(options_.synced_before) &&
           pol.creation_timestamp < options_.synced_before;
  }

  const Labels& namespace_labels(const Pod& pod) const {
    static const Labels kNone;
    auto ns = cluster_.find_namespace(pod.ns);
    return ns ? cluster_.namespaces[*ns].labels : kNone;
  }

  // R4: does `peer` of a policy in namespace `policy_ns` select pod `q`?
  bool peer_selects(const std::string& policy_ns, const PolicyPeer& peer, const Pod& q) const {
    if (peer.namespace_selector) {
      if (!peer.namespace_selector->matches(namespace_labels(q))) return false;
    } else if (q.ns != policy_ns) {
      return false;
    }
    return !peer.pod_selector || peer.pod_selector->matches(q.labels);
  }

  Peers resolve_peers(const NetworkPolicy& pol, const std::vector<PolicyPeer>& peers) const {
    Peers out;
    out.any = peers.empty();  // R3
    for (const auto& peer : peers) {
      if (peer.ip_block) {  // R5
        IpBlock block = *peer.ip_block;
        if (options_.mode == Dataplane::kIgnoreExcept) block.except.clear();  // fault: except ignored
        out.blocks.push_back(std::move(block));
        continue;
      }
      for (PodId id : lab_pods_) {  // R4
        const Pod& q = cluster_.pods[id];
        if (peer_selects(pol.ns, peer, q)) out.pod_ips.insert(q.ips.begin(), q.ips.end());
      }
    }
    return out;
  }

  // The rule's port entries as this dataplane sees them: kIgnoreNamedPorts drops named entries,
  // and a rule left with none then allows every port (its `ports` list is empty).
  std::vector<PolicyPort> effective_ports(const PolicyRule& rule) const {
    std::vector<PolicyPort> out;
    for (const auto& p : rule.ports) {
      if (options_.mode == Dataplane::kIgnoreNamedPorts && p.kind == PolicyPort::Kind::kNamed) continue;
      out.push_back(p);
    }
    return out;
  }

  // R6: the numeric and whole-protocol entries; named entries resolve against `destination` when
  // given (ingress: the pod itself) and are skipped otherwise (egress: see R7).
  static Ports resolve_ports(const std::vector<PolicyPort>& entries, const Pod* destination) {
    Ports out;
    out.any = entries.empty();  // R3
    for (const auto& p : entries) {
      switch (p.kind) {
        case PolicyPort::Kind::kAllPorts: out.all[static_cast<int>(p.proto)] = true; break;
        case PolicyPort::Kind::kNumber: out.add(p.proto, p.port, p.end_port); break;
        case PolicyPort::Kind::kNamed:
          if (destination) {
            if (auto number = destination->named_port(p.name, p.proto)) out.add(p.proto, *number, *number);
          }
          break;
      }
    }
    return out;
  }

  static std::vector<std::string> peer_matches(const Peers& peers, Side side) {
    if (peers.any) return {""};
    std::vector<std::string> out = nft::ip_set_matches(peers.pod_ips, side);
    std::set<std::string> blocks;
    for (const auto& b : peers.blocks) blocks.insert(nft::ip_block_match(b, side));
    out.insert(out.end(), blocks.begin(), blocks.end());
    return out;
  }

  static std::vector<std::string> port_matches(const Ports& ports) {
    if (ports.any) return {""};
    std::vector<std::string> out;
    for (Protocol p : kProtocols) {
      const int i = static_cast<int>(p);
      if (ports.all[i]) out.push_back(nft::proto_match(p));
      else if (!ports.ranges[i].empty()) out.push_back(nft::port_match(p, ports.ranges[i]));
    }
    return out;
  }

  // R3: every (peer match, port match) pair is one accept. A rule whose peers or ports resolve to
  // nothing yields no accept at all.
  static void add_cross(RuleList& rules, const Peers& peers, Side side, const Ports& ports, const std::string& comment) {
    const auto addrs = peer_matches(peers, side);
    const auto port_list = port_matches(ports);
    for (const auto& a : addrs) {
      for (const auto& p : port_list) rules.add(nft::join_match(a, p), comment);
    }
  }

  void add_ingress_rule(RuleList& rules, const NetworkPolicy& pol, std::size_t i, const Pod& self) const {
    const PolicyRule& rule = pol.ingress[i];
    const std::string comment = pol.ref() + " ingress[" + std::to_string(i) + "]";
    // R6: named ports resolve against this pod, the destination of every ingress connection.
    add_cross(rules, resolve_peers(pol, rule.peers), Side::kSource, resolve_ports(effective_ports(rule), &self),
              comment);
  }

  void add_egress_rule(RuleList& rules, const NetworkPolicy& pol, std::size_t i) const;

  const ClusterState& cluster_;
  const DataplaneOptions& options_;
  std::vector<PodId> lab_pods_;
};

void Compiler::add_egress_rule(RuleList& rules, const NetworkPolicy& pol, std::size_t i) const {
  const PolicyRule& rule = pol.egress[i];
  const std::string comment = pol.ref() + " egress[" + std::to_string(i) + "]";
  const std::vector<PolicyPort> entries = effective_ports(rule);
  const Peers peers = resolve_peers(pol, rule.peers);

  std::vector<PolicyPort> fixed, named;
  for (const auto& p : entries) (p.kind == PolicyPort::Kind::kNamed ? named : fixed).push_back(p);
  // Numeric and whole-protocol entries apply to every allowed destination; with no entries at
  // all the rule allows every port (R3). A rule of named entries only has no such part.
  if (entries.empty() || !fixed.empty()) add_cross(rules, peers, Side::kDestination, resolve_ports(fixed, nullptr), comment);
  if (named.empty()) return;

  // R7: each allowed destination pod address gets the ports its pod declares under those names.
  std::map<IpAddr, std::array<std::set<std::uint16_t>, kProtocolCount>> by_ip;
  for (PodId id : lab_pods_) {
    const Pod& q = cluster_.pods[id];
    for (const auto& ip : q.ips) {
      if (!peers.contains(ip)) continue;
      for (const auto& p : named) {
        if (auto number = q.named_port(p.name, p.proto)) by_ip[ip][static_cast<int>(p.proto)].insert(*number);
      }
    }
  }
  // Addresses with the same ports share one rule: (family, protocol, ports) -> addresses.
  std::map<std::tuple<int, int, std::vector<std::uint16_t>>, std::set<IpAddr>> groups;
  for (const auto& [ip, per_proto] : by_ip) {
    for (int p = 0; p < kProtocolCount; ++p) {
      if (per_proto[p].empty()) continue;
      groups[{ip.family, p, std::vector<std::uint16_t>(per_proto[p].begin(), per_proto[p].end())}].insert(ip);
    }
  }
  for (const auto& [key, ips] : groups) {
    const auto& [family, proto, numbers] = key;
    std::vector<nft::PortRange> ranges;
    for (auto n : numbers) ranges.push_back({n, n});
    const auto addrs = nft::ip_set_matches(ips, Side::kDestination);  // one family: one match
    for (const auto& a : addrs) {
      rules.add(nft::join_match(a, nft::port_match(static_cast<Protocol>(proto), ranges)), comment + " named ports");
    }
  }
}

// The plumbing every chain that filters at all starts with.
std::vector<std::string> plumbing(const Pod& self, Side side, Dataplane mode) {
  std::vector<std::string> lines;
  if (mode == Dataplane::kTcpOnly) lines.push_back("meta l4proto { udp, sctp } accept comment \"fault tcp-only\"");
  lines.push_back("ct state established,related accept");  // R8: replies of allowed connections
  lines.push_back(std::string(side == Side::kSource ? "iif" : "oif") + " \"lo\" accept");  // R8
  const std::set<IpAddr> own(self.ips.begin(), self.ips.end());
  for (const auto& m : nft::ip_set_matches(own, side)) lines.push_back(m + " accept");  // R8
  // R9: neighbour discovery and multicast listener reports (IPv6 plumbing).
  lines.push_back(
      "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query, mld-listener-report, "
      "mld2-listener-report } accept");
  return lines;
}

// A pod and direction without tier rules: one hooked chain (isolated: R2 accepts then drop).
// With tier rules (nft_tiers.hpp): the hooked chain holds the Admin tier and goes to `<name>_tail`,
// which holds the NetworkPolicy rules and drop (isolated) or the Baseline tier (not isolated).
std::string chain_text(const char* name, const char* hook, bool isolated, const std::vector<std::string>& policy_rules,
                       const Pod& self, Side side, Dataplane mode, const nft::TierLines& tiers) {
  std::string out = std::string("  chain ") + name + " {\n    type filter hook " + hook +
                    " priority 0; policy accept;\n";
  std::vector<std::string> tail;
  if (isolated) {
    tail = policy_rules;
    tail.push_back("counter drop");  // R2: nothing else is allowed
  } else {
    tail = tiers.baseline;
  }
  if (tiers.empty()) {
    if (isolated) {
      for (const auto& l : plumbing(self, side, mode)) out += "    " + l + "\n";
      for (const auto& l : tail) out += "    " + l + "\n";
    }
    return out + "  }\n";
  }
  for (const auto& l : plumbing(self, side, mode)) out += "    " + l + "\n";
  for (const auto& l : tiers.admin) out += "    " + l + "\n";
  out += "    goto " + std::string(name) + "_tail\n  }\n  chain " + name + "_tail {\n";
  for (const auto& l : tail) out += "    " + l + "\n";
  return out + "  }\n";
}

std::string Compiler::compile(PodId id) const {
  const Pod& self = cluster_.pods[id];
  bool ingress_isolated = false, egress_isolated = false;
  RuleList ingress, egress;
  for (const auto& pol : cluster_.policies) {
    // R1: only policies of the pod's own namespace that select it.
    if (!enforced(pol) || pol.ns != self.ns || !pol.pod_selector.matches(self.labels)) continue;
    if (pol.affects_ingress) {
      ingress_isolated = true;
      for (std::size_t i = 0; i < pol.ingress.size(); ++i) add_ingress_rule(ingress, pol, i, self);  // R2
    }
    // kIngressOnly: egress policies are never enforced.
    if (pol.affects_egress && options_.mode != Dataplane::kIngressOnly) {
      egress_isolated = true;
      for (std::size_t i = 0; i < pol.egress.size(); ++i) add_egress_rule(egress, pol, i);  // R2
    }
  }
  std::string out = "# npv lab dataplane " + std::string(to_string(options_.mode)) + ": pod " + self.ref() + "\n";
  // Declaring and deleting the table first makes loading this file replace a previous ruleset in
  // one transaction (and work when there is none).
  out += "table inet npv_policy\ndelete table inet npv_policy\ntable inet npv_policy {\n";
  const nft::TierLines ingress_tiers = nft::tier_lines(cluster_, lab_pods_, id, true, options_.mode, "ingress_tail");
  // kIngressOnly: egress is never enforced, tiers included.
  const nft::TierLines egress_tiers = options_.mode == Dataplane::kIngressOnly
                                          ? nft::TierLines{}
                                          : nft::tier_lines(cluster_, lab_pods_, id, false, options_.mode, "egress_tail");
  out += chain_text("ingress", "input", ingress_isolated, ingress.lines(), self, Side::kSource, options_.mode, ingress_tiers);
  out += chain_text("egress", "output", egress_isolated, egress.lines(), self, Side::kDestination, options_.mode,
                    egress_tiers);
  return out + "}\n";
}

}  // namespace

std::map<PodId, std::string> compile_nft(const ClusterState& cluster, const DataplaneOptions& options) {
  std::map<PodId, std::string> out;
  if (options.mode == Dataplane::kNone) return out;
  const Compiler compiler(cluster, options);
  for (PodId id : compiler.lab_pods()) out.emplace(id, compiler.compile(id));
  return out;
}

}  // namespace npv
