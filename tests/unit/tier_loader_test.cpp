// Loading AdminNetworkPolicy, BaselineAdminNetworkPolicy (v1alpha1) and ClusterNetworkPolicy
// (v1alpha2): the model each becomes, and the error each malformed field gives.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/manifest_builder.hpp"
#include "support/tier_yaml.hpp"

namespace npv {
namespace {

using test::anp_yaml;
using test::banp_yaml;
using test::cnp_yaml;
using test::load_yaml;
using ::testing::HasSubstr;

TEST(TierLoader, AdminNetworkPolicyIsModelled) {
  auto c = load_yaml(anp_yaml("guard", 7, "subject: {pods: {namespaceSelector: {matchLabels: {a: b}}, podSelector: {}}}, "
                                          "ingress: [{name: r0, action: Pass, from: [{namespaces: {}}], ports: "
                                          "[{portNumber: {port: 80}}, {namedPort: http}, {portRange: {protocol: UDP, start: 1, end: 9}}]}], "
                                          "egress: [{action: Deny, to: [{networks: [10.0.0.0/8, 'fd00::/8']}, {pods: "
                                          "{namespaceSelector: {}, podSelector: {matchLabels: {x: y}}}}]}]"));
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->tier_policies.size(), 1u);
  const TierPolicy& p = c->tier_policies[0];
  EXPECT_EQ(p.api, TierApi::kAdminNetworkPolicy);
  EXPECT_EQ(p.tier, TierKind::kAdmin);
  EXPECT_EQ(p.priority, 7);
  EXPECT_EQ(p.ref(), "AdminNetworkPolicy/guard");
  ASSERT_EQ(p.ingress.size(), 1u);
  EXPECT_EQ(p.ingress[0].name, "r0");
  EXPECT_EQ(p.ingress[0].action, TierAction::kPass);
  ASSERT_EQ(p.ingress[0].ports.size(), 3u);
  EXPECT_EQ(p.ingress[0].ports[1].kind, TierPort::Kind::kNamed);
  EXPECT_EQ(p.ingress[0].ports[2].proto, Protocol::kUDP);
  EXPECT_EQ(p.ingress[0].ports[2].end_port, 9);
  ASSERT_EQ(p.egress.size(), 1u);
  EXPECT_EQ(p.egress[0].peers[0].kind, TierPeer::Kind::kNetworks);
  EXPECT_EQ(p.egress[0].peers[0].networks.size(), 2u);
  EXPECT_EQ(p.egress[0].peers[1].kind, TierPeer::Kind::kPods);
}

TEST(TierLoader, ClusterNetworkPolicyMapsAcceptToAllow) {
  auto c = load_yaml(cnp_yaml("base", "Baseline", 3, "subject: {namespaces: {}}, egress: [{action: Accept, to: "
                                                     "[{namespaces: {}}], protocols: [{sctp: {destinationPort: {number: 9}}}]}]"));
  ASSERT_TRUE(c) << c.error().message;
  const TierPolicy& p = c->tier_policies.at(0);
  EXPECT_EQ(p.tier, TierKind::kBaseline);
  EXPECT_EQ(p.egress.at(0).action, TierAction::kAllow);
  EXPECT_EQ(p.egress.at(0).ports.at(0).proto, Protocol::kSCTP);
}

TEST(TierLoader, TiersAreSortedByTierThenPriority) {
  auto c = load_yaml(banp_yaml("subject: {namespaces: {}}") + anp_yaml("z", 1, "subject: {namespaces: {}}") +
                     anp_yaml("a", 9, "subject: {namespaces: {}}"));
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->tier_policies.size(), 3u);
  EXPECT_EQ(c->tier_policies[0].name, "z");
  EXPECT_EQ(c->tier_policies[1].name, "a");
  EXPECT_EQ(c->tier_policies[2].api, TierApi::kBaselineAdminNetworkPolicy);
}

struct BadCase {
  std::string yaml;
  std::vector<std::string> expected;
};

class TierLoaderBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(TierLoaderBad, NamesFileObjectFieldAndExpectation) {
  auto c = load_yaml(GetParam().yaml);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::kBadInput);
  EXPECT_THAT(c.error().message, HasSubstr("test.yaml"));
  for (const auto& s : GetParam().expected) EXPECT_THAT(c.error().message, HasSubstr(s));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, TierLoaderBad,
    ::testing::Values(
        BadCase{anp_yaml("p", 1001, "subject: {namespaces: {}}"), {"AdminNetworkPolicy p", "spec.priority", "0-1000"}},
        BadCase{"---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: p}\n"
                "spec: {subject: {namespaces: {}}}\n",
                {"spec.priority", "required"}},
        BadCase{anp_yaml("p", 1, "subject: {}"), {"spec.subject", "exactly one of namespaces, pods"}},
        BadCase{anp_yaml("p", 1, "subject: {namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}"),
                {"spec.subject", "got both namespaces and pods"}},
        BadCase{anp_yaml("p", 1, "subject: {namespaces: {}}, ingress: [{action: Accept, from: [{namespaces: {}}]}]"),
                {"spec.ingress[0].action", "Allow, Deny or Pass", "Accept"}},
        BadCase{anp_yaml("p", 1, "subject: {namespaces: {}}, ingress: [{action: Deny}]"), {"spec.ingress[0].from", "required"}},
        BadCase{anp_yaml("p", 1, "subject: {namespaces: {}}, ingress: [{action: Deny, from: []}]"),
                {"spec.ingress[0].from", "1-100 items"}},
        BadCase{anp_yaml("p", 1, "subject: {namespaces: {}}, ingress: [{action: Deny, from: [{networks: [10.0.0.0/8]}]}]"),
                {"spec.ingress[0].from[0].networks", "unknown field"}},
        BadCase{anp_yaml("p", 1, "subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [10.0.0.1/8]}]}]"),
                {"spec.egress[0].to[0].networks[0]", "invalid CIDR"}},
        BadCase{anp_yaml("p", 1, "subject: {namespaces: {}}, egress: [{action: Deny, to: [{namespaces: {}}], ports: "
                                 "[{portRange: {start: 9, end: 9}}]}]"),
                {"spec.egress[0].ports[0].portRange.end", "greater than start"}},
        BadCase{anp_yaml("p", 1, "subject: {namespaces: {}}, egress: [{action: Deny, to: [{namespaces: {}}], ports: "
                                 "[{portNumber: {port: 80}, namedPort: http}]}]"),
                {"spec.egress[0].ports[0]", "exactly one of portNumber, namedPort, portRange"}},
        BadCase{anp_yaml("p", 1, "subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [10.0.0.0/8]}], "
                                 "ports: [{namedPort: http}]}]"),
                {"spec.egress[0]", "named port"}},
        BadCase{anp_yaml("p", 1, "subject: {pods: {podSelector: {}}}"), {"spec.subject.pods.namespaceSelector", "required"}},
        BadCase{banp_yaml("subject: {namespaces: {}}, ingress: [{action: Pass, from: [{namespaces: {}}]}]"),
                {"BaselineAdminNetworkPolicy default", "spec.ingress[0].action", "Allow or Deny"}},
        BadCase{"---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: x}\n"
                "spec: {subject: {namespaces: {}}}\n",
                {"metadata.name", "must be \"default\""}},
        BadCase{cnp_yaml("c", "Middle", 1, "subject: {namespaces: {}}"), {"ClusterNetworkPolicy c", "spec.tier", "Admin or Baseline"}},
        BadCase{cnp_yaml("c", "Admin", 1, "subject: {namespaces: {}}, ingress: [{action: Allow, from: [{namespaces: {}}]}]"),
                {"spec.ingress[0].action", "Accept, Deny or Pass"}},
        BadCase{cnp_yaml("c", "Admin", 1, "subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}], "
                                          "protocols: [{tcp: {}}]}]"),
                {"spec.ingress[0].protocols[0].tcp.destinationPort", "required"}},
        BadCase{cnp_yaml("c", "Admin", 1, "subject: {namespaces: {}}, egress: [{action: Deny, to: [{domainNames: [a.example]}]}]"),
                {"spec.egress[0].to", "only supported for Accept"}},
        BadCase{anp_yaml("p", 1, "subject: {namespaces: {}}") + anp_yaml("p", 2, "subject: {namespaces: {}}"),
                {"duplicate object"}}));

}  // namespace
}  // namespace npv
