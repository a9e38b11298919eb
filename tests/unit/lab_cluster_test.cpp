// The lab's pure parts: --external parsing and the cluster a lab runs (addresses for pods
// without one, addresses no lab host may have). No privileges needed.
#include <gtest/gtest.h>

#include "npv/lab_runner.hpp"
#include "support/manifest_builder.hpp"

namespace npv {
namespace {

IpAddr ip(const char* text) { return *IpAddr::parse(text); }

ClusterState load(const std::string& yaml) {
  auto c = test::load_yaml(yaml);
  EXPECT_TRUE(c) << c.error().message;
  return c ? std::move(*c) : ClusterState{};
}

TEST(ParseExternal, AcceptsIpv4AndBracketedIpv6) {
  auto v4 = parse_external("203.0.113.7:443/TCP");
  ASSERT_TRUE(v4) << v4.error();
  EXPECT_EQ(v4->ip, ip("203.0.113.7"));
  EXPECT_EQ(v4->port, (PortProto{443, Protocol::kTCP}));
  auto v6 = parse_external("[2001:db8::7]:53/udp");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_EQ(v6->ip, ip("2001:db8::7"));
  EXPECT_EQ(v6->port, (PortProto{53, Protocol::kUDP}));
  auto bare = parse_external("198.51.100.1:8080");
  ASSERT_TRUE(bare) << bare.error();
  EXPECT_EQ(bare->port.proto, Protocol::kTCP);
}

TEST(ParseExternal, RejectsWhatCannotBeALabHost) {
  for (const char* text : {"203.0.113.7", "203.0.113.7:0/TCP", "203.0.113.7:80/ICMP", "nonsense:80/TCP",
                           "127.0.0.1:80/TCP", "224.0.0.1:80/UDP", "0.0.0.0:80/TCP", "255.255.255.255:80/UDP",
                           "[::1]:80/TCP", "[ff02::1]:80/UDP", "[fe80::1]:80/TCP", "[2001:db8::7:80/TCP",
                           "203.0.113.7:9/SCTP"}) {
    EXPECT_FALSE(parse_external(text)) << text;
  }
  auto loopback = parse_external("127.0.0.1:80/TCP");
  ASSERT_FALSE(loopback);
  EXPECT_NE(loopback.error().find("loopback"), std::string::npos) << loopback.error();
}

TEST(LabCluster, PodsWithoutIpGetTheNextFreeLabAddress) {
  ClusterState c = load(test::pod_yaml("shop", "web", "{app: web}", "", "[{containerPort: 80}]") +
                        test::pod_yaml("shop", "api", "{app: api}", "10.213.0.1") +
                        test::pod_yaml("shop", "db", "{app: db}"));
  LabRunOptions options;
  options.externals.push_back({ip("10.213.0.2"), {443, Protocol::kTCP}});
  auto lab = lab_cluster(c, options);
  ASSERT_TRUE(lab) << lab.error().message;
  ASSERT_EQ(lab->pods.size(), 3u);
  // Sorted by name: api, db, web; .1 is api's own and .2 the external's.
  EXPECT_EQ(lab->pods[0].ips, std::vector<IpAddr>{ip("10.213.0.1")});
  EXPECT_EQ(lab->pods[1].ips, std::vector<IpAddr>{ip("10.213.0.3")});
  EXPECT_EQ(lab->pods[2].ips, std::vector<IpAddr>{ip("10.213.0.4")});
  EXPECT_EQ(lab->find_pod_by_ip(ip("10.213.0.4")), lab->find_pod("shop/web")) << "lookups are rebuilt";
  auto again = lab_cluster(*lab, options);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->pods[2].ips, lab->pods[2].ips) << "idempotent";
}

TEST(LabCluster, RejectsSharedAndUnusableAddresses) {
  LabRunOptions options;
  auto shared = lab_cluster(load(test::pod_yaml("a", "one", "{}", "10.244.0.5") + test::pod_yaml("b", "two", "{}", "10.244.0.5")),
                            options);
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error().code, Errc::kBadInput);
  EXPECT_NE(shared.error().message.find("pod a/one and pod b/two both have IP 10.244.0.5"), std::string::npos)
      << shared.error().message;

  ClusterState one = load(test::pod_yaml("a", "one", "{}", "10.244.0.5"));
  options.externals.push_back({ip("10.244.0.5"), {443, Protocol::kTCP}});
  EXPECT_FALSE(lab_cluster(one, options)) << "an external may not take a pod's IP";

  options.externals.clear();
  options.lab_cidr = "10.213.0.0/31";
  EXPECT_FALSE(lab_cluster(one, options)) << "a lab CIDR needs room for hosts";
  options.lab_cidr = "fd00::/64";
  EXPECT_FALSE(lab_cluster(one, options)) << "the lab CIDR is IPv4";
  options.lab_cidr = "10.213.0.0/30";
  ClusterState three = load(test::pod_yaml("a", "x", "{}") + test::pod_yaml("a", "y", "{}") + test::pod_yaml("a", "z", "{}"));
  auto full = lab_cluster(three, options);
  ASSERT_FALSE(full) << "a /30 has two host addresses";
  EXPECT_NE(full.error().message.find("no free address"), std::string::npos) << full.error().message;
}

}  // namespace
}  // namespace npv
