// run_lab on the e2e model with the cluster-wide tiers of examples/e2e-model-tiers: an Admin-tier
// Deny across namespaces over a NetworkPolicy that allows the same flow, an Admin Pass handed to
// the Baseline tier, a v1alpha2 ClusterNetworkPolicy networks Deny, a baseline Allow and Deny.
// `enforcing` (the tiers compiled to nftables, lab/nft_tiers.hpp) must agree with the engine on
// every flow; `ignore-admin-deny` must leak exactly the flows an Admin-tier Deny decides and
// nothing else decides the same way, each reported as silent non-enforcement. Needs root and eBPF.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "npv/lab_runner.hpp"
#include "npv/loader.hpp"
#include "npv/netns_lab.hpp"
#include "npv/policy_engine.hpp"
#include "privileged/support/privileges.hpp"

namespace npv {
namespace {

constexpr char kPrefix[] = "npvlt";

using FlowId = std::tuple<std::string, std::string, std::string>;
using Findings = std::map<FlowId, FindingKind>;

std::string describe(const Findings& f) {
  std::string out;
  for (const auto& [flow, kind] : f) {
    out += "  " + std::get<0>(flow) + " -> " + std::get<1>(flow) + " " + std::get<2>(flow) + ": " + to_string(kind) + "\n";
  }
  return out.empty() ? "  (none)\n" : out;
}

class LabTiersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NPV_REQUIRE_PRIVILEGES();
    ASSERT_TRUE(NetnsLab::cleanup_stale(kPrefix));
    auto cluster = load_cluster({NPV_SOURCE_DIR "/examples/e2e-model", NPV_SOURCE_DIR "/examples/e2e-model-tiers"});
    ASSERT_TRUE(cluster) << cluster.error().message;
    cluster_.emplace(std::move(*cluster));
    ASSERT_EQ(cluster_->tier_policies.size(), 4u);
    engine_.emplace(*cluster_);
  }

  FlowId id(const Flow& f) const {
    return {cluster_->pods[*f.src.pod].ref(), cluster_->pods[*f.dst.pod].ref(), f.port.to_string()};
  }

  Findings run(Dataplane mode) {
    LabRunOptions o;
    o.dataplane.mode = mode;
    o.prefix = kPrefix;
    o.probe_timeout = std::chrono::milliseconds(300);
    o.parallel = 32;
    std::atomic<bool> interrupted{false};
    auto report = run_lab(*cluster_, o, interrupted);
    EXPECT_TRUE(report) << report.error().message;
    Findings found;
    if (!report) return found;
    EXPECT_EQ(report->summary.probes, 9u * 8u * 4u);
    for (const auto& r : report->probes) {
      EXPECT_TRUE(r.observed) << std::get<0>(id(r.flow)) << " -> " << std::get<1>(id(r.flow));
      for (FindingKind k : r.findings) found.emplace(id(r.flow), k);
    }
    return found;
  }

  // Probe-flow verdict of the engine on `cluster` (the real one, or a faulty copy).
  bool allowed(const PolicyEngine& engine, const std::string& from, const std::string& to, const std::string& port) const {
    const PodId s = *cluster_->find_pod(from), d = *cluster_->find_pod(to);
    return engine.allowed(Flow{Endpoint{s, cluster_->pods[s].ips.at(0)}, Endpoint{d, cluster_->pods[d].ips.at(0)},
                               *PortProto::parse(port)});
  }

  std::optional<ClusterState> cluster_;
  std::optional<PolicyEngine> engine_;
};

TEST_F(LabTiersTest, EnforcingDataplaneImplementsTheTiers) {
  // The scenario as the API defines it, checked on the engine first.
  EXPECT_FALSE(allowed(*engine_, "y/a", "x/b", "80/TCP"));  // admin Deny over the NetworkPolicy allow
  EXPECT_FALSE(allowed(*engine_, "y/a", "x/b", "81/TCP"));  // x default-deny (81 not named)
  EXPECT_TRUE(allowed(*engine_, "x/a", "z/b", "80/TCP"));   // Pass, then baseline Allow
  EXPECT_FALSE(allowed(*engine_, "y/a", "z/b", "80/TCP"));  // baseline Deny
  EXPECT_FALSE(allowed(*engine_, "z/a", "z/b", "81/TCP"));  // ClusterNetworkPolicy networks Deny
  EXPECT_TRUE(allowed(*engine_, "z/a", "z/b", "80/TCP"));
  const Findings got = run(Dataplane::kEnforcing);
  EXPECT_TRUE(got.empty()) << describe(got);
}

TEST_F(LabTiersTest, IgnoreAdminDenyIsSilentNonEnforcementOfTheAdminDenies) {
  ClusterState faulty = *cluster_;
  for (auto& p : faulty.tier_policies) {
    if (p.tier != TierKind::kAdmin) continue;
    for (auto* rules : {&p.ingress, &p.egress}) {
      std::erase_if(*rules, [](const TierRule& r) { return r.action == TierAction::kDeny; });
    }
  }
  const PolicyEngine faulty_engine(faulty);
  Findings want;
  for (PodId s = 0; s < cluster_->pods.size(); ++s) {
    for (PodId d = 0; d < cluster_->pods.size(); ++d) {
      if (s == d) continue;
      for (const auto& cp : cluster_->pods[d].ports) {
        const std::string port = PortProto{cp.port, cp.proto}.to_string();
        const auto& from = cluster_->pods[s].ref();
        const auto& to = cluster_->pods[d].ref();
        const bool policy = allowed(*engine_, from, to, port), network = allowed(faulty_engine, from, to, port);
        if (!policy && network) want.emplace(FlowId{from, to, port}, FindingKind::kSilentNonEnforcement);
        if (policy && !network) want.emplace(FlowId{from, to, port}, FindingKind::kUnexpectedDrop);
      }
    }
  }
  // Both Admin-tier Denies of the example leak: y -> x on TCP 80 and z -> z/b on TCP 81.
  EXPECT_TRUE(want.contains({"y/a", "x/b", "80/TCP"}));
  EXPECT_TRUE(want.contains({"z/a", "z/b", "81/TCP"}));
  for (const auto& [flow, kind] : want) EXPECT_EQ(kind, FindingKind::kSilentNonEnforcement);
  const Findings got = run(Dataplane::kIgnoreAdminDeny);
  EXPECT_EQ(got, want) << "found:\n" << describe(got) << "expected:\n" << describe(want);
}

}  // namespace
}  // namespace npv
