// The cluster-wide tiers in the lab's nftables text (lab/nft_tiers.hpp, nft_dataplane.cpp): order,
// verdicts, the tail chain, and the ignore-admin-deny fault. (The privileged lab_tiers_test loads
// these rulesets and checks what the kernel does with them.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "npv/loader.hpp"
#include "npv/nft_dataplane.hpp"

namespace npv {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ClusterState e2e_with_tiers() {
  auto c = load_cluster({NPV_SOURCE_DIR "/examples/e2e-model", NPV_SOURCE_DIR "/examples/e2e-model-tiers"});
  EXPECT_TRUE(c) << c.error().message;
  return c ? std::move(*c) : ClusterState{};
}

std::string ruleset(const ClusterState& c, Dataplane mode, const char* pod) {
  DataplaneOptions o;
  o.mode = mode;
  auto all = compile_nft(c, o);
  auto it = all.find(*c.find_pod(pod));
  return it == all.end() ? std::string() : it->second;
}

TEST(NftTiers, AdminDenyComesBeforeTheNetworkPolicyAccepts) {
  const ClusterState c = e2e_with_tiers();
  const std::string x = ruleset(c, Dataplane::kEnforcing, "x/a");
  const auto deny = x.find("ip saddr { 10.213.2.1, 10.213.2.2, 10.213.2.3 } tcp dport 80 counter drop comment "
                           "\"AdminNetworkPolicy/deny-y-to-x-80 ingress[0]\"");
  ASSERT_NE(deny, std::string::npos) << x;
  const auto go = x.find("goto ingress_tail", deny);
  const auto tail = x.find("chain ingress_tail {", go);
  ASSERT_NE(tail, std::string::npos) << x;
  // The NetworkPolicy accept (y on serve-80-tcp) and the final drop are in the tail.
  EXPECT_NE(x.find("x/allow-from-y-named-port ingress[0]", tail), std::string::npos) << x;
  EXPECT_NE(x.find("counter drop\n  }", tail), std::string::npos) << x;
}

TEST(NftTiers, PassGoesToTheTailWhereTheBaselineDecides) {
  const ClusterState c = e2e_with_tiers();
  const std::string z = ruleset(c, Dataplane::kEnforcing, "z/b");
  EXPECT_THAT(z, HasSubstr("ip saddr { 10.213.1.1, 10.213.1.2, 10.213.1.3 } goto ingress_tail comment "
                           "\"AdminNetworkPolicy/pass-x-to-z ingress[0]\""));
  const auto tail = z.find("chain ingress_tail {");
  ASSERT_NE(tail, std::string::npos);
  const auto allow = z.find("ip saddr { 10.213.1.1, 10.213.1.2, 10.213.1.3 } accept comment \"BaselineAdminNetworkPolicy/default ingress[0]\"", tail);
  const auto deny = z.find("ip saddr { 10.213.2.1, 10.213.2.2, 10.213.2.3 } counter drop comment \"BaselineAdminNetworkPolicy/default ingress[1]\"", tail);
  EXPECT_NE(allow, std::string::npos) << z;
  EXPECT_NE(deny, std::string::npos) << z;
  EXPECT_LT(allow, deny);
  // v1alpha2 networks Deny on the egress side of z pods.
  EXPECT_THAT(z, HasSubstr("ip daddr 10.213.3.2/32 tcp dport 81 counter drop comment \"ClusterNetworkPolicy/z-no-81-to-z-b egress[0]\""));
}

TEST(NftTiers, IgnoreAdminDenyLeavesOutOnlyAdminDenies) {
  const ClusterState c = e2e_with_tiers();
  const std::string x = ruleset(c, Dataplane::kIgnoreAdminDeny, "x/a");
  EXPECT_THAT(x, Not(HasSubstr("AdminNetworkPolicy/deny-y-to-x-80")));
  EXPECT_THAT(x, HasSubstr("x/allow-from-y-named-port ingress[0]"));
  const std::string z = ruleset(c, Dataplane::kIgnoreAdminDeny, "z/b");
  EXPECT_THAT(z, Not(HasSubstr("ClusterNetworkPolicy/z-no-81-to-z-b")));
  EXPECT_THAT(z, HasSubstr("AdminNetworkPolicy/pass-x-to-z"));             // Pass kept
  EXPECT_THAT(z, HasSubstr("counter drop comment \"BaselineAdminNetworkPolicy/default ingress[1]\""));  // baseline Deny kept
  EXPECT_EQ(parse_dataplane("ignore-admin-deny"), Dataplane::kIgnoreAdminDeny);
}

TEST(NftTiers, PodsWithoutTierRulesKeepTheirRuleset) {
  ClusterState plain = e2e_with_tiers();
  const std::string with = ruleset(plain, Dataplane::kEnforcing, "y/c");  // no tier selects y
  plain.tier_policies.clear();
  EXPECT_EQ(with, ruleset(plain, Dataplane::kEnforcing, "y/c"));
  EXPECT_THAT(with, Not(HasSubstr("_tail")));
}

}  // namespace
}  // namespace npv
