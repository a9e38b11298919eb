#include "npv/cidr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace npv {

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN + 1];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddr ip;
  if (text.find(':') == std::string_view::npos) {
    ip.family = 4;
    if (inet_pton(AF_INET, buf, ip.bytes.data()) != 1) return std::nullopt;
  } else {
    ip.family = 6;
    if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
  }
  return ip;
}

std::string IpAddr::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family == 4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof(buf));
  return buf;
}

namespace {

bool host_bits_zero(const IpAddr& ip, int prefix) {
  for (int bit = prefix; bit < ip.bit_width(); ++bit) {
    if (ip.bytes[bit / 8] & (0x80 >> (bit % 8))) return false;
  }
  return true;
}

// "\"TEXT\"", built by appending: `"\"" + std::string(text)` trips GCC 12's -Wrestrict false
// positive (GCC bug 105651) at -O3.
std::string quoted(std::string_view text) {
  std::string q;
  q.reserve(text.size() + 2);
  q += '"';
  q += text;
  q += '"';
  return q;
}

}  // namespace

std::expected<Cidr, std::string> Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return std::unexpected(quoted(text) + " is not a CIDR (expected ADDRESS/PREFIX)");
  }
  auto ip = IpAddr::parse(text.substr(0, slash));
  if (!ip) {
    return std::unexpected(quoted(text) + " has an invalid address part");
  }
  auto len_text = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), prefix);
  if (len_text.empty() || ec != std::errc() || end != len_text.data() + len_text.size() || prefix < 0) {
    return std::unexpected(quoted(text) + " has an invalid prefix length");
  }
  if (prefix > ip->bit_width()) {
    return std::unexpected(quoted(text) + ": prefix length " + std::to_string(prefix) +
                           " exceeds " + std::to_string(ip->bit_width()));
  }
  if (!host_bits_zero(*ip, prefix)) {
    return std::unexpected(quoted(text) + " has host bits set");
  }
  return Cidr{*ip, prefix};
}

bool Cidr::strictly_contains(const Cidr& inner) const {
  return inner.base.family == base.family && inner.prefix > prefix && contains(inner.base);
}

std::string Cidr::to_string() const { return base.to_string() + "/" + std::to_string(prefix); }

}  // namespace npv
