// Planning a lab: which hosts, which addresses and prefixes, which listeners and probes.
#include "lab/lab_plan.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace npv::lab {
namespace {

constexpr int kMaxV4Prefix = 30;   // NetnsLab accepts /1-/30 and /1-/126
constexpr int kMaxV6Prefix = 126;

bool bit(const IpAddr& ip, int i) { return (ip.bytes[static_cast<std::size_t>(i / 8)] >> (7 - i % 8)) & 1; }

// True when every bit of `ip` from position `prefix` on equals `value`.
bool host_bits_all(const IpAddr& ip, int prefix, bool value) {
  for (int i = prefix; i < ip.bit_width(); ++i) {
    if (bit(ip, i) != value) return false;
  }
  return true;
}

// `ip` with every bit from `prefix` on cleared, as "a.b.c.d/prefix".
std::string subnet_of(IpAddr ip, int prefix) {
  for (int i = prefix; i < ip.bit_width(); ++i) {
    ip.bytes[static_cast<std::size_t>(i / 8)] &= static_cast<std::uint8_t>(~(1u << (7 - i % 8)));
  }
  return ip.to_string() + "/" + std::to_string(prefix);
}

std::string host_route(const IpAddr& ip) { return ip.to_string() + "/" + std::to_string(ip.bit_width()); }

// Why `ip` cannot be a lab host's address, or nullopt.
std::optional<std::string> unusable(const IpAddr& ip) {
  const auto& b = ip.bytes;
  if (ip.family == 4) {
    if (b[0] == 127) return "a loopback address";
    if (b[0] >= 224 && b[0] <= 239) return "a multicast address";
    if (b[0] == 0) return "in 0.0.0.0/8 (this network)";
    if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255) return "the broadcast address";
    return std::nullopt;
  }
  const bool high_zero = std::all_of(b.begin(), b.begin() + 15, [](std::uint8_t x) { return x == 0; });
  if (high_zero && b[15] == 0) return "the unspecified address";
  if (high_zero && b[15] == 1) return "a loopback address";
  if (b[0] == 0xff) return "a multicast address";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "a link-local address";
  if (std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; }) && b[10] == 0xff && b[11] == 0xff) {
    return "an IPv4-mapped address";
  }
  return std::nullopt;
}

std::uint32_t v4_value(const IpAddr& ip) {
  return static_cast<std::uint32_t>(ip.bytes[0]) << 24 | static_cast<std::uint32_t>(ip.bytes[1]) << 16 |
         static_cast<std::uint32_t>(ip.bytes[2]) << 8 | ip.bytes[3];
}

IpAddr v4_of(std::uint32_t value) {
  IpAddr ip;
  ip.family = 4;
  for (int i = 0; i < 4; ++i) ip.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
  return ip;
}

// Hands out the host addresses of an IPv4 block in order, skipping those in use.
class Allocator {
 public:
  Allocator(const Cidr& block, std::set<IpAddr> used) : used_(std::move(used)) {
    const std::uint64_t size = std::uint64_t{1} << (32 - block.prefix);
    next_ = std::uint64_t{v4_value(block.base)} + 1;
    end_ = std::uint64_t{v4_value(block.base)} + size - 1;  // the all-ones address is excluded
    block_ = block.to_string();
  }
  Result<IpAddr> next(const std::string& for_whom) {
    for (; next_ < end_; ++next_) {
      IpAddr ip = v4_of(static_cast<std::uint32_t>(next_));
      if (used_.insert(ip).second) return ip;
    }
    return make_error(Errc::kBadInput, "lab CIDR " + block_ + " has no free address left for " + for_whom +
                                           " (pass a larger --lab-cidr)");
  }

 private:
  std::set<IpAddr> used_;
  std::uint64_t next_ = 0, end_ = 0;
  std::string block_;
};

Result<Cidr> parse_lab_cidr(const std::string& text) {
  auto block = Cidr::parse(text);
  if (!block) return make_error(Errc::kBadInput, "lab CIDR " + block.error());
  if (block->base.family != 4 || block->prefix > kMaxV4Prefix || block->prefix < 8) {
    return make_error(Errc::kBadInput, "lab CIDR \"" + text + "\" must be an IPv4 block between /8 and /30");
  }
  if (auto why = unusable(block->base)) return make_error(Errc::kBadInput, "lab CIDR \"" + text + "\" is " + *why);
  return *block;
}

// Every lab address in use, with its owner; kBadInput for an unusable or shared address.
class AddressBook {
 public:
  Result<void> claim(const IpAddr& ip, const std::string& owner) {
    if (auto why = unusable(ip)) {
      return make_error(Errc::kBadInput, owner + ": IP " + ip.to_string() + " is " + *why + ", which cannot be a lab host");
    }
    auto [it, inserted] = owners_.emplace(ip, owner);
    if (!inserted && it->second != owner) {
      return make_error(Errc::kBadInput, it->second + " and " + owner + " both have IP " + ip.to_string() +
                                             "; every lab host needs its own address");
    }
    return {};
  }
  std::set<IpAddr> used() const {
    std::set<IpAddr> out;
    for (const auto& [ip, owner] : owners_) out.insert(ip);
    return out;
  }

 private:
  std::map<IpAddr, std::string> owners_;
};

std::string external_name(const IpAddr& ip) { return "external/" + ip.to_string(); }

// Claims every address lab_cluster() keeps or assigns; returns the allocator for the rest.
Result<Allocator> claim_addresses(const ClusterState& cluster, const LabRunOptions& options, AddressBook& book) {
  auto block = parse_lab_cidr(options.lab_cidr);
  if (!block) return std::unexpected(block.error());
  for (const auto& pod : cluster.pods) {
    if (pod.host_network) continue;
    for (const auto& ip : pod.ips) {
      if (auto claimed = book.claim(ip, "pod " + pod.ref()); !claimed) return std::unexpected(claimed.error());
    }
  }
  for (const auto& ext : options.externals) {
    if (auto claimed = book.claim(ext.ip, "--external " + ext.ip.to_string()); !claimed) {
      return std::unexpected(claimed.error());
    }
  }
  return Allocator(*block, book.used());
}

void add_port(std::vector<PortProto>& ports, PortProto p) {
  if (std::find(ports.begin(), ports.end(), p) == ports.end()) ports.push_back(p);
}

}  // namespace

}  // namespace npv::lab

namespace npv {

using lab::AddressBook;
using lab::claim_addresses;
using lab::unusable;

std::expected<External, std::string> parse_external(std::string_view text) {
  const std::string shown = "\"" + std::string(text) + "\"";
  std::string_view ip_text, port_text;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::unexpected(shown + ": expected [IPv6]:PORT/PROTO, e.g. [2001:db8::7]:443/TCP");
    }
    ip_text = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return std::unexpected(shown + ": expected IP:PORT/PROTO, e.g. 203.0.113.7:443/TCP");
    }
    ip_text = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  auto ip = IpAddr::parse(ip_text);
  if (!ip) return std::unexpected(shown + ": \"" + std::string(ip_text) + "\" is not an IP address");
  if (auto why = unusable(*ip)) return std::unexpected(shown + ": " + ip->to_string() + " is " + *why);
  auto port = PortProto::parse(port_text);
  if (!port) return std::unexpected(shown + ": " + port.error());
  if (port->proto == Protocol::kSCTP) return std::unexpected(shown + ": the lab probes TCP and UDP only");
  return External{*ip, *port};
}

Result<ClusterState> lab_cluster(const ClusterState& cluster, const LabRunOptions& options) {
  AddressBook book;
  auto alloc = claim_addresses(cluster, options, book);
  if (!alloc) return std::unexpected(alloc.error());
  ClusterState out = cluster;
  for (auto& pod : out.pods) {
    if (pod.host_network || !pod.ips.empty()) continue;
    auto ip = alloc->next(pod.kind == "Pod" ? "pod " + pod.ref() : pod.kind + " " + pod.ref());
    if (!ip) return std::unexpected(ip.error());
    pod.ips.push_back(*ip);
  }
  out.finalize();
  return out;
}

}  // namespace npv

namespace npv::lab {

std::size_t LabPlan::listeners() const {
  std::size_t n = 0;
  for (const auto& h : hosts) n += h.ports.size();
  return n;
}

std::optional<int> shared_prefix(const std::vector<IpAddr>& addrs, int max_prefix) {
  if (addrs.empty()) return std::nullopt;
  const IpAddr& first = addrs.front();
  int common = std::min(max_prefix, first.bit_width());
  for (const auto& ip : addrs) {
    for (int i = 0; i < common; ++i) {
      if (bit(ip, i) != bit(first, i)) {
        common = i;
        break;
      }
    }
  }
  for (int p = common; p >= 1; --p) {
    const bool clash = first.family == 4 && std::any_of(addrs.begin(), addrs.end(), [&](const IpAddr& ip) {
      return host_bits_all(ip, p, false) || host_bits_all(ip, p, true);
    });
    if (!clash) return p;
  }
  return std::nullopt;
}

Result<LabPlan> plan_lab(const ClusterState& cluster, const LabRunOptions& options) {
  auto lab = lab_cluster(cluster, options);
  if (!lab) return std::unexpected(lab.error());
  // Lab-internal IPv4 addresses (for IPv6-only hosts) come after those lab_cluster assigned.
  AddressBook book;
  auto alloc = claim_addresses(*lab, options, book);
  if (!alloc) return std::unexpected(alloc.error());

  LabPlan plan;
  plan.cluster = std::move(*lab);
  std::set<std::string> skipped_sctp;
  auto finish_host = [&](LabHost host) -> Result<void> {
    if (!host.v4) {
      auto internal = alloc->next(host.name + " (lab-internal IPv4)");
      if (!internal) return std::unexpected(internal.error());
      host.lab_v4 = *internal;
    } else {
      host.lab_v4 = *host.v4;
    }
    std::sort(host.ports.begin(), host.ports.end());
    plan.hosts.push_back(std::move(host));
    return {};
  };
  for (PodId id = 0; id < plan.cluster.pods.size(); ++id) {
    const Pod& pod = plan.cluster.pods[id];
    if (pod.host_network) {
      plan.notes.push_back("pod " + pod.ref() + " uses the host network: not a lab host");
      continue;
    }
    LabHost host;
    host.name = pod.ref();
    host.pod = id;
    for (const auto& ip : pod.ips) {
      auto& slot = ip.family == 4 ? host.v4 : host.v6;
      if (!slot) slot = ip;
    }
    for (const auto& cp : pod.ports) {
      if (cp.proto == Protocol::kSCTP) {
        skipped_sctp.insert(pod.ref() + " " + PortProto{cp.port, cp.proto}.to_string());
        continue;
      }
      add_port(host.ports, PortProto{cp.port, cp.proto});
    }
    if (auto done = finish_host(std::move(host)); !done) return std::unexpected(done.error());
  }
  const std::size_t pod_hosts = plan.hosts.size();
  std::map<IpAddr, std::vector<PortProto>> externals;
  for (const auto& ext : options.externals) add_port(externals[ext.ip], ext.port);
  for (auto& [ip, ports] : externals) {
    LabHost host;
    host.name = external_name(ip);
    host.ports = std::move(ports);
    (ip.family == 4 ? host.v4 : host.v6) = ip;
    if (auto done = finish_host(std::move(host)); !done) return std::unexpected(done.error());
  }
  for (const auto& s : skipped_sctp) plan.notes.push_back("SCTP is not probed: " + s);

  // On-link prefixes: one shared by every host if possible; else the pods share one and each
  // external outside it gets host routes (to it in every pod, to the pods' subnet in it).
  for (int family : {4, 6}) {
    const int max_prefix = family == 4 ? kMaxV4Prefix : kMaxV6Prefix;
    auto addr_of = [&](const LabHost& h) -> std::optional<IpAddr> { return family == 4 ? h.lab_v4 : h.v6; };
    std::vector<IpAddr> all, pods;
    for (std::size_t i = 0; i < plan.hosts.size(); ++i) {
      if (auto a = addr_of(plan.hosts[i])) {
        all.push_back(*a);
        if (i < pod_hosts) pods.push_back(*a);
      }
    }
    if (all.empty()) continue;
    int& prefix = family == 4 ? plan.lab_options.v4_prefix : plan.lab_options.v6_prefix;
    if (auto p = shared_prefix(all, max_prefix)) {
      prefix = *p;
      continue;
    }
    auto p = shared_prefix(pods, max_prefix);
    if (!p) {
      return make_error(Errc::kBadInput, std::string("the pods' IPv") + (family == 4 ? "4" : "6") +
                                             " addresses cannot share one link prefix");
    }
    prefix = *p;
    const std::string pod_subnet = subnet_of(pods.front(), prefix);
    for (std::size_t e = pod_hosts; e < plan.hosts.size(); ++e) {
      auto a = addr_of(plan.hosts[e]);
      if (!a || subnet_of(*a, prefix) == pod_subnet) continue;
      plan.routes.push_back({e, pod_subnet});
      for (std::size_t i = 0; i < pod_hosts; ++i) plan.routes.push_back({i, host_route(*a)});
    }
  }

  // Probes: every ordered pair of distinct hosts whose source is a pod, every port of the
  // destination, every address family both have.
  for (std::size_t s = 0; s < pod_hosts; ++s) {
    for (std::size_t d = 0; d < plan.hosts.size(); ++d) {
      if (s == d) continue;
      const LabHost& src = plan.hosts[s];
      const LabHost& dst = plan.hosts[d];
      for (const auto& port : dst.ports) {
        if (src.v4 && dst.v4) plan.probes.push_back({s, d, *src.v4, *dst.v4, port});
        if (src.v6 && dst.v6) plan.probes.push_back({s, d, *src.v6, *dst.v6, port});
      }
    }
  }
  if (plan.probes.empty()) {
    return make_error(Errc::kBadInput,
                      "nothing to probe: the lab needs two pods and a TCP or UDP container port "
                      "(spec.containers[].ports) on one of them, or an --external peer");
  }
  return plan;
}

}  // namespace npv::lab
