// IPv4/IPv6 addresses and CIDR blocks, as used by NetworkPolicy ipBlock and pod IPs.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace npv {

// An IP address. IPv4 addresses use bytes[0..3]; the remaining bytes are zero.
struct IpAddr {
  std::uint8_t family = 4;  // 4 or 6
  std::array<std::uint8_t, 16> bytes{};

  static std::optional<IpAddr> parse(std::string_view text);
  int bit_width() const { return family == 4 ? 32 : 128; }
  std::string to_string() const;
  auto operator<=>(const IpAddr&) const = default;
};

// A CIDR block in canonical form (no host bits set).
struct Cidr {
  IpAddr base;
  int prefix = 0;

  // Parses "a.b.c.d/n" or "x::y/n". Rejects a missing or out-of-range prefix and set host bits
  // (Kubernetes validation does too); the error string says which.
  static std::expected<Cidr, std::string> parse(std::string_view text);

  bool contains(const IpAddr& ip) const;
  // True when `inner` lies inside this block and is strictly smaller.
  bool strictly_contains(const Cidr& inner) const;
  std::string to_string() const;
  auto operator<=>(const Cidr&) const = default;
};

}  // namespace npv
