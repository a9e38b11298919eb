// The NetworkPolicy engine, one or more tests per rule R1..R17 of agent/policy/policy_engine.cpp.
//
// Every expectation comes from the Kubernetes API reference (networking.k8s.io/v1 NetworkPolicySpec,
// NetworkPolicyPeer, NetworkPolicyPort, IPBlock; metav1 LabelSelector) and the NetworkPolicy
// concept page, never from what the engine happens to return. Each test is built so that the
// plausible wrong implementation of its rule gives a different verdict. Clusters are loaded from
// YAML manifests through the project's loader.
#include "npv/policy_engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "support/manifest_builder.hpp"

namespace npv {
namespace {

using test::namespace_yaml;
using test::pod_yaml;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A NetworkPolicy manifest; `spec` is the spec as YAML flow text, e.g. "{podSelector: {}}".
std::string policy_yaml(const std::string& ns, const std::string& name, const std::string& spec) {
  return "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\nspec: " + spec + "\n";
}

PortProto port_of(std::string_view text) {
  auto p = PortProto::parse(text);
  EXPECT_TRUE(p) << text;
  return p.value_or(PortProto{});
}

// A cluster loaded from YAML, and the engine over it. Not copyable or movable: the engine refers
// to the ClusterState member. A load error or an unknown pod fails the test.
class Cluster {
 public:
  explicit Cluster(std::string_view yaml) : state_(load(yaml)), engine_(state_) {}
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  const ClusterState& state() const { return state_; }
  const PolicyEngine& engine() const { return engine_; }

  // "ns/name" is a pod of the cluster (no IP given); anything else is an IP address.
  Endpoint ep(std::string_view text) const {
    if (auto ip = IpAddr::parse(text)) return Endpoint::of_ip(*ip);
    if (auto pod = state_.find_pod(text)) return Endpoint::of_pod(*pod);
    ADD_FAILURE() << "no pod " << text;
    return {};
  }
  // A pod together with the IP the flow uses.
  Endpoint ep(std::string_view pod, std::string_view ip) const {
    Endpoint e = ep(pod);
    e.ip = IpAddr::parse(ip);
    EXPECT_TRUE(e.ip) << ip;
    return e;
  }
  Flow flow(const Endpoint& src, const Endpoint& dst, std::string_view port) const { return {src, dst, port_of(port)}; }

  // The verdict; also checks that the fast path and the explanation agree.
  bool allowed(const Endpoint& src, const Endpoint& dst, std::string_view port) const {
    Flow f = flow(src, dst, port);
    bool verdict = engine_.allowed(f);
    EXPECT_EQ(verdict, engine_.explain(f).allowed()) << "allowed() and explain() disagree";
    return verdict;
  }
  bool allowed(std::string_view src, std::string_view dst, std::string_view port) const {
    return allowed(ep(src), ep(dst), port);
  }

  // Index of the policy "ns/name" in state().policies.
  std::uint32_t policy(std::string_view ref) const {
    for (std::uint32_t i = 0; i < state_.policies.size(); ++i) {
      if (state_.policies[i].ref() == ref) return i;
    }
    ADD_FAILURE() << "no policy " << ref;
    return UINT32_MAX;
  }

 private:
  static ClusterState load(std::string_view yaml) {
    auto c = test::load_yaml(yaml);
    if (c) return std::move(*c);
    ADD_FAILURE() << c.error().message;
    ClusterState empty;
    empty.finalize();
    return empty;
  }

  ClusterState state_;
  PolicyEngine engine_;
};

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
