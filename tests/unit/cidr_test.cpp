#include <gtest/gtest.h>

#include "npv/cidr.hpp"

namespace npv {
namespace {

TEST(IpAddr, ParsesBothFamiliesAndRejectsGarbage) {
  auto v4 = IpAddr::parse("10.1.2.3");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family, 4);
  EXPECT_EQ(v4->to_string(), "10.1.2.3");
  auto v6 = IpAddr::parse("fd00::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family, 6);
  EXPECT_EQ(v6->to_string(), "fd00::1");
  EXPECT_FALSE(IpAddr::parse("10.1.2"));
  EXPECT_FALSE(IpAddr::parse("10.1.2.256"));
  EXPECT_FALSE(IpAddr::parse(""));
  EXPECT_FALSE(IpAddr::parse("fd00:::1"));
  EXPECT_FALSE(IpAddr::parse("production/frontend"));
}

TEST(Cidr, ContainsHonoursPrefixBoundaries) {
  auto c = Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains(*IpAddr::parse("10.0.0.0")));
  EXPECT_TRUE(c->contains(*IpAddr::parse("10.255.255.255")));
  EXPECT_FALSE(c->contains(*IpAddr::parse("11.0.0.0")));
  EXPECT_FALSE(c->contains(*IpAddr::parse("9.255.255.255")));
  auto odd = Cidr::parse("192.168.1.128/25");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(*IpAddr::parse("192.168.1.200")));
  EXPECT_FALSE(odd->contains(*IpAddr::parse("192.168.1.127")));
}

TEST(Cidr, ZeroPrefixMatchesEveryAddressOfItsFamilyOnly) {
  auto all4 = Cidr::parse("0.0.0.0/0");
  ASSERT_TRUE(all4);
  EXPECT_TRUE(all4->contains(*IpAddr::parse("203.0.113.9")));
  EXPECT_FALSE(all4->contains(*IpAddr::parse("2001:db8::1")));
  auto all6 = Cidr::parse("::/0");
  ASSERT_TRUE(all6);
  EXPECT_TRUE(all6->contains(*IpAddr::parse("2001:db8::1")));
  EXPECT_FALSE(all6->contains(*IpAddr::parse("10.0.0.1")));
}

TEST(Cidr, Ipv6PrefixesAcrossByteBoundaries) {
  auto c = Cidr::parse("2001:db8:abcd:12::/63");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains(*IpAddr::parse("2001:db8:abcd:13::5")));
  EXPECT_FALSE(c->contains(*IpAddr::parse("2001:db8:abcd:14::5")));
  auto host = Cidr::parse("fd00::7/128");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->contains(*IpAddr::parse("fd00::7")));
  EXPECT_FALSE(host->contains(*IpAddr::parse("fd00::8")));
}

TEST(Cidr, RejectsMalformedBlocksWithAReason) {
  auto too_long = Cidr::parse("10.0.0.0/33");
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().find("exceeds 32"), std::string::npos) << too_long.error();
  auto host_bits = Cidr::parse("10.0.0.1/24");
  ASSERT_FALSE(host_bits);
  EXPECT_NE(host_bits.error().find("host bits"), std::string::npos) << host_bits.error();
  EXPECT_FALSE(Cidr::parse("10.0.0.0"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/-1"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/8x"));
  EXPECT_FALSE(Cidr::parse("fd00::/129"));
  EXPECT_FALSE(Cidr::parse("nonsense/8"));
}

TEST(Cidr, StrictlyContainsIsAStrictSubsetOfTheSameFamily) {
  auto outer = *Cidr::parse("10.0.0.0/16");
  EXPECT_TRUE(outer.strictly_contains(*Cidr::parse("10.0.1.0/24")));
  EXPECT_FALSE(outer.strictly_contains(*Cidr::parse("10.0.0.0/16")));
  EXPECT_FALSE(outer.strictly_contains(*Cidr::parse("10.1.0.0/24")));
  EXPECT_FALSE(outer.strictly_contains(*Cidr::parse("10.0.0.0/8")));
  EXPECT_FALSE(outer.strictly_contains(*Cidr::parse("fd00::/64")));
}

}  // namespace
}  // namespace npv
