// Transport protocols and the "PORT/PROTO" notation ("80/TCP", "53/UDP", "5432/SCTP").
#pragma once

#include <compare>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace npv {

enum class Protocol : std::uint8_t { kTCP = 0, kUDP = 1, kSCTP = 2 };
inline constexpr int kProtocolCount = 3;

const char* to_string(Protocol p);
// Accepts "TCP", "UDP", "SCTP" (Kubernetes spelling; upper case only, as the API requires).
std::optional<Protocol> parse_protocol(std::string_view text);

struct PortProto {
  std::uint16_t port = 0;
  Protocol proto = Protocol::kTCP;

  // Parses "80/TCP" or "80" (TCP). Case-insensitive protocol, since this is user input.
  static std::expected<PortProto, std::string> parse(std::string_view text);
  std::string to_string() const;
  auto operator<=>(const PortProto&) const = default;
};

// True for a valid IANA service name, which is what Kubernetes requires of a named port:
// 1-15 characters of [a-z0-9-], at least one letter, no leading, trailing or double hyphen.
bool is_valid_port_name(std::string_view name);

}  // namespace npv
