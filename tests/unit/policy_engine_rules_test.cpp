// The NetworkPolicy engine, one or more tests per rule R1..R17 of agent/policy/policy_engine.cpp:
// R1-R8 here, R9-R13 in policy_engine_peers_test.cpp, R14-R17 and the explanation in
// policy_engine_ports_test.cpp.
//
// Every expectation comes from the Kubernetes API reference (networking.k8s.io/v1 NetworkPolicySpec,
// NetworkPolicyPeer, NetworkPolicyPort, IPBlock; metav1 LabelSelector) and the NetworkPolicy
// concept page, never from what the engine happens to return. Each test is built so that the
// plausible wrong implementation of its rule gives a different verdict. Clusters are loaded from
// YAML manifests through the project's loader.
#include "npv/policy_engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/engine_fixture.hpp"
#include "support/manifest_builder.hpp"

namespace npv {
namespace {

using test::Cluster;
using test::pod_yaml;
using test::policy_yaml;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------------------------
// R1  A pod may always talk to itself.

TEST(PolicyEngineRule, R1_PodCanAlwaysReachItselfThroughDenyAll) {
  Cluster c(pod_yaml("prod", "a", "{app: x}", "10.0.0.1") + pod_yaml("prod", "b", "{app: x}", "10.0.0.2") +
            policy_yaml("prod", "deny-all", "{podSelector: {}, policyTypes: [Ingress, Egress]}"));
  // The policy is in force: a twin pod with the very same labels is cut off.
  EXPECT_FALSE(c.allowed("prod/a", "prod/b", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/a", "prod/a", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/a", "prod/a", "53/UDP"));
  EXPECT_TRUE(c.allowed(c.ep("prod/a", "10.0.0.1"), c.ep("prod/a", "10.0.0.1"), "8080/TCP"));

  Explanation self = c.engine().explain(c.flow(c.ep("prod/a"), c.ep("prod/a"), "80/TCP"));
  EXPECT_TRUE(self.self);
  EXPECT_TRUE(self.allowed());
  EXPECT_FALSE(c.engine().explain(c.flow(c.ep("prod/a"), c.ep("prod/b"), "80/TCP")).self);
}

// ---------------------------------------------------------------------------------------------
// R2  The source's egress AND the destination's ingress must both allow the flow.

TEST(PolicyEngineRule, R2_EgressOfSourceAndIngressOfDestinationAreBothRequired) {
  Cluster c(
      pod_yaml("prod", "client", "{app: client}", "10.0.0.1") +
      pod_yaml("prod", "server", "{app: server}", "10.0.0.2") +
      policy_yaml("prod", "client-out",
                  "{podSelector: {matchLabels: {app: client}}, policyTypes: [Egress], egress: "
                  "[{to: [{podSelector: {matchLabels: {app: server}}}], ports: [{port: 80}, {port: 8080}]}]}") +
      policy_yaml("prod", "server-in",
                  "{podSelector: {matchLabels: {app: server}}, ingress: "
                  "[{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 443}, {port: 8080}]}]}"));
  EXPECT_TRUE(c.allowed("prod/client", "prod/server", "8080/TCP"));  // both sides allow
  EXPECT_FALSE(c.allowed("prod/client", "prod/server", "80/TCP"));   // egress yes, ingress no
  EXPECT_FALSE(c.allowed("prod/client", "prod/server", "443/TCP"));  // ingress yes, egress no

  Explanation e = c.engine().explain(c.flow(c.ep("prod/client"), c.ep("prod/server"), "80/TCP"));
  EXPECT_TRUE(e.egress.allowed());
  EXPECT_FALSE(e.ingress.allowed());
  e = c.engine().explain(c.flow(c.ep("prod/client"), c.ep("prod/server"), "443/TCP"));
  EXPECT_FALSE(e.egress.allowed());
  EXPECT_TRUE(e.ingress.allowed());
}

// ---------------------------------------------------------------------------------------------
// R3  An IP outside the cluster is not subject to NetworkPolicy in its own direction; the pod on
//     the other side still is.

TEST(PolicyEngineRule, R3_ExternalIpIsNotGovernedInItsOwnDirection) {
  Cluster c(
      pod_yaml("prod", "web", "{app: web}", "10.0.0.1") + pod_yaml("prod", "open", "{app: open}", "10.0.0.2") +
      policy_yaml("prod", "web-in",
                  "{podSelector: {matchLabels: {app: web}}, ingress: [{from: [{ipBlock: {cidr: 203.0.113.0/24}}]}]}") +
      policy_yaml("prod", "web-out",
                  "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: "
                  "[{to: [{ipBlock: {cidr: 198.51.100.0/24}}]}]}") +
      // A namespace-wide deny-all elsewhere must not be applied to outside IPs either.
      policy_yaml("default", "deny-all", "{podSelector: {}, policyTypes: [Ingress, Egress]}"));

  // Outside source: only the destination pod's ingress decides.
  EXPECT_TRUE(c.allowed("203.0.113.7", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("192.0.2.1", "prod/web", "80/TCP"));
  EXPECT_TRUE(c.allowed("192.0.2.1", "prod/open", "80/TCP"));
  // Outside destination: only the source pod's egress decides.
  EXPECT_TRUE(c.allowed("prod/web", "198.51.100.9", "443/TCP"));
  EXPECT_FALSE(c.allowed("prod/web", "192.0.2.1", "443/TCP"));
  EXPECT_TRUE(c.allowed("prod/open", "192.0.2.1", "443/TCP"));

  Explanation in = c.engine().explain(c.flow(c.ep("203.0.113.7"), c.ep("prod/web"), "80/TCP"));
  EXPECT_FALSE(in.egress.governed);
  EXPECT_FALSE(in.egress.isolated());
  EXPECT_THAT(in.egress.isolating, IsEmpty());
  EXPECT_TRUE(in.ingress.governed);
  EXPECT_TRUE(in.ingress.isolated());

  Explanation out = c.engine().explain(c.flow(c.ep("prod/web"), c.ep("192.0.2.1"), "443/TCP"));
  EXPECT_TRUE(out.egress.governed);
  EXPECT_FALSE(out.egress.allowed());
  EXPECT_FALSE(out.ingress.governed);
  EXPECT_TRUE(out.ingress.allowed());
}

// ---------------------------------------------------------------------------------------------
// R4  Isolation: a policy in the pod's own namespace selecting it, with the direction in
//     policyTypes (defaulted: Ingress, plus Egress when spec.egress has rules).

TEST(PolicyEngineRule, R4_PolicyInAnotherNamespaceDoesNotIsolate) {
  Cluster c(pod_yaml("prod", "api", "{app: api}", "10.0.0.1") + pod_yaml("prod", "web", "{app: web}", "10.0.0.2") +
            pod_yaml("dev", "api", "{app: api}", "10.0.1.1") +
            policy_yaml("dev", "deny-all", "{podSelector: {}, policyTypes: [Ingress, Egress]}") +
            policy_yaml("dev", "deny-api", "{podSelector: {matchLabels: {app: api}}, policyTypes: [Ingress, Egress]}"));
  EXPECT_TRUE(c.allowed("prod/web", "prod/api", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/api", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/web", "dev/api", "80/TCP"));
  EXPECT_FALSE(c.allowed("dev/api", "prod/web", "80/TCP"));

  auto prod_api = c.state().find_pod("prod/api");
  ASSERT_TRUE(prod_api);
  EXPECT_THAT(c.engine().isolating_policies(*prod_api, Direction::kIngress), IsEmpty());
  EXPECT_THAT(c.engine().isolating_policies(*prod_api, Direction::kEgress), IsEmpty());
}

TEST(PolicyEngineRule, R4_PolicyTypesDefaultToIngressPlusEgressOnlyWithEgressRules) {
  Cluster c(pod_yaml("prod", "a", "{app: a}", "10.0.0.1") + pod_yaml("prod", "b", "{app: b}", "10.0.0.2") +
            pod_yaml("prod", "c", "{app: c}", "10.0.0.3") + pod_yaml("prod", "d", "{app: d}", "10.0.0.4") +
            pod_yaml("prod", "x", "{app: x}", "10.0.0.9") +
            // No policyTypes, egress rules only: Ingress (with no rule: deny all) and Egress.
            policy_yaml("prod", "egress-rules",
                        "{podSelector: {matchLabels: {app: a}}, egress: [{to: [{ipBlock: {cidr: 192.0.2.0/24}}]}]}") +
            // No policyTypes, ingress rules only: Ingress alone.
            policy_yaml("prod", "ingress-rules", "{podSelector: {matchLabels: {app: b}}, ingress: [{}]}") +
            // No policyTypes, `egress: []`: no egress rule, so Ingress alone.
            policy_yaml("prod", "empty-egress", "{podSelector: {matchLabels: {app: c}}, egress: []}") +
            // Explicit Egress only: ingress stays open.
            policy_yaml("prod", "egress-only", "{podSelector: {matchLabels: {app: d}}, policyTypes: [Egress]}"));

  EXPECT_FALSE(c.allowed("prod/x", "prod/a", "80/TCP")) << "Ingress is always in the default policyTypes";
  EXPECT_TRUE(c.allowed("prod/a", "192.0.2.1", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/a", "prod/x", "80/TCP")) << "egress rules add Egress to the default";

  EXPECT_TRUE(c.allowed("prod/x", "prod/b", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/b", "prod/x", "80/TCP"));

  EXPECT_FALSE(c.allowed("prod/x", "prod/c", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/c", "prod/x", "80/TCP")) << "egress: [] does not add Egress";

  EXPECT_TRUE(c.allowed("prod/x", "prod/d", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/d", "prod/x", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/d", "192.0.2.1", "80/TCP"));
}

// ---------------------------------------------------------------------------------------------
// R5  A direction in which the pod is not isolated allows everything.

TEST(PolicyEngineRule, R5_UnselectedPodAllowsEverythingNextToAnIsolatedOne) {
  Cluster c(
      pod_yaml("prod", "db", "{app: db}", "10.0.0.1") + pod_yaml("prod", "web", "{app: web}", "10.0.0.2") +
      pod_yaml("dev", "x", "{}", "10.0.1.1") +
      policy_yaml("prod", "db-lockdown", "{podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress, Egress]}"));
  EXPECT_FALSE(c.allowed("prod/web", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("prod/db", "prod/web", "80/TCP"));
  for (const char* port : {"1/TCP", "80/TCP", "65535/TCP", "53/UDP", "3868/SCTP"}) {
    EXPECT_TRUE(c.allowed("dev/x", "prod/web", port)) << port;
    EXPECT_TRUE(c.allowed("203.0.113.1", "prod/web", port)) << port;
    EXPECT_TRUE(c.allowed("prod/web", "203.0.113.1", port)) << port;
  }
}

// ---------------------------------------------------------------------------------------------
// R6  Isolated: allowed iff some rule of some isolating policy matches (a union; no order, no
//     deny). Rules of a direction the policy's policyTypes omit are ignored.

TEST(PolicyEngineRule, R6_PoliciesAreAUnionAndADenyAllSubtractsNothing) {
  Cluster c(
      pod_yaml("prod", "db", "{app: db}", "10.0.0.1") + pod_yaml("prod", "api", "{app: api}", "10.0.0.2") +
      pod_yaml("prod", "batch", "{app: batch}", "10.0.0.3") + pod_yaml("prod", "other", "{app: other}", "10.0.0.4") +
      policy_yaml("prod", "a-deny-all", "{podSelector: {}, policyTypes: [Ingress]}") +
      policy_yaml("prod", "b-from-api",
                  "{podSelector: {matchLabels: {app: db}}, ingress: "
                  "[{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}]}]}") +
      policy_yaml(
          "prod", "c-from-batch",
          "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: batch}}}]}]}"));
  EXPECT_TRUE(c.allowed("prod/api", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("prod/api", "prod/db", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/batch", "prod/db", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/batch", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("prod/other", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("prod/db", "prod/other", "80/TCP")) << "other is isolated by a-deny-all alone";
}

TEST(PolicyEngineRule, R6_RulesOfADirectionMissingFromPolicyTypesAreIgnored) {
  Cluster c(
      pod_yaml("prod", "db", "{app: db}", "10.0.0.1") + pod_yaml("prod", "web", "{app: web}", "10.0.0.2") +
      pod_yaml("prod", "x", "{app: x}", "10.0.0.9") +
      // Egress only: its allow-all ingress rule must not open db's ingress.
      policy_yaml("prod", "egress-only", "{podSelector: {}, policyTypes: [Egress], ingress: [{}], egress: [{}]}") +
      policy_yaml("prod", "db-in", "{podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress]}") +
      // Ingress only: its egress rule neither isolates web's egress nor opens it.
      policy_yaml("prod", "ingress-only",
                  "{podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress], ingress: [{}], egress: "
                  "[{to: [{ipBlock: {cidr: 192.0.2.0/24}}]}]}"));
  EXPECT_FALSE(c.allowed("prod/x", "prod/db", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/x", "prod/web", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/web", "prod/x", "80/TCP")) << "egress-only allows all egress";

  auto db = c.state().find_pod("prod/db");
  ASSERT_TRUE(db);
  EXPECT_THAT(c.engine().isolating_policies(*db, Direction::kIngress), ElementsAre(c.policy("prod/db-in")));
  auto web = c.state().find_pod("prod/web");
  ASSERT_TRUE(web);
  EXPECT_THAT(c.engine().isolating_policies(*web, Direction::kIngress), ElementsAre(c.policy("prod/ingress-only")));
  EXPECT_THAT(c.engine().isolating_policies(*web, Direction::kEgress), ElementsAre(c.policy("prod/egress-only")));
}

TEST(PolicyEngineRule, R6_EgressRulesOfAnIngressOnlyPolicyDoNotOpenIsolatedEgress) {
  Cluster c(pod_yaml("prod", "web", "{app: web}", "10.0.0.2") +
            policy_yaml("prod", "deny-egress", "{podSelector: {}, policyTypes: [Egress]}") +
            policy_yaml("prod", "ingress-only",
                        "{podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress], ingress: [{}], egress: "
                        "[{to: [{ipBlock: {cidr: 192.0.2.0/24}}]}]}"));
  EXPECT_FALSE(c.allowed("prod/web", "192.0.2.1", "80/TCP"));
}

// ---------------------------------------------------------------------------------------------
// R7  A rule matches iff one of its peers AND one of its ports match; rules never mix.

TEST(PolicyEngineRule, R7_RuleNeedsAPeerAndAPortOfTheSameRule) {
  Cluster c(
      pod_yaml("prod", "db", "{app: db}", "10.0.0.1") + pod_yaml("prod", "api", "{app: api}", "10.0.0.2") +
      pod_yaml("prod", "batch", "{app: batch}", "10.0.0.3") + pod_yaml("prod", "report", "{app: report}", "10.0.0.4") +
      pod_yaml("prod", "other", "{app: other}", "10.0.0.5") +
      policy_yaml("prod", "db-in",
                  "{podSelector: {matchLabels: {app: db}}, ingress: ["
                  "{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}]},"
                  "{from: [{podSelector: {matchLabels: {app: batch}}}, {podSelector: {matchLabels: {app: report}}}],"
                  " ports: [{port: 6432}, {port: 7432}]}]}"));
  EXPECT_TRUE(c.allowed("prod/api", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("prod/api", "prod/db", "5433/TCP"));
  EXPECT_FALSE(c.allowed("prod/other", "prod/db", "5432/TCP"));
  // Peers and ports are each ORed within a rule...
  EXPECT_TRUE(c.allowed("prod/report", "prod/db", "6432/TCP"));
  EXPECT_TRUE(c.allowed("prod/batch", "prod/db", "7432/TCP"));
  // ...but a peer of one rule never combines with a port of another.
  EXPECT_FALSE(c.allowed("prod/api", "prod/db", "6432/TCP"));
  EXPECT_FALSE(c.allowed("prod/batch", "prod/db", "5432/TCP"));
}

// ---------------------------------------------------------------------------------------------
// R8  `from`/`to` omitted or empty: every peer, including IPs outside the cluster. A selector
//     that selects "everything" ({}) selects only pods (R13).

TEST(PolicyEngineRule, R8_OmittedOrEmptyFromMatchesEveryPeerIncludingExternalIps) {
  Cluster c(
      pod_yaml("prod", "a", "{app: a}", "10.0.0.1") + pod_yaml("prod", "b", "{app: b}", "10.0.0.2") +
      pod_yaml("prod", "c", "{app: c}", "10.0.0.3") + pod_yaml("prod", "d", "{app: d}", "10.0.0.4") +
      pod_yaml("dev", "x", "{}", "10.0.1.1") +
      policy_yaml("prod", "from-omitted", "{podSelector: {matchLabels: {app: a}}, ingress: [{ports: [{port: 80}]}]}") +
      policy_yaml("prod", "from-empty",
                  "{podSelector: {matchLabels: {app: b}}, ingress: [{from: [], ports: [{port: 80}]}]}") +
      policy_yaml(
          "prod", "all-namespaces",
          "{podSelector: {matchLabels: {app: c}}, ingress: [{from: [{namespaceSelector: {}}], ports: [{port: 80}]}]}") +
      policy_yaml(
          "prod", "all-local-pods",
          "{podSelector: {matchLabels: {app: d}}, ingress: [{from: [{podSelector: {}}], ports: [{port: 80}]}]}"));
  for (const char* dst : {"prod/a", "prod/b"}) {
    EXPECT_TRUE(c.allowed("203.0.113.5", dst, "80/TCP")) << dst;
    EXPECT_TRUE(c.allowed("dev/x", dst, "80/TCP")) << dst;
    EXPECT_TRUE(c.allowed("prod/d", dst, "80/TCP")) << dst;
    EXPECT_FALSE(c.allowed("203.0.113.5", dst, "81/TCP")) << dst << ": the ports still apply";
  }
  EXPECT_FALSE(c.allowed("203.0.113.5", "prod/c", "80/TCP"));
  EXPECT_TRUE(c.allowed("dev/x", "prod/c", "80/TCP"));
  EXPECT_FALSE(c.allowed("203.0.113.5", "prod/d", "80/TCP"));
  EXPECT_FALSE(c.allowed("dev/x", "prod/d", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/a", "prod/d", "80/TCP"));
}

TEST(PolicyEngineRule, R8_OmittedOrEmptyToMatchesEveryDestinationIncludingExternalIps) {
  Cluster c(
      pod_yaml("prod", "a", "{app: a}", "10.0.0.1") + pod_yaml("prod", "b", "{app: b}", "10.0.0.2") +
      pod_yaml("dev", "x", "{}", "10.0.1.1") +
      policy_yaml("prod", "to-omitted",
                  "{podSelector: {matchLabels: {app: a}}, egress: [{ports: [{protocol: UDP, port: 53}]}]}") +
      policy_yaml("prod", "to-empty",
                  "{podSelector: {matchLabels: {app: b}}, egress: [{to: [], ports: [{protocol: UDP, port: 53}]}]}"));
  for (const char* src : {"prod/a", "prod/b"}) {
    EXPECT_TRUE(c.allowed(src, "8.8.8.8", "53/UDP")) << src;
    EXPECT_TRUE(c.allowed(src, "dev/x", "53/UDP")) << src;
    EXPECT_FALSE(c.allowed(src, "8.8.8.8", "53/TCP")) << src;
  }
}

TEST(PolicyEngineRule, R8_AnEmptyPeerObjectIsInvalidNotAWildcard) {
  // Kubernetes validation rejects a peer with none of podSelector, namespaceSelector and ipBlock,
  // so `from: [{}]` can never silently mean "everyone".
  auto c = test::load_yaml(policy_yaml("prod", "bad", "{podSelector: {}, ingress: [{from: [{}]}]}"));
  EXPECT_FALSE(c);
}

}  // namespace
}  // namespace npv
