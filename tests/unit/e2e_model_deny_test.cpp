// The upstream Kubernetes NetworkPolicy e2e suite, replayed against the engine: default deny,
// and peers by podSelector and namespaceSelector.
// Sources, the model and the differences from upstream: support/e2e_model.hpp.
#include <gtest/gtest.h>

#include <string>

#include "support/e2e_model.hpp"

namespace npv {
namespace {

using test::E2eModel;
using test::Reachability;
using test::kNamespaces;
using test::kPods;
using test::kSctp80;
using test::kSctp81;
using test::kTcp80;
using test::kTcp81;
using test::kUdp80;
using test::kUdp81;
using test::netpol;

// ---- Default deny ----

// "should support a 'default-deny-ingress' policy"
TEST_F(E2eModel, DefaultDenyIngress) {
  load(netpol("x", "deny-ingress", R"(
  podSelector: {}
  policyTypes: [Ingress]
  ingress: []
)"));
  check(Reachability(true).expect_peer({}, {"x"}, false), kTcp80);
}

// "NetworkPolicy between server and client using UDP: should support a 'default-deny-ingress' policy"
TEST_F(E2eModel, DefaultDenyIngressUdp) {
  load(netpol("x", "deny-all", R"(
  podSelector: {}
  policyTypes: [Ingress]
  ingress: []
)"));
  check(Reachability(true).expect_peer({}, {"x"}, false), kUdp80);
}

// "... using SCTP: should support a 'default-deny-ingress' policy"
TEST_F(E2eModel, DefaultDenyIngressSctp) {
  load(netpol("x", "deny-all", R"(
  podSelector: {}
  policyTypes: [Ingress]
  ingress: []
)"));
  check(Reachability(true).expect_peer({}, {"x"}, false), kSctp80);
}

// "should deny egress from all pods in a namespace" (DNS rule omitted)
TEST_F(E2eModel, DefaultDenyEgress) {
  load(netpol("x", "deny-egress-ns-x", R"(
  podSelector: {}
  policyTypes: [Egress]
  egress: []
)"));
  check(Reachability(true).expect_peer({"x"}, {}, false), kTcp80);
}

// "should deny egress from pods based on PodSelector"
TEST_F(E2eModel, DenyEgressFromPodsBasedOnPodSelector) {
  load(netpol("x", "deny-egress-pod-a", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: []
)"));
  check(Reachability(true).expect_all_egress("x/a", false), kTcp80);
}

// "should support a 'default-deny-all' policy"
TEST_F(E2eModel, DefaultDenyAll) {
  load(netpol("x", "deny-all", R"(
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress: []
  egress: []
)"));
  check(Reachability(true).expect_peer({}, {"x"}, false).expect_peer({"x"}, {}, false), kTcp80);
}

// Derived: with deny-all in every namespace only pod-to-self remains, on every protocol.
TEST_F(E2eModel, PodToSelfAlwaysAllowedUnderDenyAll) {
  std::string all;
  for (auto ns : kNamespaces) {
    all += netpol(ns, "deny-all", R"(
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress: []
  egress: []
)");
  }
  load(all);
  Reachability only_self(false);
  for (std::size_t i = 0; i < kPods; ++i) only_self.set(i, i, true);
  for (PortProto port : {kTcp80, kTcp81, kUdp80, kUdp81, kSctp80, kSctp81}) check(only_self, port);
  ASSERT_TRUE(loaded());
  auto self = explain("y/b", "y/b", kTcp80);
  EXPECT_TRUE(self.self);
  EXPECT_TRUE(self.allowed());
  EXPECT_FALSE(self.ingress.allowed()) << "deny-all still isolates y/b; only the self rule allows";
}

// ---- Peers: podSelector, namespaceSelector ----

// "should enforce policy to allow traffic from pods within server namespace based on PodSelector"
TEST_F(E2eModel, AllowFromPodWithinNamespaceByPodSelector) {
  load(netpol("x", "x-a-allows-x-b", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}]
)"));
  check(Reachability(true).expect_all_ingress("x/a", false).expect("x/b", "x/a", true), kTcp80);
}

// "should enforce policy based on PodSelector with MatchExpressions"
TEST_F(E2eModel, PodSelectorWithMatchExpressions) {
  load(netpol("x", "x-a-allows-x-b", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchExpressions: [{key: pod, operator: In, values: [b]}]}}]
)"));
  check(Reachability(true).expect_all_ingress("x/a", false).expect("x/b", "x/a", true), kTcp80);
}

// "should deny ingress from pods on other namespaces": a podSelector {} peer is the same namespace.
TEST_F(E2eModel, AllowFromSameNamespaceOnly) {
  load(netpol("x", "deny-empty-policy", R"(
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {}}]
)"));
  check(Reachability(true).expect_peer({"y"}, {"x"}, false).expect_peer({"z"}, {"x"}, false), kTcp80);
}

// "should enforce policy to allow ingress traffic from pods in all namespaces"
TEST_F(E2eModel, AllowFromAllNamespaces) {
  load(netpol("x", "allow-from-another-ns", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {}}}]
)"));
  check(Reachability(true), kTcp80);
}

// "should enforce policy to allow ingress traffic for a target": deny-all plus an allow for x/a.
TEST_F(E2eModel, AllowIngressForTarget) {
  load(netpol("x", "deny-all", R"(
  podSelector: {}
  policyTypes: [Ingress]
  ingress: []
)") + netpol("x", "allow-all-to-a", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {}, namespaceSelector: {}}]
)"));
  check(Reachability(true)
            .expect_all_ingress("x/a", true)
            .expect_all_ingress("x/b", false)
            .expect_all_ingress("x/c", false),
        kTcp80);
}

// "should enforce policy to allow traffic only from a different namespace, based on
// NamespaceSelector" (with model.go's ns=<name> label)
TEST_F(E2eModel, AllowFromNamespaceByNamespaceSelector) {
  load(netpol("x", "allow-client-a-via-ns-selector", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
)"));
  check(Reachability(true).expect_peer({"x"}, {"x", "a"}, false).expect_peer({"z"}, {"x", "a"}, false), kTcp80);
}

// "should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default
// ns label"
TEST_F(E2eModel, NamespaceSelectorWithDefaultNamespaceLabel) {
  load(netpol("x", "allow-client-a-via-ns-selector-for-immutable-ns-label", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}]
)"));
  check(Reachability(true).expect_peer({"x"}, {"x", "a"}, false).expect_peer({"z"}, {"x", "a"}, false), kTcp80);
}

// "should enforce policy based on NamespaceSelector with MatchExpressions" (ns In [y])
TEST_F(E2eModel, NamespaceSelectorIn) {
  load(netpol("x", "allow-ns-y-match-selector", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: [y]}]}}]
)"));
  check(Reachability(true).expect_peer({"x"}, {"x", "a"}, false).expect_peer({"z"}, {"x", "a"}, false), kTcp80);
}

// "should enforce policy based on NamespaceSelector with MatchExpressions using default ns label"
// (egress, NotIn [y])
TEST_F(E2eModel, NamespaceSelectorNotInEgress) {
  load(netpol("x", "allow-ns-y-match-selector-for-immutable-ns-label", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [y]}]}}]
)"));
  check(Reachability(true).expect_peer({"x", "a"}, {"y"}, false), kTcp80);
}

// Derived: Exists selects every namespace carrying the key (all three), ANDed with pod NotIn [a].
TEST_F(E2eModel, NamespaceSelectorExists) {
  load(netpol("x", "allow-b-c-from-labelled-ns", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: ns, operator: Exists}]}
      podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [a]}]}
)"));
  Reachability r(true);
  r.expect_all_ingress("x/a", false);
  for (auto ns : kNamespaces) r.expect_peer({ns, "b"}, {"x", "a"}, true).expect_peer({ns, "c"}, {"x", "a"}, true);
  check(r, kTcp80);
}

// Derived: ns DoesNotExist selects no namespace; target DoesNotExist selects every pod (none has it).
TEST_F(E2eModel, SelectorDoesNotExist) {
  load(netpol("x", "allow-from-z", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: ns, operator: DoesNotExist}]}
    - namespaceSelector: {matchLabels: {ns: z}}
      podSelector: {matchExpressions: [{key: target, operator: DoesNotExist}]}
)"));
  check(Reachability(true).expect_all_ingress("x/a", false).expect_peer({"z"}, {"x", "a"}, true), kTcp80);
}

// "should enforce policy based on PodSelector and NamespaceSelector": ONE peer, selectors ANDed.
TEST_F(E2eModel, PodSelectorAndNamespaceSelectorInOnePeer) {
  load(netpol("x", "allow-ns-y-podselector-and-nsselector", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: ns, operator: NotIn, values: [x]}]}
      podSelector: {matchLabels: {pod: b}}
)"));
  check(Reachability(true).expect_all_ingress("x/a", false).expect("y/b", "x/a", true).expect("z/b", "x/a", true),
        kTcp80);
}

// "should enforce policy based on PodSelector or NamespaceSelector": the same selectors as TWO
// peers, ORed. (Upstream also sets x/a -> x/a false, which it then ignores as loopback.)
TEST_F(E2eModel, PodSelectorOrNamespaceSelectorInTwoPeers) {
  load(netpol("x", "allow-ns-y-match-selector", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: ns, operator: NotIn, values: [x]}]}
    - podSelector: {matchLabels: {pod: b}}
)"));
  check(Reachability(true).expect("x/a", "x/a", false).expect("x/c", "x/a", false), kTcp80);
}

// "should enforce policy based on Multiple PodSelectors and NamespaceSelectors"
TEST_F(E2eModel, MultiplePodSelectorsAndNamespaceSelectors) {
  load(netpol("x", "allow-ns-y-z-pod-b-c", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: ns, operator: NotIn, values: [x]}]}
      podSelector: {matchExpressions: [{key: pod, operator: In, values: [b, c]}]}
)"));
  check(Reachability(true)
            .expect_peer({"x"}, {"x", "a"}, false)
            .expect("y/a", "x/a", false)
            .expect("z/a", "x/a", false),
        kTcp80);
}

// "should enforce policy based on any PodSelectors"
TEST_F(E2eModel, AnyPodSelectors) {
  load(netpol("x", "allow-ns-x-pod-b-c", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {pod: b}}}, {podSelector: {matchLabels: {pod: c}}}]
)"));
  check(Reachability(true).expect_all_ingress("x/a", false).expect("x/b", "x/a", true).expect("x/c", "x/a", true),
        kTcp80);
}

// "should enforce policy to allow traffic only from a pod in a different namespace based on
// PodSelector and NamespaceSelector", on TCP, UDP and SCTP as upstream's three contexts do.
TEST_F(E2eModel, PodInDifferentNamespaceByPodAndNamespaceSelector) {
  load(netpol("x", "allow-ns-y-pod-a-via-namespace-pod-selector", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: a}}}]
)"));
  for (PortProto port : {kTcp80, kUdp80, kSctp80}) {
    check(Reachability(true).expect_all_ingress("x/a", false).expect("y/a", "x/a", true), port);
  }
}

}  // namespace
}  // namespace npv
