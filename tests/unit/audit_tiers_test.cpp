// npv audit with the cluster-wide tiers: a baseline (or admin) deny-all satisfies the default-deny
// checks (NPV-AUD-002/003), tier policies count as policies for NPV-AUD-001, and same-priority
// tier policies over the same pods are reported (NPV-AUD-014).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/tier_yaml.hpp"
#include "npv/audit_report.hpp"
#include "unit/audit_support.hpp"

namespace npv {
namespace {

using test::anp_yaml;
using test::audit_yaml;
using test::banp_yaml;
using test::cnp_yaml;
using test::findings;
using test::two_pods;
using ::testing::HasSubstr;

const char* kDenyAllIngress = "ingress: [{action: Deny, from: [{namespaces: {}}]}]";
const char* kDenyAllEgress =
    "egress: [{action: Deny, to: [{namespaces: {}}, {networks: [0.0.0.0/0, '::/0']}]}]";

TEST(AuditTiers, BaselineDenyAllSatisfiesTheDefaultDenyChecks) {
  auto r = audit_yaml(two_pods() + banp_yaml(std::string("subject: {namespaces: {}}, ") + kDenyAllIngress + ", " + kDenyAllEgress));
  EXPECT_TRUE(findings(r, "NPV-AUD-001").empty());
  EXPECT_TRUE(findings(r, "NPV-AUD-002").empty());
  EXPECT_TRUE(findings(r, "NPV-AUD-003").empty());
  EXPECT_EQ(r.summary.tier_policies, 1u);
  EXPECT_EQ(audit_headline(r.summary), "0 NetworkPolicies found across 0 namespaces, and 1 cluster-wide policy");
}

TEST(AuditTiers, IngressOnlyBaselineLeavesEgressReported) {
  auto r = audit_yaml(two_pods() + banp_yaml(std::string("subject: {namespaces: {}}, ") + kDenyAllIngress));
  EXPECT_TRUE(findings(r, "NPV-AUD-002").empty());
  auto egress = findings(r, "NPV-AUD-003");
  ASSERT_EQ(egress.size(), 1u);
  EXPECT_THAT(egress[0].message, HasSubstr("no admin or baseline deny-all for egress"));
}

TEST(AuditTiers, EgressDenyToPodsOnlyIsNotADefaultDeny) {
  // Pods only: the Internet stays open, so egress is still reported.
  auto r = audit_yaml(two_pods() + cnp_yaml("deny-pods", "Baseline", 100,
                                            "subject: {namespaces: {}}, egress: [{action: Deny, to: [{namespaces: {}}]}]"));
  EXPECT_EQ(findings(r, "NPV-AUD-003").size(), 1u);
}

TEST(AuditTiers, NarrowSubjectOrPortsIsNotADefaultDeny) {
  auto narrow = audit_yaml(two_pods() + banp_yaml(std::string("subject: {pods: {namespaceSelector: {}, podSelector: "
                                                              "{matchLabels: {app: web}}}}, ") + kDenyAllIngress));
  EXPECT_EQ(findings(narrow, "NPV-AUD-002").size(), 1u);
  auto ports = audit_yaml(two_pods() + anp_yaml("p", 1, "subject: {namespaces: {}}, ingress: [{action: Deny, from: "
                                                        "[{namespaces: {}}], ports: [{portNumber: {port: 22}}]}]"));
  EXPECT_EQ(findings(ports, "NPV-AUD-002").size(), 1u);
}

TEST(AuditTiers, SamePriorityOverlappingPoliciesAreReported) {
  auto r = audit_yaml(two_pods() + anp_yaml("a", 7, std::string("subject: {namespaces: {}}, ") + kDenyAllIngress) +
                      cnp_yaml("b", "Admin", 7, "subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: "
                                                "{app: db}}}}, ingress: [{action: Accept, from: [{namespaces: {}}]}]"));
  auto f = findings(r, "NPV-AUD-014");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kMedium);
  EXPECT_THAT(f[0].message, HasSubstr("AdminNetworkPolicy/a and ClusterNetworkPolicy/b share admin tier priority 7"));
  EXPECT_THAT(f[0].message, HasSubstr("production/db"));
  EXPECT_EQ(f[0].objects.at(0).display(), "AdminNetworkPolicy a spec.priority");
}

TEST(AuditTiers, SamePriorityWithoutCommonPodsOrDirectionIsSilent) {
  // Disjoint subjects.
  auto disjoint = audit_yaml(two_pods() + anp_yaml("a", 7, "subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}, " + std::string(kDenyAllIngress)) +
                             anp_yaml("b", 7, "subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}, " + std::string(kDenyAllIngress)));
  EXPECT_TRUE(findings(disjoint, "NPV-AUD-014").empty());
  // Same pods, different directions.
  auto directions = audit_yaml(two_pods() + anp_yaml("a", 7, std::string("subject: {namespaces: {}}, ") + kDenyAllIngress) +
                               anp_yaml("b", 7, std::string("subject: {namespaces: {}}, ") + kDenyAllEgress));
  EXPECT_TRUE(findings(directions, "NPV-AUD-014").empty());
  // Different priorities.
  auto distinct = audit_yaml(two_pods() + anp_yaml("a", 7, std::string("subject: {namespaces: {}}, ") + kDenyAllIngress) +
                             anp_yaml("b", 8, std::string("subject: {namespaces: {}}, ") + kDenyAllIngress));
  EXPECT_TRUE(findings(distinct, "NPV-AUD-014").empty());
}

}  // namespace
}  // namespace npv
