// The NetworkPolicy engine, rules R14..R17 of agent/policy/policy_engine.cpp (ports, named ports,
// label selectors) and the explanation.
// How these tests are built: policy_engine_rules_test.cpp.
#include "npv/policy_engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

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
// R14 `ports` omitted or empty: every port of every protocol.

TEST(PolicyEngineRule, R14_OmittedOrEmptyPortsMatchEveryPortOfEveryProtocol) {
  Cluster c(
      pod_yaml("prod", "a", "{app: a}", "10.0.0.1") + pod_yaml("prod", "b", "{app: b}", "10.0.0.2") +
      pod_yaml("prod", "client", "{role: client}", "10.0.0.3") + pod_yaml("prod", "other", "{}", "10.0.0.4") +
      policy_yaml(
          "prod", "a-in",
          "{podSelector: {matchLabels: {app: a}}, ingress: [{from: [{podSelector: {matchLabels: {role: client}}}]}]}") +
      policy_yaml("prod", "b-in",
                  "{podSelector: {matchLabels: {app: b}}, ingress: [{from: [{podSelector: {matchLabels: {role: "
                  "client}}}], ports: []}]}"));
  for (const char* dst : {"prod/a", "prod/b"}) {
    for (const char* port : {"1/TCP", "80/TCP", "65535/TCP", "53/UDP", "65535/UDP", "3868/SCTP"}) {
      EXPECT_TRUE(c.allowed("prod/client", dst, port)) << dst << " " << port;
    }
    EXPECT_FALSE(c.allowed("prod/other", dst, "80/TCP")) << dst << ": the peers still apply";
  }
}

// ---------------------------------------------------------------------------------------------
// R15 A port entry matches only its protocol (TCP by default); no `port`: all ports of that
//     protocol; a number: that port, or port..endPort inclusive.

TEST(PolicyEngineRule, R15_ProtocolDefaultsToTcp) {
  Cluster c(pod_yaml("prod", "dns", "{app: dns}", "10.0.0.1") +
            policy_yaml("prod", "dns-in", "{podSelector: {}, ingress: [{ports: [{port: 53}]}]}"));
  EXPECT_TRUE(c.allowed("10.9.9.9", "prod/dns", "53/TCP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/dns", "53/UDP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/dns", "53/SCTP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/dns", "52/TCP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/dns", "54/TCP"));
}

TEST(PolicyEngineRule, R15_PortOmittedMatchesEveryPortOfThatProtocolOnly) {
  Cluster c(pod_yaml("prod", "dns", "{app: dns}", "10.0.0.1") +
            policy_yaml("prod", "udp-in", "{podSelector: {}, ingress: [{ports: [{protocol: UDP}]}]}"));
  EXPECT_TRUE(c.allowed("10.9.9.9", "prod/dns", "1/UDP"));
  EXPECT_TRUE(c.allowed("10.9.9.9", "prod/dns", "53/UDP"));
  EXPECT_TRUE(c.allowed("10.9.9.9", "prod/dns", "65535/UDP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/dns", "53/TCP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/dns", "53/SCTP"));
}

TEST(PolicyEngineRule, R15_EndPortRangeIsInclusiveAndKeepsItsProtocol) {
  Cluster c(pod_yaml("prod", "app", "{app: app}", "10.0.0.1") +
            policy_yaml(
                "prod", "range-in",
                "{podSelector: {}, ingress: [{ports: [{port: 8000, endPort: 8080}, {protocol: SCTP, port: 3868}]}]}"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/app", "7999/TCP"));
  EXPECT_TRUE(c.allowed("10.9.9.9", "prod/app", "8000/TCP"));
  EXPECT_TRUE(c.allowed("10.9.9.9", "prod/app", "8040/TCP"));
  EXPECT_TRUE(c.allowed("10.9.9.9", "prod/app", "8080/TCP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/app", "8081/TCP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/app", "8040/UDP"));
  EXPECT_TRUE(c.allowed("10.9.9.9", "prod/app", "3868/SCTP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/app", "3868/TCP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/app", "3867/SCTP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/app", "3869/SCTP"));
}

// ---------------------------------------------------------------------------------------------
// R16 A named port resolves against the DESTINATION pod's container ports (name and protocol);
//     it never matches a destination outside the cluster.

namespace r16 {
// client names 8080 "http"; server and plain name 80 "http".
std::string pods() {
  return pod_yaml("prod", "client", "{app: client}", "10.0.0.1", "[{name: http, containerPort: 8080}]") +
         pod_yaml("prod", "server", "{app: server}", "10.0.0.2", "[{name: http, containerPort: 80}]") +
         pod_yaml("prod", "plain", "{app: plain}", "10.0.0.3", "[{name: http, containerPort: 80}]");
}
}  // namespace r16

TEST(PolicyEngineRule, R16_NamedPortInIngressRuleResolvesAgainstTheDestination) {
  Cluster c(r16::pods() +
            policy_yaml("prod", "server-in",
                        "{podSelector: {matchLabels: {app: server}}, ingress: [{ports: [{port: http}]}]}"));
  EXPECT_TRUE(c.allowed("prod/client", "prod/server", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/client", "prod/server", "8080/TCP")) << "8080 is the SOURCE's http";
  EXPECT_TRUE(c.allowed("203.0.113.1", "prod/server", "80/TCP")) << "the source does not need the name";
}

TEST(PolicyEngineRule, R16_NamedPortInEgressRuleResolvesAgainstTheDestination) {
  Cluster c(r16::pods() + policy_yaml("prod", "client-out",
                                      "{podSelector: {matchLabels: {app: client}}, policyTypes: [Egress], egress: "
                                      "[{ports: [{port: http}]}]}"));
  EXPECT_TRUE(c.allowed("prod/client", "prod/plain", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/client", "prod/plain", "8080/TCP")) << "8080 is the SOURCE's http";
}

TEST(PolicyEngineRule, R16_NamedPortNeverMatchesAnExternalDestination) {
  Cluster c(r16::pods() + policy_yaml("prod", "client-out",
                                      "{podSelector: {matchLabels: {app: client}}, policyTypes: [Egress], egress: "
                                      "[{ports: [{port: http}]}]}"));
  EXPECT_TRUE(c.allowed("prod/client", "prod/server", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/client", "203.0.113.1", "80/TCP"));
  EXPECT_FALSE(c.allowed("prod/client", "203.0.113.1", "8080/TCP"));
}

TEST(PolicyEngineRule, R16_NamedPortMustMatchTheProtocol) {
  const std::string dns_port = "[{name: dns, containerPort: 53, protocol: UDP}]";
  Cluster c(pod_yaml("prod", "dns-tcp-rule", "{app: a}", "10.0.0.1", dns_port) +
            pod_yaml("prod", "dns-udp-rule", "{app: b}", "10.0.0.2", dns_port) +
            // protocol omitted: TCP, and the pod's "dns" is UDP, so nothing matches.
            policy_yaml("prod", "a-in", "{podSelector: {matchLabels: {app: a}}, ingress: [{ports: [{port: dns}]}]}") +
            policy_yaml("prod", "b-in",
                        "{podSelector: {matchLabels: {app: b}}, ingress: [{ports: [{port: dns, protocol: UDP}]}]}"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/dns-tcp-rule", "53/TCP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/dns-tcp-rule", "53/UDP"));
  EXPECT_TRUE(c.allowed("10.9.9.9", "prod/dns-udp-rule", "53/UDP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/dns-udp-rule", "53/TCP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/dns-udp-rule", "54/UDP"));
}

TEST(PolicyEngineRule, R16_NameTheDestinationDoesNotDeclareMatchesNothing) {
  Cluster c(
      pod_yaml("prod", "app", "{app: app}", "10.0.0.1", "[{name: http, containerPort: 80}]") +
      pod_yaml("prod", "metrics", "{app: metrics}", "10.0.0.2", "[{name: metrics, containerPort: 9090}]") +
      policy_yaml("prod", "in",
                  "{podSelector: {matchLabels: {app: app}}, ingress: [{ports: [{port: metrics}, {port: nosuch}]}]}"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/app", "9090/TCP"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/app", "80/TCP"));
}

// ---------------------------------------------------------------------------------------------
// R17 Label selectors: requirements ANDed; NotIn is true when the key is absent; Exists and
//     DoesNotExist look only at the key; an empty selector selects everything.

TEST(PolicyEngineRule, R17_NotInSelectsPodsWithoutTheKey) {
  Cluster c(pod_yaml("prod", "untiered", "{app: x}", "10.0.0.1") +
            pod_yaml("prod", "front", "{tier: frontend}", "10.0.0.2") +
            pod_yaml("prod", "back", "{tier: backend}", "10.0.0.3") +
            policy_yaml("prod", "lockdown",
                        "{podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [frontend]}]}, "
                        "policyTypes: [Ingress]}"));
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/untiered", "80/TCP")) << "no tier label: NotIn matches";
  EXPECT_FALSE(c.allowed("10.9.9.9", "prod/back", "80/TCP"));
  EXPECT_TRUE(c.allowed("10.9.9.9", "prod/front", "80/TCP"));
}

TEST(PolicyEngineRule, R17_NotInInAPeerMatchesSourcesWithoutTheKey) {
  Cluster c(pod_yaml("prod", "db", "{app: db}", "10.0.0.1") + pod_yaml("prod", "plain", "{app: x}", "10.0.0.2") +
            pod_yaml("prod", "test", "{env: test}", "10.0.0.3") +
            pod_yaml("prod", "stage", "{env: stage}", "10.0.0.4") +
            policy_yaml("prod", "db-in",
                        "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchExpressions: "
                        "[{key: env, operator: NotIn, values: [test, dev]}]}}]}]}"));
  EXPECT_TRUE(c.allowed("prod/plain", "prod/db", "5432/TCP"));
  EXPECT_TRUE(c.allowed("prod/stage", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("prod/test", "prod/db", "5432/TCP"));
}

TEST(PolicyEngineRule, R17_ExistsAndDoesNotExistLookOnlyAtTheKey) {
  Cluster c(
      pod_yaml("prod", "db", "{app: db}", "10.0.0.1") + pod_yaml("prod", "trusted", R"({trusted: ""})", "10.0.0.2") +
      pod_yaml("prod", "untrusted", "{app: x}", "10.0.0.3") +
      pod_yaml("prod", "legacy", "{legacy: 'yes'}", "10.0.0.4") +
      policy_yaml("prod", "db-in",
                  "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchExpressions: "
                  "[{key: trusted, operator: Exists}]}}]}]}") +
      policy_yaml("prod", "modern-lockdown",
                  "{podSelector: {matchExpressions: [{key: legacy, operator: DoesNotExist}]}, policyTypes: [Egress]}"));
  // DoesNotExist: every pod without a legacy label is egress-isolated (with no rule: deny all).
  EXPECT_TRUE(c.allowed("prod/legacy", "203.0.113.1", "443/TCP"));
  EXPECT_FALSE(c.allowed("prod/trusted", "203.0.113.1", "443/TCP"));
  EXPECT_FALSE(c.allowed("prod/db", "203.0.113.1", "443/TCP"));
  // Exists, in db's ingress rule (looked at alone, since most sources are egress-isolated):
  Explanation e = c.engine().explain(c.flow(c.ep("prod/trusted"), c.ep("prod/db"), "5432/TCP"));
  EXPECT_TRUE(e.ingress.allowed()) << "Exists matches a key with an empty value";
  e = c.engine().explain(c.flow(c.ep("prod/untrusted"), c.ep("prod/db"), "5432/TCP"));
  EXPECT_FALSE(e.ingress.allowed());
  e = c.engine().explain(c.flow(c.ep("prod/legacy"), c.ep("prod/db"), "5432/TCP"));
  EXPECT_FALSE(e.ingress.allowed()) << "legacy lacks the trusted key";
  EXPECT_TRUE(e.egress.allowed());
}

TEST(PolicyEngineRule, R17_MatchLabelsAndMatchExpressionsAreAnded) {
  Cluster c(
      pod_yaml("prod", "db", "{app: db}", "10.0.0.1") +
      pod_yaml("prod", "web-prod", "{app: web, env: prod}", "10.0.0.2") +
      pod_yaml("prod", "web-staging", "{app: web, env: staging}", "10.0.0.3") +
      pod_yaml("prod", "web-dev", "{app: web, env: dev}", "10.0.0.4") +
      pod_yaml("prod", "web", "{app: web}", "10.0.0.5") +
      pod_yaml("prod", "api-prod", "{app: api, env: prod}", "10.0.0.6") +
      policy_yaml("prod", "db-in",
                  "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: web}, "
                  "matchExpressions: [{key: env, operator: In, values: [prod, staging]}]}}]}]}"));
  EXPECT_TRUE(c.allowed("prod/web-prod", "prod/db", "5432/TCP"));
  EXPECT_TRUE(c.allowed("prod/web-staging", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("prod/web-dev", "prod/db", "5432/TCP"));
  EXPECT_FALSE(c.allowed("prod/web", "prod/db", "5432/TCP")) << "In needs the key";
  EXPECT_FALSE(c.allowed("prod/api-prod", "prod/db", "5432/TCP"));
}

TEST(PolicyEngineRule, R17_EmptyOrOmittedPodSelectorSelectsEveryPodOfTheNamespace) {
  Cluster c(pod_yaml("prod", "bare", "{}", "10.0.0.1") + pod_yaml("prod", "web", "{app: web}", "10.0.0.2") +
            pod_yaml("stage", "bare", "{}", "10.1.0.1") + pod_yaml("dev", "bare", "{}", "10.2.0.1") +
            policy_yaml("prod", "empty", "{podSelector: {}, policyTypes: [Ingress]}") +
            policy_yaml("stage", "omitted", "{policyTypes: [Ingress]}"));
  EXPECT_FALSE(c.allowed("dev/bare", "prod/bare", "80/TCP"));
  EXPECT_FALSE(c.allowed("dev/bare", "prod/web", "80/TCP"));
  EXPECT_FALSE(c.allowed("dev/bare", "stage/bare", "80/TCP"));
  EXPECT_TRUE(c.allowed("prod/bare", "dev/bare", "80/TCP"));
}

// ---------------------------------------------------------------------------------------------
// The explanation: every isolating policy (indexes into ClusterState::policies, sorted by
// namespace/name) and every allowing (policy, rule) pair.

namespace explain {
std::string cluster() {
  // Declared out of name order; "other/aaa" sorts first but selects nothing in prod.
  return pod_yaml("prod", "db", "{app: db}", "10.0.0.1") + pod_yaml("prod", "client", "{app: client}", "10.0.0.2") +
         policy_yaml("prod", "zeta",
                     "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: "
                     "client}}}], ports: [{port: 5432}]}]}") +
         policy_yaml("prod", "alpha",
                     "{podSelector: {}, ingress: [{ports: [{port: 80}]}, {from: [{podSelector: {matchLabels: {app: "
                     "client}}}]}, {ports: [{port: 5432}]}]}") +
         policy_yaml("prod", "mid", "{podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress]}") +
         policy_yaml("prod", "egress-only",
                     "{podSelector: {matchLabels: {app: db}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: "
                     "192.0.2.0/24}}]}]}") +
         policy_yaml("other", "aaa", "{podSelector: {}, policyTypes: [Ingress, Egress]}");
}
}  // namespace explain

TEST(PolicyEngineExplain, ListsEveryIsolatingPolicySortedAndEveryAllowingRule) {
  Cluster c(explain::cluster());
  const std::uint32_t alpha = c.policy("prod/alpha"), mid = c.policy("prod/mid"), zeta = c.policy("prod/zeta");
  ASSERT_LT(alpha, mid);
  ASSERT_LT(mid, zeta);

  Explanation e = c.engine().explain(c.flow(c.ep("prod/client"), c.ep("prod/db"), "5432/TCP"));
  EXPECT_TRUE(e.allowed());
  EXPECT_FALSE(e.self);
  EXPECT_TRUE(e.ingress.governed);
  EXPECT_TRUE(e.ingress.isolated());
  EXPECT_THAT(e.ingress.isolating, ElementsAre(alpha, mid, zeta));
  EXPECT_THAT(e.ingress.allowed_by, ElementsAre(RuleRef{alpha, 1}, RuleRef{alpha, 2}, RuleRef{zeta, 0}));
  // client's egress: isolated by alpha? No: alpha has no egress rules and no Egress type.
  EXPECT_TRUE(e.egress.governed);
  EXPECT_FALSE(e.egress.isolated());
  EXPECT_THAT(e.egress.isolating, IsEmpty());
  EXPECT_THAT(e.egress.allowed_by, IsEmpty());

  e = c.engine().explain(c.flow(c.ep("prod/client"), c.ep("prod/db"), "80/TCP"));
  EXPECT_THAT(e.ingress.allowed_by, ElementsAre(RuleRef{alpha, 0}, RuleRef{alpha, 1}));

  e = c.engine().explain(c.flow(c.ep("192.0.2.1"), c.ep("prod/db"), "22/TCP"));
  EXPECT_FALSE(e.allowed());
  EXPECT_THAT(e.ingress.isolating, ElementsAre(alpha, mid, zeta));
  EXPECT_THAT(e.ingress.allowed_by, IsEmpty());
  EXPECT_FALSE(e.egress.governed);
}

TEST(PolicyEngineExplain, EgressRulesAreReportedWithTheirIndex) {
  Cluster c(explain::cluster());
  const std::uint32_t egress_only = c.policy("prod/egress-only");
  Explanation e = c.engine().explain(c.flow(c.ep("prod/db"), c.ep("192.0.2.7"), "443/TCP"));
  EXPECT_TRUE(e.allowed());
  EXPECT_THAT(e.egress.isolating, ElementsAre(egress_only));
  EXPECT_THAT(e.egress.allowed_by, ElementsAre(RuleRef{egress_only, 0}));
  EXPECT_FALSE(e.ingress.governed);

  e = c.engine().explain(c.flow(c.ep("prod/db"), c.ep("prod/client"), "443/TCP"));
  EXPECT_FALSE(e.allowed());
  EXPECT_THAT(e.egress.allowed_by, IsEmpty());
  EXPECT_FALSE(e.ingress.allowed()) << "client is isolated by alpha, and no rule of alpha matches db on 443";
  EXPECT_THAT(e.ingress.isolating, ElementsAre(c.policy("prod/alpha")));
}

TEST(PolicyEngineExplain, IsolatingPoliciesPerDirectionAreSorted) {
  Cluster c(explain::cluster());
  auto db = c.state().find_pod("prod/db");
  auto client = c.state().find_pod("prod/client");
  ASSERT_TRUE(db && client);
  EXPECT_THAT(c.engine().isolating_policies(*db, Direction::kIngress),
              ElementsAre(c.policy("prod/alpha"), c.policy("prod/mid"), c.policy("prod/zeta")));
  EXPECT_THAT(c.engine().isolating_policies(*db, Direction::kEgress), ElementsAre(c.policy("prod/egress-only")));
  EXPECT_THAT(c.engine().isolating_policies(*client, Direction::kIngress), ElementsAre(c.policy("prod/alpha")));
  EXPECT_THAT(c.engine().isolating_policies(*client, Direction::kEgress), IsEmpty());
  // The indexes name the policies in ClusterState order, which is sorted by namespace then name.
  std::vector<std::string> refs;
  for (const auto& p : c.state().policies) refs.push_back(p.ref());
  EXPECT_TRUE(std::is_sorted(refs.begin(), refs.end()));
  EXPECT_EQ(c.state().policies[c.policy("prod/alpha")].ingress.size(), 3u);
}

}  // namespace
}  // namespace npv
