// nftables text for the lab dataplane (nft_dataplane.cpp): the address and port matches of one
// accept rule. Pure string building; every function returns elements in a deterministic order.
//
// An empty anonymous set (`{ }`) is a syntax error in nft, so callers never pass an empty list
// where a set is built. Overlapping ports and prefixes are merged or dropped here before a set is
// written, so the text does not rely on nft merging intervals itself (nft 1.0.6 does for
// anonymous sets; a set without auto-merge rejects overlaps).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "npv/model.hpp"

namespace npv::nft {

// Which end of a connection a rule matches: the source on ingress, the destination on egress.
enum class Side { kSource, kDestination };

// "ip saddr", "ip6 daddr", ...
std::string addr_key(int family, Side side);

// "a" for one item, "{ a, b }" for more. `items` must not be empty.
std::string set_text(const std::vector<std::string>& items);

// Matches for a set of addresses: one per family present, IPv4 first
// ("ip saddr { 10.0.0.1, 10.0.0.2 }", "ip6 saddr fd00::1"). Empty for an empty set.
std::vector<std::string> ip_set_matches(const std::set<IpAddr>& ips, Side side);

// The match of an ipBlock: "ip saddr 10.0.0.0/16 ip saddr != { 10.0.1.0/24 }". An except prefix
// inside another except prefix is dropped (nft would reject the overlap); /0 is written as
// "meta nfproto ipv4" (ipv6).
std::string ip_block_match(const IpBlock& block, Side side);

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;  // inclusive
};

// "tcp", "udp", "sctp": nft's protocol keyword, also its transport header expression.
const char* proto_keyword(Protocol proto);

// "meta l4proto tcp": every port of the protocol.
std::string proto_match(Protocol proto);

// "tcp dport 80", "udp dport { 53, 8000-8080 }": ranges are merged where they overlap or touch.
// `ranges` must not be empty.
std::string port_match(Protocol proto, std::vector<PortRange> ranges);

// "a b" with empty parts left out.
std::string join_match(const std::string& a, const std::string& b);

}  // namespace npv::nft
