// The upstream Kubernetes NetworkPolicy e2e suite, replayed against the engine: numeric and
// named ports, endPort, protocols, and ipBlock.
// Sources, the model and the differences from upstream: support/e2e_model.hpp.
#include <gtest/gtest.h>

#include <vector>

#include "support/e2e_model.hpp"

namespace npv {
namespace {

using test::E2eModel;
using test::Reachability;
using test::kSctp81;
using test::kTcp80;
using test::kTcp81;
using test::kUdp80;
using test::kUdp81;
using test::netpol;

// ---- Ports ----

// "should enforce policy based on Ports": 81 from y only; 80 is then denied to x/a for everyone.
TEST_F(E2eModel, NumericPortOnly) {
  load(netpol("x", "allow-client-a-via-ns-selector", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: 81, protocol: TCP}]
)"));
  check(Reachability(true)
            .expect_peer({"x"}, {"x", "a"}, false)
            .expect_peer({"y"}, {"x", "a"}, true)
            .expect_peer({"z"}, {"x", "a"}, false),
        kTcp81);
  check(Reachability(true).expect_all_ingress("x/a", false), kTcp80);
}

// "... using UDP: should enforce policy based on Ports"
TEST_F(E2eModel, NumericPortOnlyUdp) {
  load(netpol("x", "allow-ingress-on-port-81-ns-x", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: 81, protocol: UDP}]
)"));
  check(Reachability(true).expect_peer({"x"}, {"x", "a"}, false).expect_peer({"z"}, {"x", "a"}, false), kUdp81);
  check(Reachability(true).expect_all_ingress("x/a", false), kTcp81);
}

// "... using SCTP: should enforce policy based on Ports"
TEST_F(E2eModel, NumericPortOnlySctp) {
  load(netpol("x", "allow-ingress-on-port-81-ns-x", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: 81, protocol: SCTP}]
)"));
  check(Reachability(true).expect_peer({"x"}, {"x", "a"}, false).expect_peer({"z"}, {"x", "a"}, false), kSctp81);
  check(Reachability(true).expect_all_ingress("x/a", false), kTcp81);
}

// "should support allow-all policy"
TEST_F(E2eModel, AllowAllPolicy) {
  load(netpol("x", "allow-all", R"(
  podSelector: {matchLabels: {}}
  policyTypes: [Ingress]
  ingress: [{}]
)"));
  check(Reachability(true), kTcp80);
  check(Reachability(true), kTcp81);
}

// "should allow ingress access on one named port"
TEST_F(E2eModel, NamedPortIngress) {
  load(netpol("x", "allow-all", R"(
  podSelector: {matchLabels: {}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: serve-81-tcp}]
)"));
  check(Reachability(true), kTcp81);
  check(Reachability(true).expect_peer({}, {"x"}, false), kTcp80);
}

// "should allow ingress access from namespace on one named port"
TEST_F(E2eModel, NamedPortFromNamespace) {
  load(netpol("x", "allow-client-a-via-ns-selector-80", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: serve-80-tcp, protocol: TCP}]
)"));
  check(Reachability(true).expect_peer({"x"}, {"x", "a"}, false).expect_peer({"z"}, {"x", "a"}, false), kTcp80);
  check(Reachability(true).expect_all_ingress("x/a", false), kTcp81);
}

// "should allow egress access on one named port": resolved against the destination pod.
TEST_F(E2eModel, NamedPortEgress) {
  load(netpol("x", "allow-egress", R"(
  podSelector: {matchLabels: {}}
  policyTypes: [Egress]
  egress:
  - ports: [{port: serve-80-tcp}]
)"));
  check(Reachability(true), kTcp80);
  check(Reachability(true).expect_peer({"x"}, {}, false), kTcp81);
}

// Derived (cyclonus port/protocol cases): two named ports on different protocols.
TEST_F(E2eModel, MultipleNamedPorts) {
  load(netpol("x", "allow-named-ports", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: serve-80-tcp}, {port: serve-81-udp, protocol: UDP}]
)"));
  check(Reachability(true), kTcp80);
  check(Reachability(true), kUdp81);
  check(Reachability(true).expect_all_ingress("x/a", false), kTcp81);
  check(Reachability(true).expect_all_ingress("x/a", false), kUdp80);
}

// Derived: a named port resolves only on its own protocol; serve-80-tcp is no UDP port.
TEST_F(E2eModel, NamedPortWithWrongProtocol) {
  load(netpol("x", "allow-serve-80-tcp-on-udp", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: serve-80-tcp, protocol: UDP}]
)"));
  check(Reachability(true).expect_all_ingress("x/a", false), kUdp80);
  check(Reachability(true).expect_all_ingress("x/a", false), kTcp80);
}

// Derived (NetworkPolicyPort.endPort, KEP-2079): port..endPort is inclusive.
TEST_F(E2eModel, EndPortRangeCoversBothPorts) {
  load(netpol("x", "allow-80-81-from-y", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: 80, endPort: 81}]
)"));
  auto from_y = Reachability(true).expect_peer({"x"}, {"x", "a"}, false).expect_peer({"z"}, {"x", "a"}, false);
  check(from_y, kTcp80);
  check(from_y, kTcp81);
  check(Reachability(true).expect_all_ingress("x/a", false), kUdp80);  // protocol defaults to TCP
}

// Derived: 81..82 includes 81 but not 80.
TEST_F(E2eModel, EndPortRangeStartsAtPort) {
  load(netpol("x", "allow-81-82-from-y", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
    ports: [{port: 81, endPort: 82, protocol: TCP}]
)"));
  check(Reachability(true).expect_peer({"x"}, {"x", "a"}, false).expect_peer({"z"}, {"x", "a"}, false), kTcp81);
  check(Reachability(true).expect_all_ingress("x/a", false), kTcp80);
}

// "should enforce ingress policy allowing any port traffic to a server on a specific protocol"
TEST_F(E2eModel, AnyPortOnOneProtocol) {
  load(netpol("x", "allow-ingress-by-proto", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{protocol: TCP}]
)"));
  check(Reachability(true), kTcp80);
  check(Reachability(true).expect_peer({}, {"x", "a"}, false), kUdp80);
}

// "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't
// support SCTP"; the SCTP probe is derived.
TEST_F(E2eModel, SctpIsNotTcp) {
  load(netpol("x", "deny-ingress", R"(
  podSelector: {}
  policyTypes: [Ingress]
  ingress: []
)") + netpol("x", "allow-only-sctp-ingress-on-port-81", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: 81, protocol: SCTP}]
)"));
  check(Reachability(true).expect_peer({}, {"x"}, false), kTcp81);
  check(Reachability(true).expect_peer({}, {"x"}, false).expect_all_ingress("x/a", true), kSctp81);
}

// "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin
// doesn't support SCTP"
TEST_F(E2eModel, SctpPolicyStillIsolates) {
  load(netpol("x", "allow-only-sctp-ingress-on-port-80", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: 80, protocol: SCTP}]
)"));
  check(Reachability(true).expect_all_ingress("x/a", false), kTcp81);
}

// "should not allow access by TCP when a policy specifies only UDP"
TEST_F(E2eModel, UdpOnlyPolicyDeniesTcp) {
  load(netpol("x", "allow-only-udp-ingress-on-port-81", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: 81, protocol: UDP}]
)"));
  check(Reachability(true).expect_all_ingress("x/a", false), kTcp81);
}

// ---- ipBlock ----

// "should allow egress access to server in CIDR block" (server y/b = 10.0.2.2)
TEST_F(E2eModel, EgressToCidr) {
  load(netpol("x", "allow-client-a-via-cidr-egress-rule", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.0.2.2/32}}]
)"));
  check(Reachability(true).expect_all_egress("x/a", false).expect("x/a", "y/b", true), kTcp80);
}

// "should enforce except clause while egress access to server in CIDR block": makeLargeCIDRForIP
// gives the /4 around x/b (10.0.1.2), i.e. 0.0.0.0/4, minus x/b's /32.
TEST_F(E2eModel, EgressCidrWithExcept) {
  load(netpol("x", "allow-client-a-via-cidr-egress-rule", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/4, except: [10.0.1.2/32]}}]
)"));
  check(Reachability(true).expect("x/a", "x/b", false), kTcp80);
}

// "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed": the except
// policy, then (UpdatePolicy, same name) a policy allowing only x/b's /32.
TEST_F(E2eModel, CidrOverlappingExceptUpdated) {
  load(netpol("x", "allow-client-a-via-cidr-egress-rule", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/4, except: [10.0.1.2/32]}}]
)"));
  check(Reachability(true).expect("x/a", "x/b", false), kTcp80);
  load(netpol("x", "allow-client-a-via-cidr-egress-rule", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.0.1.2/32}}]
)"));
  check(Reachability(true).expect_all_egress("x/a", false).expect("x/a", "x/b", true), kTcp80);
}

// Derived: the same two blocks as two coexisting policies add up; x/b is allowed by the second.
TEST_F(E2eModel, CidrOverlappingExceptAllowedByAnotherPolicy) {
  load(netpol("x", "allow-cidr-except-x-b", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/4, except: [10.0.1.2/32]}}]
)") + netpol("x", "allow-x-b", R"(
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.0.1.2/32}}]
)"));
  check(Reachability(true), kTcp80);
  ASSERT_TRUE(loaded());
  auto to_b = explain("x/a", "x/b", kTcp80);
  EXPECT_EQ(to_b.egress.allowed_by, (std::vector<RuleRef>{{policy_id("x", "allow-x-b"), 0}}));
}

// Derived: ingress from 10.0.0.0/16 except x/a's /32, into every pod of y.
TEST_F(E2eModel, IngressCidrWithExcept) {
  load(netpol("y", "allow-cidr-except-x-a", R"(
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.1/32]}}]
)"));
  check(Reachability(true).expect_peer({"x", "a"}, {"y"}, false), kTcp80);
}

}  // namespace
}  // namespace npv
