#include "lab/nft_text.hpp"

#include <algorithm>

namespace npv::nft {

std::string addr_key(int family, Side side) {
  return std::string(family == 4 ? "ip" : "ip6") + (side == Side::kSource ? " saddr" : " daddr");
}

std::string set_text(const std::vector<std::string>& items) {
  if (items.size() == 1) return items.front();
  std::string out = "{ ";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  return out + " }";
}

std::vector<std::string> ip_set_matches(const std::set<IpAddr>& ips, Side side) {
  std::vector<std::string> out;
  for (int family : {4, 6}) {
    std::vector<std::string> items;
    for (const auto& ip : ips) {
      if (ip.family == family) items.push_back(ip.to_string());
    }
    if (!items.empty()) out.push_back(addr_key(family, side) + " " + set_text(items));
  }
  return out;
}

std::string ip_block_match(const IpBlock& block, Side side) {
  const int family = block.cidr.base.family;
  std::string out = block.cidr.prefix == 0 ? std::string(family == 4 ? "meta nfproto ipv4" : "meta nfproto ipv6")
                                           : addr_key(family, side) + " " + block.cidr.to_string();
  // Two prefixes are either nested or disjoint: keeping only the outermost ones leaves a set of
  // disjoint intervals, which is what an anonymous nft set accepts.
  std::vector<Cidr> except = block.except;
  std::sort(except.begin(), except.end(), [](const Cidr& a, const Cidr& b) { return a.prefix < b.prefix; });
  std::vector<Cidr> outer;
  for (const auto& e : except) {
    const bool nested = std::any_of(outer.begin(), outer.end(), [&](const Cidr& o) { return o.contains(e.base); });
    if (!nested) outer.push_back(e);
  }
  std::sort(outer.begin(), outer.end(), [](const Cidr& a, const Cidr& b) { return a.base < b.base; });
  if (!outer.empty()) {
    std::vector<std::string> items;
    for (const auto& e : outer) items.push_back(e.to_string());
    out += " " + addr_key(family, side) + " != " + set_text(items);
  }
  return out;
}

const char* proto_keyword(Protocol proto) {
  switch (proto) {
    case Protocol::kTCP: return "tcp";
    case Protocol::kUDP: return "udp";
    case Protocol::kSCTP: return "sctp";
  }
  return "tcp";
}

std::string proto_match(Protocol proto) { return std::string("meta l4proto ") + proto_keyword(proto); }

std::string port_match(Protocol proto, std::vector<PortRange> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const PortRange& a, const PortRange& b) {
    return a.first != b.first ? a.first < b.first : a.last < b.last;
  });
  std::vector<PortRange> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && static_cast<unsigned>(r.first) <= static_cast<unsigned>(merged.back().last) + 1) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  std::vector<std::string> items;
  for (const auto& r : merged) {
    items.push_back(r.first == r.last ? std::to_string(r.first)
                                      : std::to_string(r.first) + "-" + std::to_string(r.last));
  }
  return std::string(proto_keyword(proto)) + " dport " + set_text(items);
}

std::string join_match(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + " " + b;
}

}  // namespace npv::nft
