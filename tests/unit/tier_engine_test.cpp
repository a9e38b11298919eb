// The tiered evaluation, one or more tests per rule T1..T12 of agent/policy/policy_engine.cpp.
//
// Expectations come from the network-policy-api reference (v1alpha1 AdminNetworkPolicy /
// BaselineAdminNetworkPolicy field docs, v1alpha2 ClusterNetworkPolicy Tier and Action docs), not
// from what the engine returns. Each test is built so that the plausible wrong reading of its rule
// (a union instead of first match, Pass as Allow, baseline over NetworkPolicy, priority ignored,
// ...) gives a different verdict.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "npv/policy_engine.hpp"
#include "support/engine_fixture.hpp"
#include "support/manifest_builder.hpp"
#include "support/tier_yaml.hpp"

namespace npv {
namespace {

using test::anp_yaml;
using test::banp_yaml;
using test::Cluster;
using test::cnp_yaml;
using test::namespace_yaml;
using test::pod_yaml;
using test::policy_yaml;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Two namespaces: prod (team: a) with web and db, dev (team: b) with tool.
std::string base() {
  return namespace_yaml("prod", "{team: a}") + namespace_yaml("dev", "{team: b}") +
         pod_yaml("prod", "web", "{app: web}", "10.0.0.1", "[{name: http, containerPort: 8080}]") +
         pod_yaml("prod", "db", "{app: db}", "10.0.0.2", "[{name: pg, containerPort: 5432}]") +
         pod_yaml("dev", "tool", "{app: tool}", "10.0.1.1");
}

const char* kFromDev = "from: [{namespaces: {matchLabels: {team: b}}}]";

std::string ingress(const std::string& action, const std::string& peers = kFromDev, const std::string& extra = "") {
  return "{action: " + action + ", " + peers + extra + "}";
}

// T1: tiers around NetworkPolicy; an IP endpoint is subject to nothing.
TEST(TierEngine, T1_NoTierPoliciesIsPlainNetworkPolicy) {
  Cluster c(base() + policy_yaml("prod", "deny", "{podSelector: {}}"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "80/TCP"));
  Explanation e = c.engine().explain(c.flow(c.ep("dev/tool"), c.ep("prod/web"), "80/TCP"));
  EXPECT_EQ(e.ingress.decided_by(), DecidingTier::kNetworkPolicy);
  EXPECT_EQ(e.egress.decided_by(), DecidingTier::kDefault);
}

TEST(TierEngine, T1_SelfStaysAllowedAndExternalEndpointsAreNotSubjects) {
  Cluster c(base() + anp_yaml("deny-all", 5, "subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}]}],"
                                             " egress: [{action: Deny, to: [{networks: [0.0.0.0/0]}]}]"));
  EXPECT_TRUE(c.allowed("prod/web", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/web", "prod/db", "80/TCP"));
  // From an external IP: its egress is nobody's, and the ingress rule's namespaces peer does not
  // match an IP; so allowed.
  EXPECT_TRUE(c.allowed("203.0.113.9", "prod/web", "80/TCP"));
  // To an external IP: the networks peer matches it.
  EXPECT_FALSE(c.allowed("prod/web", "203.0.113.9", "443/TCP"));
}

// T2: subjects.
TEST(TierEngine, T2_SubjectNamespacesAndPods) {
  Cluster c(base() + anp_yaml("ns", 1, "subject: {namespaces: {matchLabels: {team: a}}}, ingress: [" + ingress("Deny") + "]") +
            anp_yaml("pods", 2, "subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: tool}}}}, "
                                "ingress: [{action: Deny, from: [{namespaces: {matchLabels: {team: a}}}]}]"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/db", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/web", "dev/tool", "80/TCP"));  // "pods" subject: dev/tool only
  EXPECT_TRUE(c.allowed("prod/web", "prod/db", "80/TCP"));    // prod is not a peer of "ns"
}

TEST(TierEngine, T2_HostNetworkPodsAreNeverSubjects) {
  Cluster c(base() +
            "---\napiVersion: v1\nkind: Pod\nmetadata: {name: node-agent, namespace: prod, labels: {app: web}}\n"
            "spec: {hostNetwork: true, containers: [{name: c, image: x}]}\nstatus: {podIP: 192.168.0.5}\n" +
            anp_yaml("deny", 1, "subject: {namespaces: {}}, ingress: [" + ingress("Deny") + "]"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "80/TCP"));
  EXPECT_TRUE(c.allowed("dev/tool", "prod/node-agent", "80/TCP"));
}

// T3: priority order and first match within a policy.
TEST(TierEngine, T3_LowerPriorityNumberWins) {
  const std::string allow = anp_yaml("allow", 10, "subject: {namespaces: {}}, ingress: [" + ingress("Allow") + "]");
  const std::string deny = anp_yaml("deny", 20, "subject: {namespaces: {}}, ingress: [" + ingress("Deny") + "]");
  Cluster c(base() + deny + allow);
  EXPECT_TRUE(c.allowed("dev/tool", "prod/web", "80/TCP"));
  Explanation e = c.engine().explain(c.flow(c.ep("dev/tool"), c.ep("prod/web"), "80/TCP"));
  ASSERT_TRUE(e.ingress.admin);
  EXPECT_EQ(c.state().tier_policies[e.ingress.admin->policy].name, "allow");
  // Swapped priorities: deny first. Names do not matter.
  Cluster d(base() + anp_yaml("allow", 30, "subject: {namespaces: {}}, ingress: [" + ingress("Allow") + "]") + deny);
  EXPECT_FALSE(d.allowed("dev/tool", "prod/web", "80/TCP"));
}

TEST(TierEngine, T3_FirstMatchingRuleInOrderDecides) {
  Cluster c(base() + anp_yaml("p", 1, "subject: {namespaces: {}}, ingress: [" +
                                          ingress("Allow", kFromDev, ", ports: [{portNumber: {port: 80}}]") + ", " +
                                          ingress("Deny") + "]"));
  EXPECT_TRUE(c.allowed("dev/tool", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "81/TCP"));
  Explanation e = c.engine().explain(c.flow(c.ep("dev/tool"), c.ep("prod/web"), "81/TCP"));
  ASSERT_TRUE(e.ingress.admin);
  EXPECT_EQ(e.ingress.admin->rule, 1u);
  EXPECT_EQ(e.ingress.admin->action, TierAction::kDeny);
}

// T4: admin Allow/Deny override NetworkPolicy; Pass hands over to it.
TEST(TierEngine, T4_AdminDenyOverridesNetworkPolicyAllow) {
  Cluster c(base() + policy_yaml("prod", "allow-dev", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {}}]}]}") +
            anp_yaml("deny", 1, "subject: {namespaces: {matchLabels: {team: a}}}, ingress: [" + ingress("Deny") + "]"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "80/TCP"));
  Explanation e = c.engine().explain(c.flow(c.ep("dev/tool"), c.ep("prod/web"), "80/TCP"));
  EXPECT_EQ(e.ingress.decided_by(), DecidingTier::kAdmin);
  EXPECT_THAT(e.ingress.allowed_by, ElementsAre(RuleRef{0, 0}));  // the NetworkPolicy view, overridden
}

TEST(TierEngine, T4_AdminAllowOverridesNetworkPolicyDeny) {
  Cluster c(base() + policy_yaml("prod", "deny", "{podSelector: {}}") +
            anp_yaml("allow", 1, "subject: {namespaces: {}}, ingress: [" + ingress("Allow") + "]"));
  EXPECT_TRUE(c.allowed("dev/tool", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/db", "prod/web", "80/TCP"));  // not from dev: NetworkPolicy denies
}

TEST(TierEngine, T4_PassSkipsLaterAdminRulesAndHandsToNetworkPolicy) {
  const std::string admin = anp_yaml("pass", 1, "subject: {namespaces: {}}, ingress: [" + ingress("Pass") + "]") +
                            anp_yaml("deny", 2, "subject: {namespaces: {}}, ingress: [" + ingress("Deny") + "]");
  // Not isolated: Pass then the default allows (the later Deny is skipped).
  Cluster open(base() + admin);
  EXPECT_TRUE(open.allowed("dev/tool", "prod/web", "80/TCP"));
  // Isolated without a matching rule: NetworkPolicy denies (Pass is not Allow).
  Cluster closed(base() + admin + policy_yaml("prod", "deny", "{podSelector: {}}"));
  EXPECT_FALSE(closed.allowed("dev/tool", "prod/web", "80/TCP"));
  Explanation e = closed.engine().explain(closed.flow(closed.ep("dev/tool"), closed.ep("prod/web"), "80/TCP"));
  ASSERT_TRUE(e.ingress.admin);
  EXPECT_EQ(e.ingress.admin->action, TierAction::kPass);
  EXPECT_EQ(e.ingress.decided_by(), DecidingTier::kNetworkPolicy);
}

TEST(TierEngine, T4_PassAlsoSkipsTheBaselineDenyWhenNotIsolated) {
  // Pass goes to the NetworkPolicy tier; with no policy there, the Baseline tier still applies.
  Cluster c(base() + anp_yaml("pass", 1, "subject: {namespaces: {}}, ingress: [" + ingress("Pass") + "]") +
            banp_yaml("subject: {namespaces: {}}, ingress: [" + ingress("Deny") + "]"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "80/TCP"));
  Explanation e = c.engine().explain(c.flow(c.ep("dev/tool"), c.ep("prod/web"), "80/TCP"));
  EXPECT_EQ(e.ingress.decided_by(), DecidingTier::kBaseline);
}

// T5/T6: baseline only where no NetworkPolicy isolates the pod in that direction.
TEST(TierEngine, T6_BaselineDenyAppliesOnlyToPodsNoNetworkPolicyIsolates) {
  const std::string banp = banp_yaml("subject: {namespaces: {}}, ingress: [" + ingress("Deny") + "]");
  Cluster c(base() + banp +
            policy_yaml("prod", "web-from-dev", "{podSelector: {matchLabels: {app: web}}, ingress: [{from: [{namespaceSelector: {}}]}]}"));
  EXPECT_TRUE(c.allowed("dev/tool", "prod/web", "80/TCP"));   // NetworkPolicy decides
  EXPECT_FALSE(c.allowed("dev/tool", "prod/db", "80/TCP"));   // not isolated: baseline denies
  EXPECT_TRUE(c.allowed("prod/web", "prod/db", "80/TCP"));    // baseline rule does not match prod
}

TEST(TierEngine, T6_BaselineIsPerDirection) {
  // An egress-only NetworkPolicy does not stop the ingress baseline.
  Cluster c(base() + banp_yaml("subject: {namespaces: {}}, ingress: [" + ingress("Deny") + "]") +
            policy_yaml("prod", "egress-only", "{podSelector: {}, policyTypes: [Egress]}"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/db", "80/TCP"));
}

TEST(TierEngine, T6_BaselineAllowBeforeDeny_AndCnpBaselinePriorities) {
  Cluster c(base() + cnp_yaml("z-deny", "Baseline", 50, "subject: {namespaces: {}}, ingress: [" + ingress("Deny") + "]") +
            cnp_yaml("a-allow-http", "Baseline", 60,
                     "subject: {namespaces: {}}, ingress: [" +
                         ingress("Accept", kFromDev, ", protocols: [{tcp: {destinationPort: {number: 80}}}]") + "]"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "80/TCP"));  // priority 50 first
  Cluster d(base() + cnp_yaml("deny", "Baseline", 50, "subject: {namespaces: {}}, ingress: [" + ingress("Deny") + "]") +
            cnp_yaml("allow-http", "Baseline", 40,
                     "subject: {namespaces: {}}, ingress: [" +
                         ingress("Accept", kFromDev, ", protocols: [{tcp: {destinationPort: {number: 80}}}]") + "]"));
  EXPECT_TRUE(d.allowed("dev/tool", "prod/web", "80/TCP"));
  EXPECT_FALSE(d.allowed("dev/tool", "prod/web", "81/TCP"));
}

TEST(TierEngine, T6_BaselinePassLeavesTheDefault) {
  Cluster c(base() + cnp_yaml("pass", "Baseline", 1, "subject: {namespaces: {}}, ingress: [" + ingress("Pass") + "]") +
            cnp_yaml("deny", "Baseline", 2, "subject: {namespaces: {}}, ingress: [" + ingress("Deny") + "]"));
  EXPECT_TRUE(c.allowed("dev/tool", "prod/web", "80/TCP"));
  EXPECT_EQ(c.engine().explain(c.flow(c.ep("dev/tool"), c.ep("prod/web"), "80/TCP")).ingress.decided_by(),
            DecidingTier::kDefault);
}

TEST(TierEngine, T4_CnpAdminTierMixesWithAnpByPriority) {
  Cluster c(base() + anp_yaml("anp-deny", 20, "subject: {namespaces: {}}, ingress: [" + ingress("Deny") + "]") +
            cnp_yaml("cnp-accept", "Admin", 10, "subject: {namespaces: {}}, ingress: [" + ingress("Accept") + "]") +
            policy_yaml("prod", "deny", "{podSelector: {}}"));
  EXPECT_TRUE(c.allowed("dev/tool", "prod/web", "80/TCP"));
}

// T7/T8: peers.
TEST(TierEngine, T7_PodsPeerNeedsBothSelectors) {
  Cluster c(base() + anp_yaml("p", 1, "subject: {namespaces: {}}, ingress: [{action: Deny, from: [{pods: "
                                      "{namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: web}}}}]}]"));
  EXPECT_FALSE(c.allowed("prod/web", "dev/tool", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/db", "dev/tool", "80/TCP"));
}

TEST(TierEngine, T8_NetworksPeerMatchesPodsByIpToo) {
  Cluster c(base() + anp_yaml("p", 1, "subject: {namespaces: {matchLabels: {team: b}}}, egress: [{action: Deny, to: "
                                      "[{networks: [10.0.0.0/24]}]}]"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed(c.ep("dev/tool"), c.ep("10.0.0.77"), "80/TCP"));
  EXPECT_TRUE(c.allowed(c.ep("dev/tool"), c.ep("10.0.2.1"), "80/TCP"));
}

// T9: nodes peers match nothing, with a note.
TEST(TierEngine, T9_NodesPeerMatchesNothingAndIsNoted) {
  Cluster c(base() + anp_yaml("p", 1, "subject: {namespaces: {}}, egress: [{name: to-nodes, action: Deny, to: [{nodes: {}}]}]"));
  EXPECT_TRUE(c.allowed(c.ep("dev/tool"), c.ep("192.168.0.1"), "10250/TCP"));
  bool noted = false;
  for (const auto& n : c.state().notes) noted = noted || n.find("to-nodes") != std::string::npos;
  EXPECT_TRUE(noted);
}

// T10: ports.
TEST(TierEngine, T10_PortNumberRangeAndNamedPort) {
  Cluster c(base() + anp_yaml("p", 1, "subject: {namespaces: {}}, ingress: [" +
                                          ingress("Deny", kFromDev, ", ports: [{portNumber: {protocol: UDP, port: 53}}, "
                                                                    "{portRange: {start: 9000, end: 9010}}, {namedPort: pg}]") +
                                          "]"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "53/UDP"));
  EXPECT_TRUE(c.allowed("dev/tool", "prod/web", "53/TCP"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "9010/TCP"));
  EXPECT_TRUE(c.allowed("dev/tool", "prod/web", "9011/TCP"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/db", "5432/TCP"));  // pg is db's container port
  EXPECT_TRUE(c.allowed("dev/tool", "prod/web", "5432/TCP"));  // web has no port "pg"
}

TEST(TierEngine, T10_CnpProtocolsRangeAndNamedPort) {
  Cluster c(base() + cnp_yaml("p", "Admin", 1, "subject: {namespaces: {}}, ingress: [" +
                                                   ingress("Deny", kFromDev, ", protocols: [{udp: {destinationPort: {range: {start: 50, end: 60}}}}, "
                                                                             "{destinationNamedPort: http}]") +
                                                   "]"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "55/UDP"));
  EXPECT_TRUE(c.allowed("dev/tool", "prod/web", "55/TCP"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "8080/TCP"));
  EXPECT_TRUE(c.allowed("dev/tool", "prod/db", "8080/TCP"));
}

// T12: same priority is reported.
TEST(TierEngine, T12_SamePriorityConflictIsReported) {
  Cluster c(base() + anp_yaml("a-allow", 5, "subject: {namespaces: {}}, ingress: [" + ingress("Allow") + "]") +
            anp_yaml("b-deny", 5, "subject: {namespaces: {}}, ingress: [" + ingress("Deny") + "]"));
  Explanation e = c.engine().explain(c.flow(c.ep("dev/tool"), c.ep("prod/web"), "80/TCP"));
  ASSERT_TRUE(e.ingress.admin);
  EXPECT_EQ(c.state().tier_policies[e.ingress.admin->policy].name, "a-allow");
  ASSERT_EQ(e.ingress.tied.size(), 1u);
  EXPECT_EQ(c.state().tier_policies[e.ingress.tied[0].policy].name, "b-deny");
  bool noted = false;
  for (const auto& n : c.state().notes) noted = noted || n.find("priority 5 is shared by") != std::string::npos;
  EXPECT_TRUE(noted);
  // Different priorities: no tie.
  Cluster d(base() + anp_yaml("a-allow", 5, "subject: {namespaces: {}}, ingress: [" + ingress("Allow") + "]") +
            anp_yaml("b-deny", 6, "subject: {namespaces: {}}, ingress: [" + ingress("Deny") + "]"));
  EXPECT_THAT(d.engine().explain(d.flow(d.ep("dev/tool"), d.ep("prod/web"), "80/TCP")).ingress.tied, IsEmpty());
}

TEST(TierEngine, EgressAndIngressAreBothTiered) {
  Cluster c(base() + anp_yaml("egress-deny", 1, "subject: {namespaces: {matchLabels: {team: b}}}, egress: [{action: Deny, "
                                                "to: [{namespaces: {matchLabels: {team: a}}}]}]"));
  EXPECT_FALSE(c.allowed("dev/tool", "prod/web", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/web", "dev/tool", "80/TCP"));
  Explanation e = c.engine().explain(c.flow(c.ep("dev/tool"), c.ep("prod/web"), "80/TCP"));
  EXPECT_EQ(e.egress.decided_by(), DecidingTier::kAdmin);
  EXPECT_EQ(e.ingress.decided_by(), DecidingTier::kDefault);
}

}  // namespace
}  // namespace npv
