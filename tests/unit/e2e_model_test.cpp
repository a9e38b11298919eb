// The upstream Kubernetes NetworkPolicy e2e suite, replayed against the engine.
//
// Source: kubernetes/kubernetes test/e2e/network/netpol/ (network_policy.go, model.go,
// reachability.go, policies.go) and mattfenwick/cyclonus pkg/generator (upstreame2e.go), which
// generalised it. The model: namespaces x, y, z (labelled ns=<name>, plus the automatic
// kubernetes.io/metadata.name), pods a, b, c in each (labelled pod=<name>), every pod serving 80
// and 81 on TCP, UDP and SCTP through container ports named serve-<port>-<proto>. Pod IPs, which
// upstream reads from the live cluster, are 10.0.<ns>.<pod> here (x=1, y=2, z=3; a=1, b=2, c=3).
//
// Every test builds its expected 9x9 truth table the way upstream does: start from all-true, then
// apply the same Expect/ExpectPeer/ExpectAllIngress/ExpectAllEgress calls, and probes one
// port/protocol. Differences from upstream, each deliberate:
//  - Upstream ignores loopback probes (ignoreLoopback = true); npv defines pod-to-self as always
//    allowed, so the diagonal is always expected allowed.
//  - Upstream egress policies often add a UDP/53 rule for DNS; there is no DNS pod here, and that
//    rule cannot change a TCP/80 or TCP/81 verdict, so it is left out.
//  - Tests that mutate labels or policies mid-test are replayed as successive loads.
// Tests marked "derived" are not upstream cases; their tables follow the networking.k8s.io/v1 API
// reference (NetworkPolicyPort.endPort, LabelSelectorRequirement operators, IPBlock.except,
// policyTypes defaulting) in the same style.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

#include "npv/policy_engine.hpp"
#include "support/manifest_builder.hpp"

namespace npv {
namespace {

constexpr std::array<std::string_view, 3> kNamespaces = {"x", "y", "z"};
constexpr std::array<std::string_view, 3> kPodNames = {"a", "b", "c"};
constexpr std::size_t kPods = 9;  // index = namespace * 3 + pod: x/a = 0 ... z/c = 8

constexpr PortProto kTcp80{80, Protocol::kTCP};
constexpr PortProto kTcp81{81, Protocol::kTCP};
constexpr PortProto kUdp80{80, Protocol::kUDP};
constexpr PortProto kUdp81{81, Protocol::kUDP};
constexpr PortProto kSctp80{80, Protocol::kSCTP};
constexpr PortProto kSctp81{81, Protocol::kSCTP};

std::string pod_string(std::size_t i) {
  return std::string(kNamespaces[i / 3]) + "/" + std::string(kPodNames[i % 3]);
}

std::size_t pod_index(std::string_view ref) {
  for (std::size_t i = 0; i < kPods; ++i) {
    if (pod_string(i) == ref) return i;
  }
  ADD_FAILURE() << "no pod " << ref << " in the model";
  return 0;
}

// The namespaces and pods of model.go, as manifests.
std::string model_yaml() {
  // model.go's Container.PortName(): serve-<port>-<lowercase protocol>.
  std::string ports = "[";
  for (std::string_view port : {"80", "81"}) {
    for (std::string_view proto : {"TCP", "UDP", "SCTP"}) {
      std::string lower(proto);
      for (char& c : lower) c = static_cast<char>(c - 'A' + 'a');
      if (ports.size() > 1) ports += ", ";
      ports += "{name: serve-" + std::string(port) + "-" + lower + ", containerPort: " + std::string(port) +
               ", protocol: " + std::string(proto) + "}";
    }
  }
  ports += "]";
  std::string out;
  for (std::size_t n = 0; n < kNamespaces.size(); ++n) {
    const std::string ns(kNamespaces[n]);
    out += test::namespace_yaml(ns, "{ns: " + ns + "}");
    for (std::size_t p = 0; p < kPodNames.size(); ++p) {
      const std::string pod(kPodNames[p]);
      const std::string ip = "10.0." + std::to_string(n + 1) + "." + std::to_string(p + 1);
      out += test::pod_yaml(ns, pod, "{pod: " + pod + "}", ip, ports);
    }
  }
  return out;
}

// A NetworkPolicy manifest; `spec` is the YAML body of `spec:`, indented by two spaces.
std::string netpol(std::string_view ns, std::string_view name, std::string_view spec) {
  return "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + std::string(name) +
         ", namespace: " + std::string(ns) + "}\nspec:" + std::string(spec);
}

// reachability.go's Peer: an empty field matches every namespace (pod).
struct Peer {
  std::string_view ns = {};
  std::string_view pod = {};
  bool matches(std::size_t i) const {
    return (ns.empty() || ns == kNamespaces[i / 3]) && (pod.empty() || pod == kPodNames[i % 3]);
  }
};

// reachability.go's truth table: rows are sources ("from"), columns destinations ("to").
class Reachability {
 public:
  explicit Reachability(bool allowed) { cells_.fill(allowed); }

  Reachability& expect(std::string_view from, std::string_view to, bool allowed) {
    set(pod_index(from), pod_index(to), allowed);
    return *this;
  }
  Reachability& expect_peer(Peer from, Peer to, bool allowed) {
    for (std::size_t f = 0; f < kPods; ++f) {
      for (std::size_t t = 0; t < kPods; ++t) {
        if (from.matches(f) && to.matches(t)) set(f, t, allowed);
      }
    }
    return *this;
  }
  // Every source to `pod`.
  Reachability& expect_all_ingress(std::string_view pod, bool allowed) {
    for (std::size_t f = 0; f < kPods; ++f) set(f, pod_index(pod), allowed);
    return *this;
  }
  // `pod` to every destination.
  Reachability& expect_all_egress(std::string_view pod, bool allowed) {
    for (std::size_t t = 0; t < kPods; ++t) set(pod_index(pod), t, allowed);
    return *this;
  }

  bool at(std::size_t from, std::size_t to) const { return cells_[from * kPods + to]; }
  void set(std::size_t from, std::size_t to, bool allowed) { cells_[from * kPods + to] = allowed; }

  // truthtable.go's layout: "." allowed, "X" denied.
  std::string grid() const {
    std::string out = "-  ";
    for (std::size_t t = 0; t < kPods; ++t) out += "  " + pod_string(t);
    out += '\n';
    for (std::size_t f = 0; f < kPods; ++f) {
      out += pod_string(f);
      for (std::size_t t = 0; t < kPods; ++t) out += at(f, t) ? "    ." : "    X";
      out += '\n';
    }
    return out;
  }

 private:
  std::array<bool, kPods * kPods> cells_{};
};

class E2eModel : public ::testing::Test {
 protected:
  // Loads the model plus `policies` through the manifest loader and builds a fresh engine.
  void load(const std::string& policies) {
    engine_.reset();
    cluster_.reset();
    auto cluster = test::load_yaml(model_yaml() + policies);
    ASSERT_TRUE(cluster) << cluster.error().message;
    cluster_ = std::make_unique<ClusterState>(std::move(*cluster));
    for (std::size_t i = 0; i < kPods; ++i) {
      auto id = cluster_->find_pod(pod_string(i));
      ASSERT_TRUE(id) << pod_string(i);
      pods_[i] = *id;
    }
    engine_ = std::make_unique<PolicyEngine>(*cluster_);
  }

  // Probes all 81 pairs on `port`; on a mismatch prints expected, observed and comparison grids.
  void check(const Reachability& upstream, PortProto port,
             std::source_location loc = std::source_location::current()) {
    if (!engine_) {
      ADD_FAILURE_AT(loc.file_name(), loc.line()) << "the model did not load";
      return;
    }
    Reachability expected = upstream;
    for (std::size_t i = 0; i < kPods; ++i) expected.set(i, i, true);  // loopback: see the header
    Reachability observed(false);
    Reachability comparison(true);
    std::string wrong;
    for (std::size_t f = 0; f < kPods; ++f) {
      for (std::size_t t = 0; t < kPods; ++t) {
        bool got = engine_->allowed(flow(f, t, port));
        observed.set(f, t, got);
        if (got == expected.at(f, t)) continue;
        comparison.set(f, t, false);
        wrong += "  " + pod_string(f) + " -> " + pod_string(t) + ": expected " +
                 (expected.at(f, t) ? "allowed" : "denied") + ", engine says " + (got ? "allowed" : "denied") + "\n";
      }
    }
    if (!wrong.empty()) {
      ADD_FAILURE_AT(loc.file_name(), loc.line())
          << "probe " << port.to_string() << " differs from the upstream truth table\nexpected:\n"
          << expected.grid() << "observed:\n"
          << observed.grid() << "comparison (X = differs):\n"
          << comparison.grid() << wrong;
    }
  }

  Explanation explain(std::string_view from, std::string_view to, PortProto port) const {
    return engine_->explain(flow(pod_index(from), pod_index(to), port));
  }

  // The index of policy ns/name in ClusterState::policies, as RuleRef and DirectionVerdict use.
  std::uint32_t policy_id(std::string_view ns, std::string_view name) const {
    for (std::uint32_t i = 0; i < cluster_->policies.size(); ++i) {
      if (cluster_->policies[i].ns == ns && cluster_->policies[i].name == name) return i;
    }
    ADD_FAILURE() << "no policy " << ns << "/" << name;
    return 0;
  }

  bool loaded() const { return engine_ != nullptr; }

 private:
  Flow flow(std::size_t from, std::size_t to, PortProto port) const {
    return Flow{Endpoint::of_pod(pods_[from]), Endpoint::of_pod(pods_[to]), port};
  }

  std::unique_ptr<ClusterState> cluster_;  // the engine refers to it: declared first, freed last
  std::unique_ptr<PolicyEngine> engine_;
  std::array<PodId, kPods> pods_{};
};

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
