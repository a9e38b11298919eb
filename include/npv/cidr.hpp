// IPv4/IPv6 addresses and CIDR blocks, as used by NetworkPolicy ipBlock and pod IPs.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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

  // Hot path of ipBlock matching: two masked 64-bit compares.
  bool contains(const IpAddr& ip) const {
    if (ip.family != base.family) return false;
    const auto [ip_hi, ip_lo] = words(ip);
    const auto [base_hi, base_lo] = words(base);
    const std::uint64_t mask_hi = prefix == 0 ? 0 : prefix >= 64 ? ~std::uint64_t{0} : ~std::uint64_t{0} << (64 - prefix);
    const std::uint64_t mask_lo = prefix <= 64 ? 0 : prefix == 128 ? ~std::uint64_t{0} : ~std::uint64_t{0} << (128 - prefix);
    return ((ip_hi ^ base_hi) & mask_hi) == 0 && ((ip_lo ^ base_lo) & mask_lo) == 0;
  }
  // True when `inner` lies inside this block and is strictly smaller.
  bool strictly_contains(const Cidr& inner) const;
  std::string to_string() const;
  auto operator<=>(const Cidr&) const = default;

 private:
  // The address as two big-endian 64-bit words (IPv4 sits in the top 32 bits of the first).
  static std::pair<std::uint64_t, std::uint64_t> words(const IpAddr& ip) {
    std::uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; ++i) hi = hi << 8 | ip.bytes[i];
    for (int i = 8; i < 16; ++i) lo = lo << 8 | ip.bytes[i];
    return {hi, lo};
  }
};

}  // namespace npv
