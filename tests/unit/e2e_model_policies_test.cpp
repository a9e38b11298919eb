// The upstream Kubernetes NetworkPolicy e2e suite, replayed against the engine: egress with
// ingress, several policies on one pod, and policyTypes.
// Sources, the model and the differences from upstream: support/e2e_model.hpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support/e2e_model.hpp"

namespace npv {
namespace {

using test::E2eModel;
using test::Reachability;
using test::kTcp80;
using test::kTcp81;
using test::netpol;

// ---- Egress, and egress with ingress ----

// "should enforce egress policy allowing traffic to a server in a different namespace based on
// PodSelector and NamespaceSelector"
TEST_F(E2eModel, EgressToPodInOtherNamespace) {
  load(netpol("x", "allow-to-ns-y-pod-a", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: a}}}]
)"));
  check(Reachability(true).expect_all_egress("x/a", false).expect("x/a", "y/a", true), kTcp80);
}

// "should work with Ingress, Egress specified together": egress only on port 80.
TEST_F(E2eModel, IngressAndEgressTogether) {
  load(netpol("x", "allow-client-a-via-pod-selector", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress, Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
  egress:
  - ports: [{port: 80}]
)"));
  check(Reachability(true).expect_all_ingress("x/a", false).expect("x/b", "x/a", true), kTcp80);
  check(Reachability(true)
            .expect_all_ingress("x/a", false)
            .expect_all_egress("x/a", false)
            .expect("x/b", "x/a", true),
        kTcp81);
}

// "should support denying of egress traffic on the client side (even if the server explicitly
// allows this traffic)": a cross-namespace flow needs both the egress and the ingress side.
TEST_F(E2eModel, EgressAndIngressBothRequired) {
  load(netpol("x", "allow-to-ns-y-pod-a", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: a}}}]
)") + netpol("y", "allow-from-xa-on-ya-match-selector", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: x}}, podSelector: {matchLabels: {pod: a}}}]
)") + netpol("y", "allow-from-xa-on-yb-match-selector", R"(
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: x}}, podSelector: {matchLabels: {pod: a}}}]
)"));
  check(Reachability(true)
            .expect_peer({"x", "a"}, {}, false)
            .expect_peer({}, {"y", "a"}, false)
            .expect_peer({"x", "a"}, {"y", "a"}, true)
            .expect_peer({}, {"y", "b"}, false),
        kTcp80);
  ASSERT_TRUE(loaded());
  auto to_yb = explain("x/a", "y/b", kTcp80);
  EXPECT_FALSE(to_yb.allowed());
  EXPECT_EQ(to_yb.egress.isolating, (std::vector<std::uint32_t>{policy_id("x", "allow-to-ns-y-pod-a")}));
  EXPECT_TRUE(to_yb.egress.allowed_by.empty()) << "the client's egress denies x/a -> y/b";
  EXPECT_EQ(to_yb.ingress.allowed_by,
            (std::vector<RuleRef>{{policy_id("y", "allow-from-xa-on-yb-match-selector"), 0}}));
  auto to_ya = explain("x/a", "y/a", kTcp80);
  EXPECT_TRUE(to_ya.allowed());
  EXPECT_EQ(to_ya.egress.allowed_by, (std::vector<RuleRef>{{policy_id("x", "allow-to-ns-y-pod-a"), 0}}));
  EXPECT_EQ(to_ya.ingress.allowed_by,
            (std::vector<RuleRef>{{policy_id("y", "allow-from-xa-on-ya-match-selector"), 0}}));
}

// "should enforce policies to check ingress and egress policies can be controlled independently
// based on PodSelector"
TEST_F(E2eModel, IngressAndEgressControlledIndependently) {
  const std::string allow_egress = netpol("x", "allow-egress-for-target", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{}]
)");
  load(allow_egress);
  check(Reachability(true), kTcp80);
  load(allow_egress + netpol("x", "deny-ingress-via-label-selector", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress: []
)"));
  check(Reachability(true).expect_all_ingress("x/a", false), kTcp80);
}

// ---- Several policies ----

// "should enforce multiple, stacked policies with overlapping podSelectors"
TEST_F(E2eModel, StackedPoliciesAddUp) {
  const std::string port81 = netpol("x", "allow-client-a-via-ns-selector", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: 81, protocol: TCP}]
)");
  auto allow = Reachability(true)
                   .expect_peer({"x"}, {"x", "a"}, false)
                   .expect_peer({"y"}, {"x", "a"}, true)
                   .expect_peer({"z"}, {"x", "a"}, false);
  load(port81);
  check(allow, kTcp81);
  check(Reachability(true).expect_all_ingress("x/a", false), kTcp80);
  load(port81 + netpol("x", "allow-client-a-via-ns-selector-80", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: 80, protocol: TCP}]
)"));
  check(allow, kTcp80);
  check(allow, kTcp81);
  ASSERT_TRUE(loaded());
  const std::uint32_t p81 = policy_id("x", "allow-client-a-via-ns-selector");
  const std::uint32_t p80 = policy_id("x", "allow-client-a-via-ns-selector-80");
  auto on80 = explain("y/c", "x/a", kTcp80);
  EXPECT_EQ(on80.ingress.isolating, (std::vector<std::uint32_t>{p81, p80}));
  EXPECT_EQ(on80.ingress.allowed_by, (std::vector<RuleRef>{{p80, 0}}));
  EXPECT_EQ(explain("y/c", "x/a", kTcp81).ingress.allowed_by, (std::vector<RuleRef>{{p81, 0}}));
  EXPECT_TRUE(explain("z/a", "x/a", kTcp80).ingress.allowed_by.empty());
}

// Derived: two policies select x/a; its allowed sources are the union of theirs.
TEST_F(E2eModel, TwoPoliciesOnOnePodUnionOfSources) {
  load(netpol("x", "allow-from-x-b", R"(
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
)") + netpol("x", "allow-from-y", R"(
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
)"));
  check(Reachability(true)
            .expect_all_ingress("x/a", false)
            .expect("x/b", "x/a", true)
            .expect_peer({"y"}, {"x", "a"}, true),
        kTcp80);
  ASSERT_TRUE(loaded());
  EXPECT_EQ(explain("x/b", "x/a", kTcp80).ingress.allowed_by,
            (std::vector<RuleRef>{{policy_id("x", "allow-from-x-b"), 0}}));
  EXPECT_EQ(explain("y/b", "x/a", kTcp80).ingress.allowed_by,
            (std::vector<RuleRef>{{policy_id("x", "allow-from-y"), 0}}));
}

// "should enforce multiple ingress policies with ingress allow-all policy taking precedence"
TEST_F(E2eModel, IngressAllowAllTakesPrecedence) {
  const std::string port80 = netpol("x", "allow-ingress-port-80", R"(
  podSelector: {matchLabels: {}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: 80}]
)");
  load(port80);
  check(Reachability(true).expect_peer({}, {"x"}, false), kTcp81);
  load(port80 + netpol("x", "allow-ingress", R"(
  podSelector: {matchLabels: {}}
  policyTypes: [Ingress]
  ingress: [{}]
)"));
  check(Reachability(true), kTcp81);
}

// "should enforce multiple egress policies with egress allow-all policy taking precedence"
TEST_F(E2eModel, EgressAllowAllTakesPrecedence) {
  const std::string port80 = netpol("x", "allow-egress-port-80", R"(
  podSelector: {matchLabels: {}}
  policyTypes: [Egress]
  egress:
  - ports: [{port: 80}]
)");
  load(port80);
  check(Reachability(true).expect_peer({"x"}, {}, false), kTcp81);
  load(port80 + netpol("x", "allow-egress", R"(
  podSelector: {matchLabels: {}}
  policyTypes: [Egress]
  egress: [{}]
)"));
  check(Reachability(true), kTcp81);
}

// "should enforce updated policy": `ingress: [{}]` allows all, `ingress: []` denies all.
TEST_F(E2eModel, UpdatedPolicyFromAllowAllToDenyAll) {
  load(netpol("x", "allow-all-mutate-to-deny-all", R"(
  podSelector: {matchLabels: {}}
  policyTypes: [Ingress]
  ingress: [{}]
)"));
  check(Reachability(true), kTcp81);
  load(netpol("x", "allow-all-mutate-to-deny-all", R"(
  podSelector: {matchLabels: {}}
  policyTypes: [Ingress]
  ingress: []
)"));
  check(Reachability(true).expect_peer({}, {"x"}, false), kTcp81);
}

// ---- policyTypes ----

// Derived: policyTypes [Egress] makes the policy's ingress rules irrelevant; x/a stays open.
TEST_F(E2eModel, EgressOnlyPolicyTypesIgnoresIngressRules) {
  load(netpol("x", "egress-only", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
  egress:
  - to: [{namespaceSelector: {matchLabels: {ns: y}}}]
)"));
  check(Reachability(true).expect_all_egress("x/a", false).expect_peer({"x", "a"}, {"y"}, true), kTcp80);
}

// Derived: policyTypes omitted with an egress rule defaults to [Ingress, Egress]: x/a is isolated
// both ways (no ingress rules at all), egress only to x/b.
TEST_F(E2eModel, EgressRulesWithPolicyTypesOmitted) {
  load(netpol("x", "egress-to-x-b", R"(
  podSelector: {matchLabels: {pod: a}}
  egress:
  - to: [{podSelector: {matchLabels: {pod: b}}}]
)"));
  check(Reachability(true).expect_all_ingress("x/a", false).expect_all_egress("x/a", false).expect("x/a", "x/b", true),
        kTcp80);
}

// Derived: `egress: []` with policyTypes omitted is Ingress only: x is ingress-isolated, egress open.
TEST_F(E2eModel, EmptyEgressWithPolicyTypesOmittedDoesNotIsolateEgress) {
  load(netpol("x", "empty-egress", R"(
  podSelector: {}
  egress: []
)"));
  check(Reachability(true).expect_peer({}, {"x"}, false), kTcp80);
}

}  // namespace
}  // namespace npv
