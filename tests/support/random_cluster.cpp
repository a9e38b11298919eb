#include "support/random_cluster.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace npv::test {
namespace {

using Rng = std::mt19937_64;

// Uniform in [0, n); n > 0. Modulo bias is irrelevant for test data and keeps results portable.
std::size_t below(Rng& rng, std::size_t n) { return static_cast<std::size_t>(rng() % n); }
bool percent(Rng& rng, unsigned p) { return below(rng, 100) < p; }
template <class T>
const T& pick(Rng& rng, std::span<const T> items) {
  return items[below(rng, items.size())];
}

struct LabelKey {
  std::string_view key;
  std::array<std::string_view, 4> values;  // empty entries unused
  std::size_t count;
};

// Small vocabularies so that selectors match often. "legacy" and "pci" are never set on anything,
// so In/Exists on them match nothing and NotIn/DoesNotExist match everything.
constexpr std::array<LabelKey, 5> kPodKeys{{
    {"app", {"web", "api", "db", "cache"}, 4},
    {"tier", {"front", "back"}, 2},
    {"env", {"prod", "dev"}, 2},
    {"team", {"a", "b", "c"}, 3},
    {"legacy", {"yes"}, 1},
}};
constexpr std::array<LabelKey, 4> kNamespaceKeys{{
    {"env", {"prod", "dev", "test"}, 3},
    {"team", {"a", "b"}, 2},
    {"region", {"eu", "us"}, 2},
    {"pci", {"true"}, 1},
}};
constexpr std::size_t kUnsetPodKey = 4;        // index of "legacy"
constexpr std::size_t kUnsetNamespaceKey = 3;  // index of "pci"

constexpr std::array<std::string_view, 4> kDeclaredPortNames{"http", "metrics", "dns", "grpc"};
// Named ports policies refer to: "admin" is never declared by a pod.
constexpr std::array<std::string_view, 5> kPolicyPortNames{"http", "metrics", "dns", "grpc", "admin"};
constexpr std::array<std::uint16_t, 6> kContainerPorts{53, 80, 443, 8080, 8081, 9090};
constexpr std::array<std::uint16_t, 5> kPolicyPorts{53, 80, 443, 8080, 9090};
constexpr std::array<std::uint16_t, 4> kRangeLengths{1, 10, 1000, 8000};
// Flow ports: the ones above, their neighbours (range edges) and ports nothing names.
constexpr std::array<std::uint16_t, 15> kFlowPorts{22,   53,   79,   80,   81,   443,  444, 1000,
                                                   8080, 8081, 8082, 9090, 9091, 9999, 17000};

Protocol random_proto(Rng& rng) {
  std::size_t r = below(rng, 100);
  return r < 65 ? Protocol::kTCP : r < 85 ? Protocol::kUDP : Protocol::kSCTP;
}

IpAddr v4(std::uint32_t value) {
  IpAddr ip;
  ip.family = 4;
  for (int i = 0; i < 4; ++i) ip.bytes[i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
  return ip;
}

// fd00::/16 prefix, `hi` in bytes 2-3, `low` in the last four bytes.
IpAddr v6(std::uint16_t hi, std::uint32_t low) {
  IpAddr ip;
  ip.family = 6;
  ip.bytes[0] = 0xfd;
  ip.bytes[2] = static_cast<std::uint8_t>(hi >> 8);
  ip.bytes[3] = static_cast<std::uint8_t>(hi);
  for (int i = 0; i < 4; ++i) ip.bytes[12 + i] = static_cast<std::uint8_t>(low >> (24 - 8 * i));
  return ip;
}

// Pod number n (from 1): 10.0.0.0 + n and fd00::n.
IpAddr pod_v4(std::uint32_t n) { return v4((10u << 24) + n); }
IpAddr pod_v6(std::uint32_t n) { return v6(0, n); }

// External addresses: inside 10.0.0.0/8 and fd00::/16 (so wide blocks cover pods and externals
// alike) and far away from both.
IpAddr external_ip(Rng& rng, int family) {
  auto low = static_cast<std::uint32_t>(below(rng, 1024));
  if (family == 4) {
    switch (below(rng, 3)) {
      case 0: return v4((10u << 24) + (255u << 16) + low);  // 10.255.x.y
      case 1: return v4((203u << 24) + (0u << 16) + (113u << 8) + (low & 255));  // 203.0.113.y
      default: return v4((172u << 24) + (16u << 16) + low);  // 172.16.x.y
    }
  }
  if (percent(rng, 50)) return v6(0xffff, low);  // fd00:ffff::y
  IpAddr ip;  // 2001:db8::y
  ip.family = 6;
  ip.bytes = {0x20, 0x01, 0x0d, 0xb8};
  ip.bytes[14] = static_cast<std::uint8_t>(low >> 8);
  ip.bytes[15] = static_cast<std::uint8_t>(low);
  return ip;
}

IpAddr masked(IpAddr ip, int prefix) {
  for (int bit = prefix; bit < ip.bit_width(); ++bit) {
    ip.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  }
  return ip;
}

bool cidr_holds(const Cidr& c, const IpAddr& ip) { return masked(ip, c.prefix) == c.base && ip.family == c.base.family; }

struct Generator {
  const RandomClusterSpec& spec;
  Rng rng;
  std::vector<std::string> namespace_names;
  std::vector<IpAddr> pod_ips[2];  // [0] IPv4, [1] IPv6

  std::vector<std::string> values_of(const LabelKey& k) const {
    return {k.values.begin(), k.values.begin() + static_cast<std::ptrdiff_t>(k.count)};
  }

  Labels random_labels(std::span<const LabelKey> keys, std::size_t unset_key) {
    Labels labels;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i == unset_key || !percent(rng, 60)) continue;
      labels.emplace(keys[i].key, keys[i].values[below(rng, keys[i].count)]);
    }
    return labels;
  }

  // 0-3 requirements over `keys`; `with_names` adds kubernetes.io/metadata.name requirements.
  LabelSelector random_selector(std::span<const LabelKey> keys, bool with_names) {
    std::size_t r = below(rng, 100);
    std::size_t n = r < 25 ? 0 : r < 70 ? 1 : r < 95 ? 2 : 3;
    std::vector<Requirement> reqs;
    for (std::size_t i = 0; i < n; ++i) {
      Requirement req;
      std::vector<std::string> vocab;
      if (with_names && percent(rng, 15)) {
        req.key = std::string(kNamespaceNameLabel);
        vocab.push_back(namespace_names[below(rng, namespace_names.size())]);
        vocab.push_back(namespace_names[below(rng, namespace_names.size())]);
      } else {
        const LabelKey& k = keys[below(rng, keys.size())];
        req.key = std::string(k.key);
        vocab = values_of(k);
      }
      vocab.emplace_back("zzz");  // a value nothing carries
      std::size_t op = below(rng, 100);
      std::size_t values = 0;
      if (op < 50) {
        req.op = SelectorOp::kIn;  // one value: what matchLabels becomes
        values = op < 35 ? 1 : 2;
      } else if (op < 70) {
        req.op = SelectorOp::kNotIn;
        values = 1 + below(rng, 2);
      } else {
        req.op = op < 85 ? SelectorOp::kExists : SelectorOp::kDoesNotExist;
      }
      for (std::size_t v = 0; v < values; ++v) {
        // "zzz" (last) one time in ten.
        std::size_t idx = percent(rng, 10) ? vocab.size() - 1 : below(rng, vocab.size() - 1);
        req.values.push_back(vocab[idx]);
      }
      std::sort(req.values.begin(), req.values.end());
      req.values.erase(std::unique(req.values.begin(), req.values.end()), req.values.end());
      reqs.push_back(std::move(req));
    }
    return LabelSelector(std::move(reqs));
  }

  IpAddr random_host_in(const Cidr& c) {
    IpAddr ip = c.base;
    for (int bit = c.prefix; bit < ip.bit_width(); ++bit) {
      if (rng() & 1) ip.bytes[bit / 8] |= static_cast<std::uint8_t>(0x80 >> (bit % 8));
    }
    return ip;
  }

  // An address in `c`, preferably a pod's, so except blocks carve pods out.
  IpAddr anchor_in(const Cidr& c) {
    const auto& ips = pod_ips[c.base.family == 4 ? 0 : 1];
    for (int attempt = 0; attempt < 4 && !ips.empty(); ++attempt) {
      const IpAddr& ip = ips[below(rng, ips.size())];
      if (cidr_holds(c, ip)) return ip;
    }
    return random_host_in(c);
  }

  IpBlock random_ip_block() {
    int family = percent(rng, 65) ? 4 : 6;
    const auto& ips = pod_ips[family == 4 ? 0 : 1];
    IpAddr anchor = percent(rng, 60) && !ips.empty() ? ips[below(rng, ips.size())] : external_ip(rng, family);
    static constexpr std::array<int, 9> kV4Prefixes{0, 8, 16, 24, 26, 28, 29, 30, 32};
    static constexpr std::array<int, 9> kV6Prefixes{0, 16, 32, 112, 120, 122, 124, 126, 128};
    int prefix = family == 4 ? pick<int>(rng, kV4Prefixes) : pick<int>(rng, kV6Prefixes);
    IpBlock block;
    block.cidr = {masked(anchor, prefix), prefix};
    int width = anchor.bit_width();
    std::size_t r = below(rng, 100);
    std::size_t excepts = r < 40 ? 0 : r < 80 ? 1 : 2;
    for (std::size_t i = 0; i < excepts && prefix < width; ++i) {
      int ex_prefix = percent(rng, 30)
                          ? prefix + 1 + static_cast<int>(below(rng, static_cast<std::size_t>(std::min(4, width - prefix))))
                          : std::max(prefix + 1, width - static_cast<int>(below(rng, 7)));
      block.except.push_back({masked(anchor_in(block.cidr), ex_prefix), ex_prefix});
    }
    return block;
  }

  PolicyPeer random_peer() {
    PolicyPeer peer;
    std::size_t r = below(rng, 100);
    if (r < 30) {
      peer.pod_selector = random_selector(kPodKeys, false);
    } else if (r < 50) {
      peer.namespace_selector = random_selector(kNamespaceKeys, true);
    } else if (r < 75) {
      peer.pod_selector = random_selector(kPodKeys, false);
      peer.namespace_selector = random_selector(kNamespaceKeys, true);
    } else {
      peer.ip_block = random_ip_block();
    }
    return peer;
  }

  PolicyPort random_policy_port() {
    PolicyPort pp;
    pp.proto = random_proto(rng);
    std::size_t r = below(rng, 100);
    if (r < 15) {
      pp.kind = PolicyPort::Kind::kAllPorts;
    } else if (r < 55) {
      pp.kind = PolicyPort::Kind::kNumber;
      pp.port = pp.end_port = pick<std::uint16_t>(rng, kPolicyPorts);
    } else if (r < 75) {
      pp.kind = PolicyPort::Kind::kNumber;
      pp.port = pick<std::uint16_t>(rng, kPolicyPorts);
      pp.end_port = static_cast<std::uint16_t>(std::min<int>(65535, pp.port + pick<std::uint16_t>(rng, kRangeLengths)));
    } else {
      pp.kind = PolicyPort::Kind::kNamed;
      pp.name = std::string(pick<std::string_view>(rng, kPolicyPortNames));
    }
    return pp;
  }

  PolicyRule random_rule() {
    PolicyRule rule;
    if (!percent(rng, 20)) {
      for (std::size_t n = 1 + below(rng, 3); n > 0; --n) rule.peers.push_back(random_peer());
    }
    if (!percent(rng, 30)) {
      for (std::size_t n = 1 + below(rng, 3); n > 0; --n) rule.ports.push_back(random_policy_port());
    }
    return rule;
  }

  // 0-3 rules when the direction is affected (0: deny all); else, sometimes, rules to be ignored.
  std::vector<PolicyRule> random_rules(bool affected) {
    std::size_t n = affected ? below(rng, 4) : percent(rng, 25) ? 1 + below(rng, 2) : 0;
    std::vector<PolicyRule> rules;
    for (; n > 0; --n) rules.push_back(random_rule());
    return rules;
  }

  void add_pod(ClusterState& c, std::uint32_t n) {
    Pod pod;
    pod.ns = namespace_names[below(rng, namespace_names.size())];
    char name[24];
    std::snprintf(name, sizeof(name), "pod-%05u", n);
    pod.name = name;
    pod.labels = random_labels(kPodKeys, kUnsetPodKey);
    std::size_t r = below(rng, 100);
    if (r < spec.no_ip_percent) {
      pod.kind = percent(rng, 50) ? "Deployment" : "StatefulSet";
    } else if (r < spec.no_ip_percent + spec.ipv6_only_percent) {
      pod.ips.push_back(pod_v6(n));
    } else {
      pod.ips.push_back(pod_v4(n));
      if (percent(rng, spec.dual_stack_percent)) pod.ips.push_back(pod_v6(n));
    }
    for (const IpAddr& ip : pod.ips) pod_ips[ip.family == 4 ? 0 : 1].push_back(ip);
    std::array<std::string_view, 4> names = kDeclaredPortNames;
    std::size_t declared = 0;
    for (std::size_t k = below(rng, 4); k > 0; --k) {
      ContainerPort cp;
      cp.port = pick<std::uint16_t>(rng, kContainerPorts);
      cp.proto = random_proto(rng);
      if (!percent(rng, 20)) {  // named; names are unique within a pod, as Kubernetes requires
        std::swap(names[declared], names[declared + below(rng, names.size() - declared)]);
        cp.name = std::string(names[declared++]);
      }
      pod.ports.push_back(std::move(cp));
    }
    c.pods.push_back(std::move(pod));
  }

  void add_policy(ClusterState& c, std::uint32_t n, std::size_t policed_namespaces) {
    NetworkPolicy pol;
    pol.ns = namespace_names[below(rng, policed_namespaces)];
    char name[24];
    std::snprintf(name, sizeof(name), "np-%05u", n);
    pol.name = name;
    if (!percent(rng, 30)) pol.pod_selector = random_selector(kPodKeys, false);
    std::size_t r = below(rng, 100);
    pol.affects_ingress = r < 40 || r >= 65;
    pol.affects_egress = r >= 40;
    pol.ingress = random_rules(pol.affects_ingress);
    pol.egress = random_rules(pol.affects_egress);
    pol.origin = "random";
    c.policies.push_back(std::move(pol));
  }

  // A tier policy: every kind and action, small priorities (so ties occur), namespaces / pods /
  // networks / nodes peers, numbered, ranged and named ports.
  TierPolicy random_tier_policy(std::uint32_t n, bool& baseline_anp_taken) {
    TierPolicy pol;
    std::size_t kind = below(rng, 100);
    pol.api = kind < 40 ? TierApi::kAdminNetworkPolicy : kind < 50 ? TierApi::kBaselineAdminNetworkPolicy
                                                                   : TierApi::kClusterNetworkPolicy;
    if (pol.api == TierApi::kBaselineAdminNetworkPolicy && baseline_anp_taken) pol.api = TierApi::kClusterNetworkPolicy;
    char name[24];
    std::snprintf(name, sizeof(name), "tier-%05u", n);
    pol.name = name;
    if (pol.api == TierApi::kBaselineAdminNetworkPolicy) {
      baseline_anp_taken = true;
      pol.name = "default";
      pol.tier = TierKind::kBaseline;
    } else {
      pol.tier = pol.api == TierApi::kAdminNetworkPolicy || percent(rng, 60) ? TierKind::kAdmin : TierKind::kBaseline;
      pol.priority = static_cast<int>(below(rng, 8));
    }
    pol.subject.namespace_selector = random_selector(kNamespaceKeys, true);
    if (percent(rng, 50)) pol.subject.pod_selector = random_selector(kPodKeys, false);
    const bool pass_ok = pol.api != TierApi::kBaselineAdminNetworkPolicy;
    for (int d = 0; d < 2; ++d) {
      auto& rules = d == 0 ? pol.ingress : pol.egress;
      for (std::size_t k = below(rng, 4); k > 0; --k) {
        TierRule rule;
        std::size_t a = below(rng, 100);
        rule.action = a < 40 ? TierAction::kAllow : a < 80 || !pass_ok ? TierAction::kDeny : TierAction::kPass;
        for (std::size_t m = 1 + below(rng, 2); m > 0; --m) rule.peers.push_back(random_tier_peer(d == 1));
        if (percent(rng, 50)) {
          bool named_ok = true;
          for (const auto& peer : rule.peers) named_ok = named_ok && (peer.kind == TierPeer::Kind::kNamespaces || peer.kind == TierPeer::Kind::kPods);
          for (std::size_t m = 1 + below(rng, 2); m > 0; --m) rule.ports.push_back(random_tier_port(named_ok));
        }
        rules.push_back(std::move(rule));
      }
    }
    pol.origin = "random";
    return pol;
  }

  TierPeer random_tier_peer(bool egress) {
    TierPeer peer;
    std::size_t r = below(rng, 100);
    if (r < 35) {
      peer.kind = TierPeer::Kind::kNamespaces;
      peer.namespace_selector = random_selector(kNamespaceKeys, true);
    } else if (r < 70 || !egress) {
      peer.kind = TierPeer::Kind::kPods;
      peer.namespace_selector = random_selector(kNamespaceKeys, true);
      peer.pod_selector = random_selector(kPodKeys, false);
    } else if (r < 95) {
      peer.kind = TierPeer::Kind::kNetworks;
      for (std::size_t m = 1 + below(rng, 2); m > 0; --m) peer.networks.push_back(random_ip_block().cidr);
    } else {
      peer.kind = TierPeer::Kind::kNodes;
    }
    return peer;
  }

  TierPort random_tier_port(bool named_ok) {
    TierPort tp;
    tp.proto = random_proto(rng);
    std::size_t r = below(rng, 100);
    if (r < 45 || (!named_ok && r >= 75)) {
      tp.port = tp.end_port = pick<std::uint16_t>(rng, kPolicyPorts);
    } else if (r < 75) {
      tp.port = pick<std::uint16_t>(rng, kPolicyPorts);
      tp.end_port = static_cast<std::uint16_t>(std::min<int>(65535, tp.port + pick<std::uint16_t>(rng, kRangeLengths)));
    } else {
      tp.kind = TierPort::Kind::kNamed;
      tp.name = std::string(pick<std::string_view>(rng, kPolicyPortNames));
    }
    return tp;
  }

  ClusterState run() {
    ClusterState c;
    std::size_t ns_count = std::max<std::size_t>(1, spec.namespaces);
    for (std::size_t i = 0; i < ns_count; ++i) {
      char name[24];
      std::snprintf(name, sizeof(name), "ns-%04zu", i);
      namespace_names.emplace_back(name);
      Labels labels = random_labels(kNamespaceKeys, kUnsetNamespaceKey);
      if (percent(rng, spec.undeclared_namespace_percent)) continue;
      c.namespaces.push_back({name, std::move(labels), true, "random"});
    }
    for (std::uint32_t n = 1; n <= spec.pods; ++n) add_pod(c, n);
    std::size_t policed = std::max<std::size_t>(1, ns_count * (100 - std::min(spec.unpoliced_namespace_percent, 99u)) / 100);
    for (std::uint32_t n = 1; n <= spec.policies; ++n) add_policy(c, n, policed);
    // Last, so that a spec without tier policies gives the cluster it gave before they existed.
    bool baseline_anp_taken = false;
    for (std::uint32_t n = 1; n <= spec.tier_policies; ++n) c.tier_policies.push_back(random_tier_policy(n, baseline_anp_taken));
    c.finalize();
    return c;
  }
};

std::string selector_text(const std::optional<LabelSelector>& s) { return s ? s->to_string() : "-"; }

}  // namespace

ClusterState random_cluster(const RandomClusterSpec& spec) {
  Generator g{spec, Rng(spec.seed), {}, {}};
  return g.run();
}

Flow random_flow(const ClusterState& cluster, std::mt19937_64& rng) {
  auto pod_endpoint = [&](PodId id) {
    Endpoint e = Endpoint::of_pod(id);
    const auto& ips = cluster.pods[id].ips;
    if (!ips.empty() && percent(rng, 30)) e.ip = ips[below(rng, ips.size())];
    return e;
  };
  auto external = [&] { return Endpoint::of_ip(external_ip(rng, percent(rng, 65) ? 4 : 6)); };
  auto any_pod = [&] { return static_cast<PodId>(below(rng, cluster.pods.size())); };
  Flow flow;
  std::size_t r = below(rng, 100);
  if (cluster.pods.empty()) {
    flow.src = external();
    flow.dst = external();
  } else if (r < 70) {
    PodId src = any_pod();
    flow.src = pod_endpoint(src);
    flow.dst = pod_endpoint(percent(rng, 3) ? src : any_pod());
  } else if (r < 85) {
    flow.src = pod_endpoint(any_pod());
    flow.dst = external();
  } else {
    flow.src = external();
    flow.dst = pod_endpoint(any_pod());
  }
  flow.port = {pick<std::uint16_t>(rng, kFlowPorts), random_proto(rng)};
  return flow;
}

std::string describe_flow(const ClusterState& cluster, const Flow& flow) {
  auto endpoint = [&](const Endpoint& e) {
    std::string out = e.pod ? cluster.pods[*e.pod].ref() : "";
    if (e.ip) out += e.pod ? " (" + e.ip->to_string() + ")" : e.ip->to_string();
    return out.empty() ? std::string("?") : out;
  };
  return endpoint(flow.src) + " -> " + endpoint(flow.dst) + " " + flow.port.to_string();
}

std::string describe_policy(const NetworkPolicy& policy) {
  std::string out = policy.ref() + ": podSelector " + policy.pod_selector.to_string() + ", policyTypes [";
  out += policy.affects_ingress ? (policy.affects_egress ? "Ingress, Egress]" : "Ingress]") : "Egress]";
  auto rules = [&](const char* dir, const std::vector<PolicyRule>& list) {
    for (std::size_t r = 0; r < list.size(); ++r) {
      out += "\n  " + std::string(dir) + "[" + std::to_string(r) + "]: peers [";
      for (const PolicyPeer& p : list[r].peers) {
        if (p.ip_block) {
          out += " {ipBlock " + p.ip_block->cidr.to_string();
          for (const Cidr& e : p.ip_block->except) out += " except " + e.to_string();
          out += "}";
        } else {
          out += " {pod " + selector_text(p.pod_selector) + " ns " + selector_text(p.namespace_selector) + "}";
        }
      }
      out += " ] ports [";
      for (const PolicyPort& pp : list[r].ports) {
        out += " ";
        if (pp.kind == PolicyPort::Kind::kNamed) out += pp.name;
        if (pp.kind == PolicyPort::Kind::kAllPorts) out += "*";
        if (pp.kind == PolicyPort::Kind::kNumber) out += std::to_string(pp.port);
        if (pp.kind == PolicyPort::Kind::kNumber && pp.end_port != pp.port) out += "-" + std::to_string(pp.end_port);
        out += std::string("/") + to_string(pp.proto);
      }
      out += " ]";
    }
  };
  rules("ingress", policy.ingress);
  rules("egress", policy.egress);
  return out;
}

std::string describe_pod(const ClusterState& cluster, PodId id) {
  const Pod& pod = cluster.pods[id];
  std::string out = pod.ref() + " labels {";
  for (const auto& [k, v] : pod.labels) out += " " + k + "=" + v;
  out += " } ns-labels {";
  for (const Namespace& ns : cluster.namespaces) {
    if (ns.name != pod.ns) continue;
    for (const auto& [k, v] : ns.labels) out += " " + k + "=" + v;
  }
  out += " } ips [";
  for (const IpAddr& ip : pod.ips) out += " " + ip.to_string();
  out += " ] ports [";
  for (const ContainerPort& cp : pod.ports) {
    out += " " + (cp.name.empty() ? std::string() : cp.name + ":") + std::to_string(cp.port) + "/" + to_string(cp.proto);
  }
  return out + " ]";
}

}  // namespace npv::test
