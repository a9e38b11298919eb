// The harness for the upstream Kubernetes NetworkPolicy e2e suite, replayed against the engine
// (tests/unit/e2e_model_*_test.cpp).
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
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <source_location>
#include <string>
#include <string_view>

#include "npv/policy_engine.hpp"

namespace npv::test {

inline constexpr std::array<std::string_view, 3> kNamespaces = {"x", "y", "z"};
inline constexpr std::array<std::string_view, 3> kPodNames = {"a", "b", "c"};
inline constexpr std::size_t kPods = 9;  // index = namespace * 3 + pod: x/a = 0 ... z/c = 8

inline constexpr PortProto kTcp80{80, Protocol::kTCP};
inline constexpr PortProto kTcp81{81, Protocol::kTCP};
inline constexpr PortProto kUdp80{80, Protocol::kUDP};
inline constexpr PortProto kUdp81{81, Protocol::kUDP};
inline constexpr PortProto kSctp80{80, Protocol::kSCTP};
inline constexpr PortProto kSctp81{81, Protocol::kSCTP};

// "ns/pod" of model index `i`, and back; an unknown pod fails the test and gives 0.
std::string pod_string(std::size_t i);
std::size_t pod_index(std::string_view ref);

// The namespaces and pods of model.go, as manifests.
std::string model_yaml();

// A NetworkPolicy manifest; `spec` is the YAML body of `spec:`, indented by two spaces.
std::string netpol(std::string_view ns, std::string_view name, std::string_view spec);

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

  Reachability& expect(std::string_view from, std::string_view to, bool allowed);
  Reachability& expect_peer(Peer from, Peer to, bool allowed);
  // Every source to `pod`.
  Reachability& expect_all_ingress(std::string_view pod, bool allowed);
  // `pod` to every destination.
  Reachability& expect_all_egress(std::string_view pod, bool allowed);

  bool at(std::size_t from, std::size_t to) const { return cells_[from * kPods + to]; }
  void set(std::size_t from, std::size_t to, bool allowed) { cells_[from * kPods + to] = allowed; }

  // truthtable.go's layout: "." allowed, "X" denied.
  std::string grid() const;

 private:
  std::array<bool, kPods * kPods> cells_{};
};

class E2eModel : public ::testing::Test {
 protected:
  // Loads the model plus `policies` through the manifest loader and builds a fresh engine.
  void load(const std::string& policies);

  // Probes all 81 pairs on `port`; on a mismatch prints expected, observed and comparison grids.
  void check(const Reachability& upstream, PortProto port,
             std::source_location loc = std::source_location::current());

  Explanation explain(std::string_view from, std::string_view to, PortProto port) const;

  // The index of policy ns/name in ClusterState::policies, as RuleRef and DirectionVerdict use.
  std::uint32_t policy_id(std::string_view ns, std::string_view name) const;

  bool loaded() const { return engine_ != nullptr; }

 private:
  Flow flow(std::size_t from, std::size_t to, PortProto port) const;

  std::unique_ptr<ClusterState> cluster_;  // the engine refers to it: declared first, freed last
  std::unique_ptr<PolicyEngine> engine_;
  std::array<PodId, kPods> pods_{};
};

}  // namespace npv::test
