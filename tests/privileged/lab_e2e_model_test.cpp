// run_lab on the upstream e2e model (examples/e2e-model: x, y, z x a, b, c, ports 80/81 TCP/UDP,
// policies with a named port, an ipBlock except and an endPort range): for every dataplane mode
// tested, the findings are exactly the flows the mode's definition (nft_dataplane.hpp) lets
// through or drops against policy, computed here independently of the lab, either from the
// PolicyEngine directly or from a PolicyEngine on a copy of the cluster with the fault applied.
// Needs root and eBPF (NPV_REQUIRE_PRIVILEGES).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "npv/lab_runner.hpp"
#include "npv/loader.hpp"
#include "npv/netns_lab.hpp"
#include "npv/policy_engine.hpp"
#include "privileged/support/privileges.hpp"

namespace npv {
namespace {

constexpr char kPrefix[] = "npvle";
const std::string kExample = NPV_SOURCE_DIR "/examples/e2e-model";

// A probed flow by name: source pod, destination pod, "PORT/PROTO".
using FlowId = std::tuple<std::string, std::string, std::string>;
using Findings = std::map<FlowId, FindingKind>;

std::size_t namespaces_with(const std::string& prefix) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
    if (entry.path().filename().string().starts_with(prefix)) ++n;
  }
  return n;
}

std::string describe(const Findings& f) {
  std::string out;
  for (const auto& [flow, kind] : f) {
    out += "  " + std::get<0>(flow) + " -> " + std::get<1>(flow) + " " + std::get<2>(flow) + ": " +
           to_string(kind) + "\n";
  }
  return out.empty() ? "  (none)\n" : out;
}

class LabE2eModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NPV_REQUIRE_PRIVILEGES();
    ASSERT_TRUE(NetnsLab::cleanup_stale(kPrefix));
    auto cluster = load_cluster({kExample});
    ASSERT_TRUE(cluster) << cluster.error().message;
    cluster_.emplace(std::move(*cluster));
    ASSERT_EQ(cluster_->pods.size(), 9u);
    engine_.emplace(*cluster_);
  }

  void TearDown() override {
    if (cluster_) {
      EXPECT_EQ(namespaces_with(kPrefix), 0u) << "a lab left network namespaces behind";
    }
  }

  LabReport run(Dataplane mode) {
    LabRunOptions o;
    o.dataplane.mode = mode;
    o.prefix = kPrefix;
    o.probe_timeout = std::chrono::milliseconds(300);
    o.parallel = 32;
    std::atomic<bool> interrupted{false};
    auto report = run_lab(*cluster_, o, interrupted);
    EXPECT_TRUE(report) << report.error().message;
    if (!report) return {};
    EXPECT_EQ(report->summary.dataplane, to_string(mode));
    return std::move(*report);
  }

  FlowId id(const Flow& f) const {
    return {cluster_->pods[*f.src.pod].ref(), cluster_->pods[*f.dst.pod].ref(), f.port.to_string()};
  }

  // Every ordered pair of distinct pods x every container port of the destination (all TCP or
  // UDP here): the flows a lab must probe.
  std::vector<Flow> probe_flows() const {
    std::vector<Flow> out;
    for (PodId s = 0; s < cluster_->pods.size(); ++s) {
      for (PodId d = 0; d < cluster_->pods.size(); ++d) {
        if (s == d) continue;
        for (const auto& cp : cluster_->pods[d].ports) {
          out.push_back(Flow{Endpoint{s, cluster_->pods[s].ips.at(0)}, Endpoint{d, cluster_->pods[d].ips.at(0)},
                             PortProto{cp.port, cp.proto}});
        }
      }
    }
    return out;
  }

  // The findings a dataplane that allows exactly what `allows` says must produce: a flow the
  // engine denies but the dataplane allows is silent non-enforcement, the reverse an unexpected drop.
  Findings expected(const std::function<bool(const Flow&)>& allows) const {
    Findings out;
    for (const Flow& f : probe_flows()) {
      const bool policy = engine_->explain(f).allowed();
      const bool network = allows(f);
      if (policy && !network) out.emplace(id(f), FindingKind::kUnexpectedDrop);
      if (!policy && network) out.emplace(id(f), FindingKind::kSilentNonEnforcement);
    }
    return out;
  }

  // A dataplane that enforces `modified` faithfully.
  Findings expected(const ClusterState& modified) const {
    PolicyEngine faulty(modified);
    return expected([&](const Flow& f) { return faulty.explain(f).allowed(); });
  }

  // The report probed exactly probe_flows(), each once and observed; returns its findings.
  Findings findings(const LabReport& report) const {
    std::vector<FlowId> probed;
    Findings found;
    for (const auto& r : report.probes) {
      probed.push_back(id(r.flow));
      EXPECT_TRUE(r.observed) << "no observed flow for " << std::get<0>(id(r.flow)) << " -> "
                              << std::get<1>(id(r.flow)) << " " << std::get<2>(id(r.flow));
      EXPECT_LE(r.findings.size(), 1u);
      for (FindingKind k : r.findings) found.emplace(id(r.flow), k);
    }
    std::vector<FlowId> want;
    for (const Flow& f : probe_flows()) want.push_back(id(f));
    std::ranges::sort(probed);
    std::ranges::sort(want);
    EXPECT_EQ(probed, want) << "each flow is probed exactly once";
    return found;
  }

  void expect_findings(Dataplane mode, const Findings& want) {
    const LabReport report = run(mode);
    const Findings got = findings(report);
    EXPECT_EQ(got, want) << "dataplane " << to_string(mode) << "\nfound:\n"
                         << describe(got) << "expected:\n"
                         << describe(want);
    EXPECT_EQ(report.summary.probes, probe_flows().size());
    EXPECT_EQ(report.summary.agree, report.summary.probes - want.size());
  }

  std::optional<ClusterState> cluster_;
  std::optional<PolicyEngine> engine_;
};

TEST_F(LabE2eModelTest, EnforcingDataplaneAgreesOnEveryFlow) {
  ASSERT_EQ(probe_flows().size(), 9u * 8u * 4u);
  expect_findings(Dataplane::kEnforcing, {});
}

TEST_F(LabE2eModelTest, NoDataplaneLeaksExactlyTheDeniedFlows) {
  const Findings want = expected([](const Flow&) { return true; });
  ASSERT_FALSE(want.empty());
  for (const auto& [flow, kind] : want) ASSERT_EQ(kind, FindingKind::kSilentNonEnforcement);
  expect_findings(Dataplane::kNone, want);
}

// The mode's definition: named entries are dropped from their rule; a rule left with no entries
// then allows every port.
TEST_F(LabE2eModelTest, IgnoreNamedPortsLeaksWhatTheNamedPortRestricts) {
  ClusterState modified = *cluster_;
  for (auto& policy : modified.policies) {
    for (auto* rules : {&policy.ingress, &policy.egress}) {
      for (auto& rule : *rules) {
        std::erase_if(rule.ports, [](const PolicyPort& p) { return p.kind == PolicyPort::Kind::kNamed; });
      }
    }
  }
  const Findings want = expected(modified);
  ASSERT_FALSE(want.empty()) << "the example has no named port that matters";
  expect_findings(Dataplane::kIgnoreNamedPorts, want);
}

// The mode's definition: ipBlock `except` is ignored, the whole cidr is allowed.
TEST_F(LabE2eModelTest, IgnoreExceptLeaksTheExceptedAddresses) {
  ClusterState modified = *cluster_;
  for (auto& policy : modified.policies) {
    for (auto* rules : {&policy.ingress, &policy.egress}) {
      for (auto& rule : *rules) {
        for (auto& peer : rule.peers) {
          if (peer.ip_block) peer.ip_block->except.clear();
        }
      }
    }
  }
  const Findings want = expected(modified);
  ASSERT_FALSE(want.empty()) << "the example has no except that matters";
  expect_findings(Dataplane::kIgnoreExcept, want);
}

// The mode's definition: TCP is filtered faithfully, UDP passes unfiltered.
TEST_F(LabE2eModelTest, TcpOnlyLeaksExactlyTheDeniedUdpFlows) {
  const Findings want = expected([&](const Flow& f) {
    return f.port.proto == Protocol::kUDP || engine_->explain(f).allowed();
  });
  ASSERT_FALSE(want.empty());
  expect_findings(Dataplane::kTcpOnly, want);
}

}  // namespace
}  // namespace npv
