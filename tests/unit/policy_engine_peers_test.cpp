// The NetworkPolicy engine, rules R9..R13 of agent/policy/policy_engine.cpp: peers (podSelector,
// namespaceSelector, ipBlock).
// How these tests are built: policy_engine_rules_test.cpp.
#include "npv/policy_engine.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/engine_fixture.hpp"
#include "support/manifest_builder.hpp"

namespace npv {
namespace {

using test::Cluster;
using test::namespace_yaml;
using test::pod_yaml;
using test::policy_yaml;

// ---------------------------------------------------------------------------------------------
// R9  podSelector alone: pods of the policy's own namespace.

TEST(PolicyEngineRule, R9_PodSelectorAloneSelectsOnlyThePolicysNamespace) {
  Cluster c(pod_yaml("prod", "db", "{app: db}", "10.0.0.1") + pod_yaml("prod", "client", "{role: client}", "10.0.0.2") +
            pod_yaml("prod", "other", "{role: other}", "10.0.0.3") +
            pod_yaml("dev", "client", "{role: client}", "10.0.1.2") + pod_yaml("dev", "db", "{app: db}", "10.0.1.1") +
            policy_yaml("prod", "db-in",
                        "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {role: "
                        "client}}}]}]}") +
            policy_yaml("prod", "client-out",
                        "{podSelector: {matchLabels: {role: client}}, policyTypes: [Egress], egress: "
                        "[{to: [{podSelector: {matchLabels: {app: db}}}]}]}"));
  EXPECT_TRUE(c.allowed("prod/client", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("dev/client", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("prod/other", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("prod/client", "dev/db", "5432/TCP"));
}

// ---------------------------------------------------------------------------------------------
// R10 namespaceSelector alone: every pod of the matching namespaces; {} selects all namespaces.

TEST(PolicyEngineRule, R10_NamespaceSelectorAloneSelectsEveryPodInMatchingNamespaces) {
  Cluster c(namespace_yaml("team-a", "{team: a}") + namespace_yaml("team-b", "{team: b}") +
            namespace_yaml("prod", "{team: prod}") + pod_yaml("prod", "db", "{app: db}", "10.0.0.1") +
            pod_yaml("prod", "local", "{app: client}", "10.0.0.2") + pod_yaml("team-a", "any", "{}", "10.1.0.1") +
            pod_yaml("team-a", "labelled", "{app: whatever}", "10.1.0.2") + pod_yaml("team-b", "x", "{}", "10.2.0.1") +
            pod_yaml("team-c", "x", "{}", "10.3.0.1") +  // team-c is implicit: no labels of its own
            policy_yaml("prod", "db-in",
                        "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{namespaceSelector: {matchLabels: "
                        "{team: a}}}]}]}"));
  EXPECT_TRUE(c.allowed("team-a/any", "prod/db", "5432/TCP"));
  EXPECT_TRUE(c.allowed("team-a/labelled", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("team-b/x", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("team-c/x", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("prod/local", "prod/db", "5432/TCP")) << "the policy's own namespace is not implied";
}

TEST(PolicyEngineRule, R10_EmptyNamespaceSelectorSelectsAllNamespacesAndMetadataNameLabelWorks) {
  Cluster c(namespace_yaml("team-b", "{team: b}") + pod_yaml("prod", "db", "{app: db}", "10.0.0.1") +
            pod_yaml("prod", "api", "{app: api}", "10.0.0.2") + pod_yaml("team-b", "x", "{}", "10.2.0.1") +
            pod_yaml("team-c", "x", "{}", "10.3.0.1") +
            policy_yaml("prod", "db-in",
                        "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{namespaceSelector: {}}]}]}") +
            // Kubernetes labels every namespace kubernetes.io/metadata.name=<name>.
            policy_yaml("prod", "api-in",
                        "{podSelector: {matchLabels: {app: api}}, ingress: [{from: [{namespaceSelector: {matchLabels: "
                        "{kubernetes.io/metadata.name: team-c}}}]}]}"));
  EXPECT_TRUE(c.allowed("team-b/x", "prod/db", "80/TCP"));
  EXPECT_TRUE(c.allowed("team-c/x", "prod/db", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/api", "prod/db", "80/TCP"));
  EXPECT_TRUE(c.allowed("team-c/x", "prod/api", "80/TCP"));
  EXPECT_FALSE(c.allowed("team-b/x", "prod/api", "80/TCP"));
}

// ---------------------------------------------------------------------------------------------
// R11 podSelector and namespaceSelector in ONE peer are ANDed; in two peers they are ORed.

namespace r11 {
std::string cluster_with(const std::string& from) {
  return namespace_yaml("alice", "{user: alice}") + namespace_yaml("bob", "{user: bob}") +
         pod_yaml("prod", "db", "{app: db}", "10.0.0.1") + pod_yaml("prod", "client", "{role: client}", "10.0.0.2") +
         pod_yaml("alice", "client", "{role: client}", "10.1.0.1") +
         pod_yaml("alice", "other", "{role: other}", "10.1.0.2") +
         pod_yaml("bob", "client", "{role: client}", "10.2.0.1") +
         policy_yaml("prod", "db-in", "{podSelector: {matchLabels: {app: db}}, ingress: [{from: " + from + "}]}");
}
}  // namespace r11

TEST(PolicyEngineRule, R11_PodAndNamespaceSelectorInOnePeerAreAnded) {
  Cluster c(r11::cluster_with(
      "[{namespaceSelector: {matchLabels: {user: alice}}, podSelector: {matchLabels: {role: client}}}]"));
  EXPECT_TRUE(c.allowed("alice/client", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("alice/other", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("bob/client", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("prod/client", "prod/db", "5432/TCP")) << "prod is not labelled user=alice";
}

TEST(PolicyEngineRule, R11_PodAndNamespaceSelectorInTwoPeersAreOred) {
  Cluster c(r11::cluster_with(
      "[{namespaceSelector: {matchLabels: {user: alice}}}, {podSelector: {matchLabels: {role: client}}}]"));
  EXPECT_TRUE(c.allowed("alice/client", "prod/db", "5432/TCP"));
  EXPECT_TRUE(c.allowed("alice/other", "prod/db", "5432/TCP"));
  EXPECT_TRUE(c.allowed("prod/client", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("bob/client", "prod/db", "5432/TCP")) << "the lone podSelector means prod only";
}

// ---------------------------------------------------------------------------------------------
// R12 ipBlock: inside cidr and outside every `except`; a pod matches by the flow's IP when known,
//     else by any of its IPs; a pod without IP never matches.

TEST(PolicyEngineRule, R12_IpBlockExceptCarvesOutASubnet) {
  Cluster c(pod_yaml("prod", "web", "{app: web}", "10.9.0.1") +
            policy_yaml("prod", "web-in",
                        "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 172.17.0.0/16, except: "
                        "[172.17.1.0/24, 172.17.5.5/32]}}]}]}"));
  EXPECT_FALSE(c.allowed("172.16.255.255", "prod/web", "80/TCP"));  // below cidr
  EXPECT_TRUE(c.allowed("172.17.0.0", "prod/web", "80/TCP"));       // cidr's first address
  EXPECT_TRUE(c.allowed("172.17.0.255", "prod/web", "80/TCP"));     // just below except
  EXPECT_FALSE(c.allowed("172.17.1.0", "prod/web", "80/TCP"));      // except's first address
  EXPECT_FALSE(c.allowed("172.17.1.128", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("172.17.1.255", "prod/web", "80/TCP"));  // except's last address
  EXPECT_TRUE(c.allowed("172.17.2.0", "prod/web", "80/TCP"));     // just above except
  EXPECT_TRUE(c.allowed("172.17.5.4", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("172.17.5.5", "prod/web", "80/TCP"));  // a /32 except
  EXPECT_TRUE(c.allowed("172.17.5.6", "prod/web", "80/TCP"));
  EXPECT_TRUE(c.allowed("172.17.255.255", "prod/web", "80/TCP"));  // cidr's last address
  EXPECT_FALSE(c.allowed("172.18.0.0", "prod/web", "80/TCP"));     // above cidr
}

TEST(PolicyEngineRule, R12_IpBlockMatchesIpv6CidrsAndNeverTheOtherFamily) {
  Cluster c(
      pod_yaml("prod", "web", "{app: web}", "fd00:9::1") +
      policy_yaml(
          "prod", "web-in",
          "{podSelector: {}, ingress: [{from: [{ipBlock: "
          R"({cidr: "2001:db8::/32", except: ["2001:db8:0:1::/64"]}}]}]})") +
      policy_yaml("prod", "web-out",
                  R"({podSelector: {}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: "0.0.0.0/0"}}]}]})"));
  EXPECT_TRUE(c.allowed("2001:db8::1", "prod/web", "80/TCP"));
  EXPECT_TRUE(c.allowed("2001:db8:0:0:ffff:ffff:ffff:ffff", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("2001:db8:0:1::", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("2001:db8:0:1:ffff:ffff:ffff:ffff", "prod/web", "80/TCP"));
  EXPECT_TRUE(c.allowed("2001:db8:0:2::", "prod/web", "80/TCP"));
  EXPECT_TRUE(c.allowed("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("2001:db9::", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "prod/web", "80/TCP"));
  // An IPv4 address whose bytes equal the block's prefix (0x20 0x01 0x0d 0xb8) is still not in it.
  EXPECT_FALSE(c.allowed("32.1.13.184", "prod/web", "80/TCP"));
  // 0.0.0.0/0 is every IPv4 address, and no IPv6 address.
  EXPECT_TRUE(c.allowed("prod/web", "198.51.100.1", "443/TCP"));
  EXPECT_FALSE(c.allowed("prod/web", "2001:db8::1", "443/TCP"));
}

TEST(PolicyEngineRule, R12_DualStackPodMatchesByTheFlowsIpElseByAnyOfItsIps) {
  Cluster c(R"(
apiVersion: v1
kind: Pod
metadata: {name: dual, namespace: prod, labels: {app: dual}}
status: {podIPs: [{ip: 10.0.0.5}, {ip: "fd00::5"}]}
)" + pod_yaml("prod", "v6-in", "{app: v6-in}", "10.0.0.6") +
            pod_yaml("prod", "v4-out", "{app: v4-out}", "10.0.0.7") +
            policy_yaml(
                "prod", "v6-only-in",
                R"({podSelector: {matchLabels: {app: v6-in}}, ingress: [{from: [{ipBlock: {cidr: "fd00::/64"}}]}]})") +
            policy_yaml("prod", "v4-only-out",
                        "{podSelector: {matchLabels: {app: v4-out}}, policyTypes: [Egress], egress: "
                        "[{to: [{ipBlock: {cidr: 10.0.0.0/24}}]}]}"));
  // Source side of an ingress rule.
  EXPECT_FALSE(c.allowed(c.ep("prod/dual", "10.0.0.5"), c.ep("prod/v6-in"), "80/TCP"));
  EXPECT_TRUE(c.allowed(c.ep("prod/dual", "fd00::5"), c.ep("prod/v6-in"), "80/TCP"));
  EXPECT_TRUE(c.allowed(c.ep("prod/dual"), c.ep("prod/v6-in"), "80/TCP"));
  // Destination side of an egress rule.
  EXPECT_TRUE(c.allowed(c.ep("prod/v4-out"), c.ep("prod/dual", "10.0.0.5"), "80/TCP"));
  EXPECT_FALSE(c.allowed(c.ep("prod/v4-out"), c.ep("prod/dual", "fd00::5"), "80/TCP"));
  EXPECT_TRUE(c.allowed(c.ep("prod/v4-out"), c.ep("prod/dual"), "80/TCP"));
}

TEST(PolicyEngineRule, R12_PodWithoutIpNeverMatchesAnIpBlock) {
  Cluster c(
      pod_yaml("prod", "web", "{app: web}", "10.0.0.1") + pod_yaml("prod", "pending", "{app: pending}") +
      pod_yaml("prod", "ready", "{app: ready}", "10.0.0.2") +
      policy_yaml(
          "prod", "web-in",
          "{podSelector: {matchLabels: {app: web}}, ingress: "
          R"([{from: [{ipBlock: {cidr: 0.0.0.0/0}}, {ipBlock: {cidr: "::/0"}}]}]})") +
      policy_yaml("prod", "out",
                  "{podSelector: {matchLabels: {app: ready}}, policyTypes: [Egress], egress: "
                  "[{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]}"));
  EXPECT_TRUE(c.allowed("prod/ready", "prod/web", "80/TCP"));
  EXPECT_TRUE(c.allowed("203.0.113.1", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/pending", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/ready", "prod/pending", "80/TCP"));
}

// ---------------------------------------------------------------------------------------------
// R13 Selector peers never match an IP that is not a cluster pod.

TEST(PolicyEngineRule, R13_SelectorPeersNeverMatchExternalIps) {
  Cluster c(
      pod_yaml("prod", "a", "{app: a}", "10.0.0.1") + pod_yaml("prod", "b", "{app: b}", "10.0.0.2") +
      pod_yaml("dev", "x", "{}", "10.0.1.1") +
      policy_yaml("prod", "a-in",
                  "{podSelector: {matchLabels: {app: a}}, ingress: [{from: [{namespaceSelector: {}}, {podSelector: {}},"
                  " {namespaceSelector: {}, podSelector: {}}]}]}") +
      policy_yaml("prod", "b-out",
                  "{podSelector: {matchLabels: {app: b}}, policyTypes: [Egress], egress: "
                  "[{to: [{namespaceSelector: {}}, {podSelector: {}}]}]}"));
  EXPECT_TRUE(c.allowed("dev/x", "prod/a", "80/TCP"));
  EXPECT_FALSE(c.allowed("203.0.113.9", "prod/a", "80/TCP"));
  EXPECT_FALSE(c.allowed("2001:db8::9", "prod/a", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/b", "dev/x", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/b", "203.0.113.9", "80/TCP"));
}

}  // namespace
}  // namespace npv

namespace npv {
namespace {

// PolicyEngine::peer_pods: the pod set of each compiled peer, by policy, direction, rule, peer.
TEST(PolicyEnginePeerPods, ExposesEachPeersPodsAndNothingForIgnoredRules) {
  test::Cluster c(test::pod_yaml("a", "web", "{app: web}", "10.0.0.1") + test::pod_yaml("a", "db", "{app: db}", "10.0.0.2") +
                  test::pod_yaml("b", "web", "{app: web}", "10.0.1.1") +
                  test::policy_yaml("a", "p",
                                    "{podSelector: {}, policyTypes: [Ingress], ingress: [{from: [{podSelector: {matchLabels: "
                                    "{app: web}}}, {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}, "
                                    "{ipBlock: {cidr: 10.0.0.0/24}}]}], egress: [{to: [{podSelector: {}}]}]}"));
  const auto& e = c.engine();
  auto refs = [&](PodSetView v) {
    std::vector<std::string> out;
    v.for_each([&](PodId p) { out.push_back(c.state().pods[p].ref()); });
    return out;
  };
  EXPECT_EQ(refs(e.peer_pods(0, Direction::kIngress, 0, 0)), (std::vector<std::string>{"a/web"}));
  EXPECT_EQ(refs(e.peer_pods(0, Direction::kIngress, 0, 1)), (std::vector<std::string>{"a/web", "b/web"}));
  EXPECT_EQ(refs(e.peer_pods(0, Direction::kIngress, 0, 2)), (std::vector<std::string>{"a/db", "a/web"}));
  EXPECT_EQ(e.peer_pods(0, Direction::kIngress, 0, 3).size(), 0u) << "out of range";
  EXPECT_EQ(e.peer_pods(0, Direction::kIngress, 1, 0).size(), 0u) << "out of range";
  EXPECT_EQ(e.peer_pods(0, Direction::kEgress, 0, 0).size(), 0u) << "policyTypes omits Egress: not compiled";
  EXPECT_EQ(e.peer_pods(7, Direction::kIngress, 0, 0).size(), 0u) << "no such policy";
}

}  // namespace
}  // namespace npv
