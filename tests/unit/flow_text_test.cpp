// flow_to_text() (flow_tracker.hpp) formats IPv4 addresses itself: they must read exactly as
// IpAddr::to_string() (inet_ntop) writes them, for every byte value.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "npv/flow_tracker.hpp"

namespace npv {
namespace {

ObservedFlow flow(const IpAddr& src, const IpAddr& dst, std::uint16_t src_port, std::uint16_t dst_port) {
  ObservedFlow f;
  f.src = src;
  f.dst = dst;
  f.src_port = src_port;
  f.dst_port = dst_port;
  f.proto = Protocol::kUDP;
  f.outcome = Outcome::kDropped;
  f.drop_reason = "7";
  return f;
}

TEST(FlowText, Ipv4AddressesAndPortsReadAsToString) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    IpAddr src, dst;
    for (int b = 0; b < 4; ++b) {
      // Every byte value in turn, plus random ones: 0, 1-, 2- and 3-digit bytes.
      src.bytes[b] = static_cast<std::uint8_t>(i < 256 ? i : rng());
      dst.bytes[b] = static_cast<std::uint8_t>(rng());
    }
    const auto src_port = static_cast<std::uint16_t>(i < 256 ? i * 257 : rng());
    const auto dst_port = static_cast<std::uint16_t>(rng());
    ASSERT_EQ(flow_to_text(flow(src, dst, src_port, dst_port), nullptr),
              src.to_string() + ":" + std::to_string(src_port) + " -> " + dst.to_string() + " " +
                  std::to_string(dst_port) + "/UDP dropped (drop: 7) [drop only]");
  }
}

TEST(FlowText, ExtremePortsAndAddresses) {
  const IpAddr zero = *IpAddr::parse("0.0.0.0"), ones = *IpAddr::parse("255.255.255.255");
  EXPECT_EQ(flow_to_text(flow(zero, ones, 0, 65535), nullptr),
            "0.0.0.0:0 -> 255.255.255.255 65535/UDP dropped (drop: 7) [drop only]");
}

}  // namespace
}  // namespace npv
