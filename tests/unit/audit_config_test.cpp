// npv audit: dead configuration (NPV-AUD-010, -011, -013) and shadowed rules (NPV-AUD-012), each
// with a manifest that triggers it and one that does not.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/audit_support.hpp"

namespace npv {
namespace {

using test::audit_yaml;
using test::default_deny;
using test::findings;
using test::netpol_yaml;
using test::two_pods;
using ::testing::HasSubstr;

const std::string kDeploymentOnly = R"(---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, namespace: production}
spec:
  template:
    metadata: {labels: {app: cache}}
    spec: {containers: [{name: redis, ports: [{name: redis, containerPort: 6379}]}]}
)";

TEST(AuditSelectsNoPod, TriggersOnALabelNothingCarries) {
  auto r = audit_yaml(two_pods() + netpol_yaml("production", "typo", "  podSelector: {matchLabels: {app: dbb}}\n"));
  auto f = findings(r, "NPV-AUD-010");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kLow);
  EXPECT_EQ(f[0].objects.at(0).display(), "NetworkPolicy production/typo spec.podSelector");
  EXPECT_THAT(f[0].message, HasSubstr("app=dbb"));
}

TEST(AuditSelectsNoPod, WorkloadTemplatesCountAsPods) {
  auto r = audit_yaml(kDeploymentOnly + netpol_yaml("production", "cache", "  podSelector: {matchLabels: {app: cache}}\n"));
  EXPECT_TRUE(findings(r, "NPV-AUD-010").empty()) << "a repository with only Deployments";
  auto dns = netpol_yaml("kube-system", "dns", "  podSelector: {matchLabels: {k8s-app: kube-dns}}\n");
  EXPECT_TRUE(findings(audit_yaml(two_pods() + dns), "NPV-AUD-010").empty()) << "the assumed kube-dns counts";
}

TEST(AuditPeerMatchesNothing, TriggersOnPodAndNamespaceSelectors) {
  auto r = audit_yaml(two_pods() + netpol_yaml("production", "db", R"(  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: api}}
    - namespaceSelector: {matchLabels: {team: monitoring}}
    - podSelector: {matchLabels: {app: web}}
    - ipBlock: {cidr: 192.0.2.0/24}
)"));
  auto f = findings(r, "NPV-AUD-011");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].objects.at(0).display(), "NetworkPolicy production/db spec.ingress[0].from[0]");
  EXPECT_THAT(f[0].message, HasSubstr("no pods matching app=api in namespace production"));
  EXPECT_EQ(f[1].objects.at(0).display(), "NetworkPolicy production/db spec.ingress[0].from[1]");
  EXPECT_THAT(f[1].message, HasSubstr("matches no namespace"));
}

TEST(AuditPeerMatchesNothing, SilentForTemplatesKubeDnsAndRulesKubernetesIgnores) {
  auto r = audit_yaml(kDeploymentOnly + two_pods() + netpol_yaml("production", "web", R"(  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: cache}}}]
  - to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
)"));
  EXPECT_TRUE(findings(r, "NPV-AUD-011").empty());
  auto ignored = audit_yaml(two_pods() + netpol_yaml("production", "web", R"(  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  egress: [{to: [{podSelector: {matchLabels: {app: nothing}}}]}]
)"));
  EXPECT_TRUE(findings(ignored, "NPV-AUD-011").empty()) << "ignored rules are NPV-AUD-013's";
}

TEST(AuditIgnoredRules, EgressRulesWithoutEgressInPolicyTypes) {
  auto r = audit_yaml(two_pods() + netpol_yaml("production", "web", R"(  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  egress: [{to: [{podSelector: {matchLabels: {app: db}}}]}]
)"));
  auto f = findings(r, "NPV-AUD-013");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kMedium);
  EXPECT_EQ(f[0].objects.at(0).display(), "NetworkPolicy production/web spec.egress");
  // Without policyTypes the rules make the policy egress-isolating (defaulting): nothing ignored.
  auto defaulted = audit_yaml(two_pods() + netpol_yaml("production", "web", R"(  podSelector: {matchLabels: {app: web}}
  egress: [{to: [{podSelector: {matchLabels: {app: db}}}]}]
)"));
  EXPECT_TRUE(findings(defaulted, "NPV-AUD-013").empty());
}

// Two ingress policies for app=db in production; returns the NPV-AUD-012 findings.
std::vector<Finding> shadowed(const std::string& a_selector, const std::string& a_rule, const std::string& b_rule) {
  auto yaml = two_pods() + default_deny("production") +
              netpol_yaml("production", "a", "  podSelector: " + a_selector + "\n  ingress:\n  - " + a_rule + "\n") +
              netpol_yaml("production", "b", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - " + b_rule + "\n");
  return findings(audit_yaml(yaml), "NPV-AUD-012");
}

const std::string kDb = "{matchLabels: {app: db}}";

TEST(AuditShadowed, BroaderPeersAndPortsShadow) {
  auto f = shadowed(kDb, "{ports: [{port: 5432}]}", "{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kLow);
  EXPECT_EQ(f[0].objects.at(0).display(), "NetworkPolicy production/b spec.ingress[0]");
  EXPECT_EQ(f[0].objects.at(1).display(), "NetworkPolicy production/a spec.ingress[0]");
  // A podSelector: {} policy applies to every pod, so it shadows too; fewer requirements cover more.
  EXPECT_EQ(shadowed("{}", "{from: [{podSelector: {matchLabels: {app: web}}}]}",
                     "{from: [{podSelector: {matchLabels: {app: web, tier: front}}}], ports: [{port: 5432}]}")
                .size(),
            1u);
  EXPECT_EQ(shadowed(kDb, "{ports: [{port: 5000, endPort: 6000}]}", "{ports: [{port: 5432}]}").size(), 1u);
  EXPECT_EQ(shadowed(kDb, "{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}",
                     "{from: [{ipBlock: {cidr: 10.1.0.0/16}}]}")
                .size(),
            0u)
      << "A excepts what B allows";
  EXPECT_EQ(shadowed(kDb, "{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}",
                     "{from: [{ipBlock: {cidr: 10.2.0.0/16}}]}")
                .size(),
            1u);
  EXPECT_EQ(shadowed(kDb, "{from: [{namespaceSelector: {}}]}",
                     "{from: [{namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: x}}}]}")
                .size(),
            1u);
}

TEST(AuditShadowed, NarrowerOrDifferentRulesDoNot) {
  // The narrow rule is a's here: it is the shadowed one, never the broad rule of b.
  auto narrow_first = shadowed(kDb, "{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}",
                               "{ports: [{port: 5432}]}");
  ASSERT_EQ(narrow_first.size(), 1u);
  EXPECT_EQ(narrow_first[0].objects.at(0).display(), "NetworkPolicy production/a spec.ingress[0]");
  EXPECT_TRUE(shadowed("{matchLabels: {app: web}}", "{}", "{ports: [{port: 5432}]}").empty())
      << "a policy for other pods shadows nothing";
  EXPECT_TRUE(shadowed(kDb, "{ports: [{port: 5432}]}", "{ports: [{port: 5432, protocol: UDP}]}").empty());
  EXPECT_TRUE(shadowed(kDb, "{ports: [{port: 5432}]}", "{ports: [{port: postgres}]}").empty())
      << "a number never covers a name";
  auto own_ns = shadowed(kDb, "{from: [{podSelector: {matchLabels: {app: web}}}]}", "{from: [{namespaceSelector: {}}]}");
  ASSERT_EQ(own_ns.size(), 1u) << "every namespace covers the policy's own, not the reverse";
  EXPECT_EQ(own_ns[0].objects.at(0).display(), "NetworkPolicy production/a spec.ingress[0]");
  EXPECT_TRUE(shadowed(kDb, "{from: [{podSelector: {matchLabels: {app: web}}}]}",
                       "{from: [{podSelector: {matchExpressions: [{key: app, operator: Exists}]}}]}")
                  .size() == 1u);
  EXPECT_TRUE(shadowed(kDb, "{from: [{podSelector: {matchLabels: {app: web}}}]}",
                       "{from: [{podSelector: {matchLabels: {tier: front}}}]}")
                  .empty())
      << "unrelated selectors";
}

TEST(AuditShadowed, IdenticalRulesReportOnlyTheLaterOne) {
  auto f = shadowed(kDb, "{ports: [{port: 5432}]}", "{ports: [{port: 5432}]}");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].objects.at(0).display(), "NetworkPolicy production/b spec.ingress[0]");
}

}  // namespace
}  // namespace npv
