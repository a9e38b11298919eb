#include "npv/port.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace npv {

const char* to_string(Protocol p) {
  switch (p) {
    case Protocol::kTCP: return "TCP";
    case Protocol::kUDP: return "UDP";
    case Protocol::kSCTP: return "SCTP";
  }
  return "?";
}

std::optional<Protocol> parse_protocol(std::string_view text) {
  if (text == "TCP") return Protocol::kTCP;
  if (text == "UDP") return Protocol::kUDP;
  if (text == "SCTP") return Protocol::kSCTP;
  return std::nullopt;
}

std::expected<PortProto, std::string> PortProto::parse(std::string_view text) {
  auto slash = text.find('/');
  std::string_view num = text.substr(0, slash);
  PortProto out;
  if (slash != std::string_view::npos) {
    std::string upper(text.substr(slash + 1));
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    auto proto = parse_protocol(upper);
    if (!proto) {
      return std::unexpected("\"" + std::string(text) + "\": protocol must be TCP, UDP or SCTP");
    }
    out.proto = *proto;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), value);
  if (num.empty() || ec != std::errc() || end != num.data() + num.size() || value < 1 || value > 65535) {
    return std::unexpected("\"" + std::string(text) + "\": expected PORT/PROTO with PORT in 1-65535, e.g. 80/TCP");
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

std::string PortProto::to_string() const { return std::to_string(port) + "/" + npv::to_string(proto); }

bool is_valid_port_name(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  if (name.front() == '-' || name.back() == '-' || name.find("--") != std::string_view::npos) return false;
  bool has_letter = false;
  for (char c : name) {
    if (c >= 'a' && c <= 'z') {
      has_letter = true;
    } else if (!(c >= '0' && c <= '9') && c != '-') {
      return false;
    }
  }
  return has_letter;
}

}  // namespace npv
