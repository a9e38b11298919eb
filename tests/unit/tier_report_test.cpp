// The tiers in what npv prints: npv explain (JSON and text), npv matrix, and the deciding
// policies findings list (lab reports, the agent).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "npv/explain_report.hpp"
#include "npv/live_verifier.hpp"
#include "npv/matrix.hpp"
#include "support/engine_fixture.hpp"
#include "support/manifest_builder.hpp"
#include "support/tier_yaml.hpp"

namespace npv {
namespace {

using nlohmann::json;
using test::anp_yaml;
using test::banp_yaml;
using test::Cluster;
using test::namespace_yaml;
using test::pod_yaml;
using test::policy_yaml;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::string cluster_yaml() {
  return namespace_yaml("prod", "{team: a}") + namespace_yaml("dev", "{team: b}") +
         pod_yaml("prod", "web", "{app: web}", "10.0.0.1") + pod_yaml("prod", "db", "{app: db}", "10.0.0.2") +
         pod_yaml("dev", "tool", "{app: tool}", "10.0.1.1") +
         policy_yaml("prod", "allow-all-in", "{podSelector: {matchLabels: {app: web}}, ingress: [{}]}") +
         anp_yaml("no-dev", 10, "subject: {namespaces: {matchLabels: {team: a}}}, ingress: [{name: block-dev, action: Deny, "
                                "from: [{namespaces: {matchLabels: {team: b}}}]}]") +
         banp_yaml("subject: {namespaces: {}}, ingress: [{name: default-deny, action: Deny, from: [{namespaces: {}}]}]");
}

TEST(TierReport, ExplainJsonNamesTierPolicyRuleAndAction) {
  Cluster c(cluster_yaml());
  Flow flow = c.flow(c.ep("dev/tool"), c.ep("prod/web"), "80/TCP");
  json j = explanation_to_json(c.state(), flow, c.engine().explain(flow));
  EXPECT_EQ(j["allowed"], false);
  EXPECT_EQ(j["ingress"]["decided_by"], "admin");
  EXPECT_EQ(j["ingress"]["admin_rule"], json::parse(R"({"tier": "admin", "kind": "AdminNetworkPolicy", "policy": "no-dev",
      "priority": 10, "rule": 0, "rule_name": "block-dev", "action": "Deny"})"));
  EXPECT_EQ(j["ingress"]["baseline_rule"], nullptr);
  // The NetworkPolicy view is still there, overridden.
  EXPECT_EQ(j["ingress"]["isolating_policies"], json::parse(R"(["prod/allow-all-in"])"));
  EXPECT_EQ(j["egress"]["decided_by"], "default");
}

TEST(TierReport, ExplainJsonOfABaselineDecision) {
  Cluster c(cluster_yaml());
  Flow flow = c.flow(c.ep("prod/web"), c.ep("prod/db"), "80/TCP");
  json j = explanation_to_json(c.state(), flow, c.engine().explain(flow));
  EXPECT_EQ(j["allowed"], false);
  EXPECT_EQ(j["ingress"]["decided_by"], "baseline");
  EXPECT_EQ(j["ingress"]["baseline_rule"]["kind"], "BaselineAdminNetworkPolicy");
  EXPECT_EQ(j["ingress"]["baseline_rule"]["rule_name"], "default-deny");
  // web is isolated by a NetworkPolicy: the baseline does not apply to it.
  Flow to_web = c.flow(c.ep("prod/db"), c.ep("prod/web"), "80/TCP");
  json k = explanation_to_json(c.state(), to_web, c.engine().explain(to_web));
  EXPECT_EQ(k["allowed"], true);
  EXPECT_EQ(k["ingress"]["decided_by"], "networkpolicy");
  EXPECT_EQ(k["ingress"]["baseline_rule"], nullptr);
}

TEST(TierReport, ExplainTextSaysWhichTierDecided) {
  Cluster c(cluster_yaml());
  Flow flow = c.flow(c.ep("dev/tool"), c.ep("prod/web"), "80/TCP");
  std::string text = explanation_to_text(c.state(), flow, c.engine().explain(flow));
  EXPECT_THAT(text, HasSubstr("admin tier: AdminNetworkPolicy/no-dev (admin tier, priority 10) ingress[0] \"block-dev\": Deny"));
  EXPECT_THAT(text, HasSubstr("DENIED by the admin tier"));
  Flow base = c.flow(c.ep("prod/web"), c.ep("prod/db"), "80/TCP");
  std::string btext = explanation_to_text(c.state(), base, c.engine().explain(base));
  EXPECT_THAT(btext, HasSubstr("baseline tier: BaselineAdminNetworkPolicy/default"));
  EXPECT_THAT(btext, HasSubstr("DENIED by the baseline tier"));
}

TEST(TierReport, ExplainReportsSamePriorityConflicts) {
  Cluster c(namespace_yaml("prod") + pod_yaml("prod", "a", "{}", "10.0.0.1") + pod_yaml("prod", "b", "{}", "10.0.0.2") +
            anp_yaml("x-allow", 3, "subject: {namespaces: {}}, ingress: [{action: Allow, from: [{namespaces: {}}]}]") +
            anp_yaml("y-deny", 3, "subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}]}]"));
  Flow flow = c.flow(c.ep("prod/a"), c.ep("prod/b"), "80/TCP");
  Explanation e = c.engine().explain(flow);
  json j = explanation_to_json(c.state(), flow, e);
  ASSERT_EQ(j["ingress"]["same_priority_conflicts"].size(), 1u);
  EXPECT_EQ(j["ingress"]["same_priority_conflicts"][0]["policy"], "y-deny");
  EXPECT_THAT(explanation_to_text(c.state(), flow, e), HasSubstr("has the same priority and also matches"));
}

TEST(TierReport, MatrixFollowsTheTiers) {
  Cluster c(cluster_yaml());
  const PortProto ports[] = {test::port_of("80/TCP")};
  ReachabilityMatrix m = compute_matrix(c.engine(), ports, {});
  const auto pod = [&](const char* ref) { return *c.state().find_pod(ref); };
  EXPECT_FALSE(m.at(0, pod("dev/tool"), pod("prod/web")));  // admin Deny over the NetworkPolicy allow
  EXPECT_TRUE(m.at(0, pod("prod/db"), pod("prod/web")));    // NetworkPolicy allows; baseline not consulted
  EXPECT_FALSE(m.at(0, pod("prod/web"), pod("prod/db")));   // baseline Deny
  EXPECT_FALSE(m.at(0, pod("prod/web"), pod("dev/tool")));  // baseline Deny in dev too
}

TEST(TierReport, DecidingPoliciesNameTierPolicies) {
  Cluster c(cluster_yaml());
  Flow denied = c.flow(c.ep("dev/tool"), c.ep("prod/web"), "80/TCP");
  EXPECT_THAT(deciding_policies(c.state(), c.engine().explain(denied), false), ElementsAre("AdminNetworkPolicy/no-dev"));
  Flow base = c.flow(c.ep("prod/web"), c.ep("prod/db"), "80/TCP");
  EXPECT_THAT(deciding_policies(c.state(), c.engine().explain(base), false), ElementsAre("BaselineAdminNetworkPolicy/default"));
  Flow allowed = c.flow(c.ep("prod/db"), c.ep("prod/web"), "80/TCP");
  EXPECT_THAT(deciding_policies(c.state(), c.engine().explain(allowed), true), ElementsAre("prod/allow-all-in"));
}

}  // namespace
}  // namespace npv
