// The lab's nftables dataplane against the kernel and against the PolicyEngine: the two
// independent readings of NetworkPolicy meet here. Needs root (NPV_REQUIRE_PRIVILEGES).
//
// One lab for the whole suite: the upstream e2e model (namespaces x, y, z; pods a, b, c, see
// tests/support/e2e_model.hpp) as network namespaces, pod ns/p at 10.213.<ns>.<p> and
// fd00:213::<ns>:<p> (x = 1 ... z = 3, a = 1 ... c = 3), each listening on 80/TCP. A test loads a
// set of policies, compiles them with compile_nft, loads every pod's ruleset, probes all 81
// ordered pairs over IPv4 and IPv6 in parallel, and compares what the kernel let through with
// what the engine decides. In a fault mode the flows that differ must be exactly the ones the
// mode's definition predicts, computed by hand in each test.
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include "npv/loader.hpp"
#include "npv/netns_lab.hpp"
#include "npv/nft_dataplane.hpp"
#include "npv/policy_engine.hpp"
#include "privileged/support/privileges.hpp"
#include "support/e2e_model.hpp"
#include "support/manifest_builder.hpp"
#include "support/random_cluster.hpp"

namespace npv {
namespace {

using std::chrono::milliseconds;
using test::kPods;
using test::pod_string;
using test::Reachability;

constexpr char kPrefix[] = "npvd";
constexpr milliseconds kProbeTimeout{250};
constexpr milliseconds kRetryTimeout{1000};  // second look at a probe that disagrees
constexpr std::uint16_t kUdpBase = 5000;      // UDP probes from model pod i go to port kUdpBase + i

std::size_t ns_of(std::size_t i) { return i / 3; }
bool in_ns(std::size_t i, char ns) { return test::kNamespaces[ns_of(i)][0] == ns; }
std::size_t idx(std::string_view ref) { return test::pod_index(ref); }

IpAddr address(std::size_t i, int family) {
  const std::string n = std::to_string(i / 3 + 1), p = std::to_string(i % 3 + 1);
  return *IpAddr::parse(family == 4 ? "10.213." + n + "." + p : "fd00:213::" + n + ":" + p);
}

// model.go's namespaces and pods, dual-stack, with every serve-<port>-<proto> container port.
std::string model_yaml() {
  std::string ports = "[";
  for (const char* port : {"80", "81"}) {
    for (const char* proto : {"tcp", "udp", "sctp"}) {
      std::string upper(proto);
      for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
      if (ports.size() > 1) ports += ", ";
      ports += "{name: serve-" + std::string(port) + "-" + proto + ", containerPort: " + port + ", protocol: " + upper + "}";
    }
  }
  ports += "]";
  std::string out;
  for (std::size_t i = 0; i < kPods; ++i) {
    const std::string ns(test::kNamespaces[ns_of(i)]), pod(test::kPodNames[i % 3]);
    if (i % 3 == 0) out += test::namespace_yaml(ns, "{ns: " + ns + "}");
    out += "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " + pod + ", namespace: " + ns + ", labels: {pod: " + pod +
           "}}\nspec: {containers: [{name: c, ports: " + ports + "}]}\nstatus: {podIPs: [{ip: \"" +
           address(i, 4).to_string() + "\"}, {ip: \"" + address(i, 6).to_string() + "\"}]}\n";
  }
  return out;
}

std::string netpol(const std::string& ns, const std::string& name, const std::string& spec, const std::string& created = "") {
  return "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name + ", namespace: " + ns +
         (created.empty() ? "" : ", creationTimestamp: \"" + created + "\"") + "}\nspec: " + spec + "\n";
}

DataplaneOptions mode(Dataplane d, std::string synced_before = {}) {
  DataplaneOptions o;
  o.mode = d;
  o.synced_before = std::move(synced_before);
  return o;
}

using Predicate = std::function<bool(std::size_t from, std::size_t to)>;

class NftDataplaneLab : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (test::missing_privileges()) return;  // each test skips (or fails under CI) in SetUp
    if (auto stale = NetnsLab::cleanup_stale(kPrefix); !stale) setup_error_ = stale.error().message;
    LabOptions options;
    options.v4_prefix = 16;
    auto lab = NetnsLab::create(kPrefix, options);
    if (!lab) {
      setup_error_ = lab.error().message;
      return;
    }
    lab_.emplace(std::move(*lab));
    for (std::size_t i = 0; i < kPods; ++i) {
      auto pod = lab_->add_pod(pod_string(i), address(i, 4), address(i, 6));
      if (!pod) {
        setup_error_ = pod.error().message;
        return;
      }
      pods_.push_back(*pod);
      auto listener = tcp_listen(*pod, 80);
      if (!listener) {
        setup_error_ = listener.error().message;
        return;
      }
      listeners_.push_back(std::move(*listener));
    }
    // Warm the neighbour caches, so no measured probe waits for ARP / neighbour discovery.
    probe_tcp([](std::size_t, std::size_t) { return true; }, 4, kRetryTimeout);
    probe_tcp([](std::size_t, std::size_t) { return true; }, 6, kRetryTimeout);
  }

  static void TearDownTestSuite() {
    listeners_.clear();
    pods_.clear();
    if (lab_) {
      if (auto r = lab_->destroy(); !r) ADD_FAILURE() << r.error().message;
      lab_.reset();
    }
  }

  void SetUp() override {
    NPV_REQUIRE_PRIVILEGES();
    ASSERT_TRUE(lab_ && pods_.size() == kPods) << "lab setup failed: " << setup_error_;
  }

  // Loads the model plus `policies`, and every pod's ruleset for `options`.
  void load(const std::string& policies, const DataplaneOptions& options) {
    engine_.reset();
    auto cluster = test::load_yaml(model_yaml() + policies);
    ASSERT_TRUE(cluster) << cluster.error().message;
    cluster_ = std::make_unique<ClusterState>(std::move(*cluster));
    engine_ = std::make_unique<PolicyEngine>(*cluster_);
    const auto rulesets = compile_nft(*cluster_, options);
    ASSERT_EQ(rulesets.size(), kPods);
    for (std::size_t i = 0; i < kPods; ++i) {
      auto id = cluster_->find_pod(pod_string(i));
      ASSERT_TRUE(id);
      ids_[i] = *id;
      auto applied = apply_nft(pods_[i], rulesets.at(*id));
      ASSERT_TRUE(applied) << pod_string(i) << ": " << applied.error().message << "\n" << rulesets.at(*id);
    }
  }

  bool engine_allows(std::size_t from, std::size_t to, int family, PortProto port) const {
    Endpoint src = Endpoint::of_pod(ids_[from]), dst = Endpoint::of_pod(ids_[to]);
    src.ip = address(from, family);
    dst.ip = address(to, family);
    return engine_->allowed(Flow{src, dst, port});
  }

  // Connects every pair for which `which` holds, all at once; returns who connected. A probe
  // that did not connect must have timed out: the dataplane drops, it never rejects.
  static Reachability probe_tcp(const Predicate& which, int family, milliseconds timeout) {
    std::vector<std::pair<std::size_t, std::future<Result<ConnectResult>>>> running;
    for (std::size_t f = 0; f < kPods; ++f) {
      for (std::size_t t = 0; t < kPods; ++t) {
        if (!which(f, t)) continue;
        running.emplace_back(f * kPods + t, std::async(std::launch::async, [=] {
                               return tcp_connect(pods_[f], address(t, family), 80, timeout);
                             }));
      }
    }
    Reachability out(false);
    for (auto& [cell, future] : running) {
      auto result = future.get();
      const std::size_t f = cell / kPods, t = cell % kPods;
      EXPECT_TRUE(result) << result.error().message;
      if (!result) continue;
      out.set(f, t, result->connected);
      if (!result->connected) {
        EXPECT_EQ(result->error, ETIMEDOUT) << pod_string(f) << " -> " << pod_string(t) << " IPv" << family << ": "
                                            << std::strerror(result->error);
      }
    }
    return out;
  }

  // Checks, for IPv4 and IPv6 on 80/TCP, that the kernel lets through exactly what the engine
  // allows, except for the pairs `differs` names (the modelled fault), where it does the opposite.
  void expect_reachability(const Predicate& differs = [](std::size_t, std::size_t) { return false; }) {
    for (int family : {4, 6}) {
      SCOPED_TRACE("IPv" + std::to_string(family));
      Reachability expected(false), engine(false);
      for (std::size_t f = 0; f < kPods; ++f) {
        for (std::size_t t = 0; t < kPods; ++t) {
          engine.set(f, t, engine_allows(f, t, family, test::kTcp80));
          expected.set(f, t, engine.at(f, t) != differs(f, t));
        }
      }
      Reachability observed = probe_tcp([](std::size_t, std::size_t) { return true; }, family, kProbeTimeout);
      // A disagreement gets a second, slower look, so a loaded machine cannot fake one; a
      // dataplane verdict is deterministic and survives it.
      const Reachability again = probe_tcp(
          [&](std::size_t f, std::size_t t) { return observed.at(f, t) != expected.at(f, t); }, family, kRetryTimeout);
      std::string wrong;
      for (std::size_t f = 0; f < kPods; ++f) {
        for (std::size_t t = 0; t < kPods; ++t) {
          if (observed.at(f, t) == expected.at(f, t)) continue;
          observed.set(f, t, again.at(f, t));
          if (observed.at(f, t) == expected.at(f, t)) continue;
          wrong += "  " + pod_string(f) + " -> " + pod_string(t) + ": engine " + (engine.at(f, t) ? "allows" : "denies") +
                   ", expected " + (expected.at(f, t) ? "connected" : "dropped") + ", kernel " +
                   (observed.at(f, t) ? "connected" : "dropped") + "\n";
        }
      }
      EXPECT_TRUE(wrong.empty()) << "engine:\n" << engine.grid() << "expected:\n" << expected.grid() << "observed:\n"
                                 << observed.grid() << wrong;
    }
  }

  static inline std::optional<NetnsLab> lab_;
  static inline std::vector<LabPod> pods_;  // index: model index (x/a = 0 ... z/c = 8)
  static inline std::vector<TcpListener> listeners_;
  static inline std::string setup_error_;

  std::unique_ptr<ClusterState> cluster_;  // the engine refers to it: declared first, freed last
  std::unique_ptr<PolicyEngine> engine_;
  std::array<PodId, kPods> ids_{};
};

// ---- enforcing: the kernel agrees with the engine -----------------------------------------------

TEST_F(NftDataplaneLab, EnforcingDefaultDenyIngress) {
  load(netpol("x", "deny", "{podSelector: {}}"), mode(Dataplane::kEnforcing));
  expect_reachability();
}

TEST_F(NftDataplaneLab, EnforcingAllowFromNamespaceY) {
  load(netpol("x", "deny", "{podSelector: {}}") +
           netpol("x", "from-y", "{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}]}]}") +
           netpol("z", "from-b", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}]}]}"),
       mode(Dataplane::kEnforcing));
  expect_reachability();
}

TEST_F(NftDataplaneLab, EnforcingNamedPorts) {
  load(netpol("x", "serve-80", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}], ports: [{port: serve-80-tcp}]}]}") +
           netpol("y", "serve-81", "{podSelector: {matchLabels: {pod: a}}, ingress: [{ports: [{port: serve-81-tcp}, {port: serve-80-udp, protocol: UDP}]}]}") +
           netpol("z", "egress-80-to-x", "{podSelector: {}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {matchLabels: {ns: x}}}], ports: [{port: serve-80-tcp}]}, {to: [{podSelector: {matchLabels: {pod: c}}}], ports: [{port: serve-81-tcp}]}]}"),
       mode(Dataplane::kEnforcing));
  expect_reachability();
}

TEST_F(NftDataplaneLab, EnforcingIpBlockExcept) {
  load(netpol("y", "but-z", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.213.0.0/16, except: [10.213.3.0/24]}}, {ipBlock: {cidr: \"fd00:213::/64\", except: [\"fd00:213::3:0/112\"]}}]}]}") +
           netpol("x", "only-z-c", "{podSelector: {matchLabels: {pod: a}}, ingress: [{from: [{ipBlock: {cidr: 10.213.3.3/32}}, {ipBlock: {cidr: \"fd00:213::3:3/128\"}}], ports: [{port: 80, endPort: 90}]}]}"),
       mode(Dataplane::kEnforcing));
  expect_reachability();
}

TEST_F(NftDataplaneLab, EnforcingEgressDeny) {
  load(netpol("x", "a-no-egress", "{podSelector: {matchLabels: {pod: a}}, policyTypes: [Egress]}") +
           netpol("y", "egress-to-z", "{podSelector: {}, egress: [{to: [{namespaceSelector: {matchLabels: {ns: z}}}]}]}") +
           netpol("z", "deny-in", "{podSelector: {matchLabels: {pod: c}}}"),
       mode(Dataplane::kEnforcing));
  expect_reachability();
}

// With cold neighbour caches an isolated pod must still answer and send neighbour solicitations,
// or no IPv6 connection starts at all (the suite's warm-up would hide a missing ND accept).
TEST_F(NftDataplaneLab, EnforcingWithColdNeighbourCaches) {
  load(netpol("x", "within-x", "{podSelector: {}, policyTypes: [Ingress, Egress], ingress: [{from: [{podSelector: {}}]}], egress: [{to: [{podSelector: {}}]}]}"),
       mode(Dataplane::kEnforcing));
  for (const auto& pod : pods_) {
    auto flushed = run_checked({"ip", "-n", pod.netns, "neigh", "flush", "all"});
    ASSERT_TRUE(flushed) << flushed.error().message;
  }
  expect_reachability();
}

// ---- fault modes: exactly the predicted flows differ ---------------------------------------------

TEST_F(NftDataplaneLab, IngressOnlyLetsDeniedEgressThrough) {
  load(netpol("z", "no-egress", "{podSelector: {}, policyTypes: [Egress]}") +
           netpol("x", "a-no-ingress", "{podSelector: {matchLabels: {pod: a}}}"),
       mode(Dataplane::kIngressOnly));
  // Every flow z denies by egress alone now passes; x/a's ingress still holds.
  expect_reachability([](std::size_t f, std::size_t t) { return f != t && in_ns(f, 'z') && t != idx("x/a"); });
}

TEST_F(NftDataplaneLab, IgnoreNamedPortsAllowsAndDeniesByPortNames) {
  load(netpol("x", "a-81", "{podSelector: {matchLabels: {pod: a}}, ingress: [{ports: [{port: serve-81-tcp}]}]}") +
           netpol("y", "b-out-81", "{podSelector: {matchLabels: {pod: b}}, policyTypes: [Egress], egress: [{ports: [{port: serve-81-tcp}]}]}") +
           netpol("z", "c-80-81", "{podSelector: {matchLabels: {pod: c}}, ingress: [{ports: [{port: serve-80-tcp}, {port: 81}]}]}"),
       mode(Dataplane::kIgnoreNamedPorts));
  // x/a's rule and y/b's egress rule lose their only entry and allow every port; z/c's rule keeps
  // only 81, so 80 to z/c is dropped although the policy allows it (an unexpected drop), except
  // from y/b, whose egress the engine already denies.
  const std::size_t xa = idx("x/a"), yb = idx("y/b"), zc = idx("z/c");
  expect_reachability([=](std::size_t f, std::size_t t) {
    return f != t && (t == xa || (f == yb && t != zc) || (t == zc && f != yb));
  });
}

TEST_F(NftDataplaneLab, IgnoreExceptAdmitsTheExceptedRange) {
  load(netpol("y", "but-z", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.213.0.0/16, except: [10.213.3.0/24]}}, {ipBlock: {cidr: \"fd00:213::/64\", except: [\"fd00:213::3:0/112\"]}}]}]}"),
       mode(Dataplane::kIgnoreExcept));
  expect_reachability([](std::size_t f, std::size_t t) { return in_ns(f, 'z') && in_ns(t, 'y'); });
}

TEST_F(NftDataplaneLab, TcpOnlyLetsUdpThrough) {
  load(netpol("x", "deny", "{podSelector: {}}"), mode(Dataplane::kTcpOnly));
  expect_reachability();  // TCP is filtered as before

  // UDP: pod f sends to port kUdpBase + f of every pod, so each receiver counts one source.
  std::vector<UdpReceiver> receivers;  // index f * kPods + t
  for (std::size_t f = 0; f < kPods; ++f) {
    for (std::size_t t = 0; t < kPods; ++t) {
      auto r = udp_listen(pods_[t], static_cast<std::uint16_t>(kUdpBase + f));
      ASSERT_TRUE(r) << r.error().message;
      receivers.push_back(std::move(*r));
    }
  }
  for (std::size_t f = 0; f < kPods; ++f) {
    for (std::size_t t = 0; t < kPods; ++t) {
      auto sent = udp_send(pods_[f], address(t, 4), static_cast<std::uint16_t>(kUdpBase + f), 2);
      ASSERT_TRUE(sent) << sent.error().message;
    }
  }
  std::string wrong;
  for (std::size_t f = 0; f < kPods; ++f) {
    for (std::size_t t = 0; t < kPods; ++t) {
      const PortProto port{static_cast<std::uint16_t>(kUdpBase + f), Protocol::kUDP};
      const bool differs = f != t && in_ns(t, 'x');  // the engine denies these, the fault passes them
      const bool expected = engine_allows(f, t, 4, port) != differs;
      EXPECT_TRUE(expected);  // tcp-only filters no UDP at all
      auto& r = receivers[f * kPods + t];
      const bool delivered = r.wait_received(1, expected ? kRetryTimeout : milliseconds(0));
      if (delivered != expected) wrong += "  " + pod_string(f) + " -> " + pod_string(t) + "\n";
    }
  }
  EXPECT_TRUE(wrong.empty()) << "UDP delivery differs from the prediction:\n" << wrong;
}

TEST_F(NftDataplaneLab, StaleEnforcesOnlyPoliciesSyncedBeforeTheCutoff) {
  load(netpol("x", "old", "{podSelector: {}}", "2026-01-01T00:00:00Z") +
           netpol("y", "new", "{podSelector: {}}", "2026-06-01T00:00:00Z") +
           netpol("z", "undated", "{podSelector: {matchLabels: {pod: c}}, policyTypes: [Egress]}"),
       mode(Dataplane::kStale, "2026-03-01T00:00:00Z"));
  const std::size_t zc = idx("z/c");
  expect_reachability([=](std::size_t f, std::size_t t) {
    return f != t && !in_ns(t, 'x') && (in_ns(t, 'y') || f == zc);
  });
}

// ---- nft accepts whatever compile_nft writes ----------------------------------------------------

// `nft --check` of every pod's ruleset, inside a lab pod's namespace (nothing is committed).
void expect_nft_accepts(const LabPod& where, const ClusterState& cluster, const DataplaneOptions& options,
                        const std::string& what) {
  const auto rulesets = compile_nft(cluster, options);
  std::string all;
  for (const auto& [id, text] : rulesets) all += text;
  auto check = [&](const std::string& text) {
    return run_in(where, [&] { return run_command({"nft", "-c", "-f", "-"}, text); });
  };
  auto out = check(all);
  ASSERT_TRUE(out) << out.error().message;
  if (out->exit_status == 0) return;
  // Name the first pod whose ruleset nft rejects.
  for (const auto& [id, text] : rulesets) {
    auto one = check(text);
    ASSERT_TRUE(one) << one.error().message;
    ASSERT_EQ(one->exit_status, 0) << what << " " << to_string(options.mode) << ", pod " << cluster.pods[id].ref()
                                   << ":\n" << one->err << text;
  }
  FAIL() << what << " " << to_string(options.mode) << ": nft rejects the rulesets together:\n" << out->err;
}

TEST_F(NftDataplaneLab, NftAcceptsEveryGeneratedRuleset) {
  std::vector<std::pair<std::string, ClusterState>> clusters;
  auto example = load_cluster({std::string(NPV_SOURCE_DIR) + "/examples/three-tier"});
  ASSERT_TRUE(example) << example.error().message;
  clusters.emplace_back("three-tier", std::move(*example));
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    test::RandomClusterSpec spec;
    spec.seed = seed;
    spec.pods = 30;
    spec.policies = 20;
    clusters.emplace_back("random seed " + std::to_string(seed), test::random_cluster(spec));
  }
  for (const auto& [name, cluster] : clusters) {
    for (auto d : {Dataplane::kEnforcing, Dataplane::kIngressOnly, Dataplane::kIgnoreNamedPorts, Dataplane::kIgnoreExcept,
                   Dataplane::kTcpOnly, Dataplane::kStale}) {
      expect_nft_accepts(pods_[0], cluster, mode(d, "2026-03-01T00:00:00Z"), name);
    }
  }
}

}  // namespace
}  // namespace npv
