// run_lab and `npv lab` end to end on the three-tier example: each dataplane reports exactly the
// flows it lets through against policy (computed here from the PolicyEngine, independently of the
// lab), and no run, finished or interrupted, leaves a network namespace behind.
// Needs root and eBPF (NPV_REQUIRE_PRIVILEGES).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <tuple>

#include "npv/lab_runner.hpp"
#include "npv/loader.hpp"
#include "npv/netns_lab.hpp"
#include "npv/policy_engine.hpp"
#include "privileged/support/privileges.hpp"

namespace npv {
namespace {

using std::chrono::milliseconds;

constexpr char kPrefix[] = "npvlt";          // run_lab in this file
constexpr char kCliPrefix[] = "npvlab";      // the npv binary's default
const std::string kExample = NPV_SOURCE_DIR "/examples/three-tier";

// A probed flow by name: source pod, destination pod, "PORT/PROTO".
using FlowId = std::tuple<std::string, std::string, std::string>;

// Network namespaces whose name starts with `prefix` (the entries `ip netns list` shows).
std::size_t namespaces_with(const std::string& prefix) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
    if (entry.path().filename().string().starts_with(prefix)) ++n;
  }
  return n;
}

// What the host's own network namespace has: its links and nftables tables. A lab never adds any.
std::string host_state() {
  std::string state;
  for (const std::vector<std::string>& argv : {std::vector<std::string>{"ip", "-o", "link", "show"},
                                               std::vector<std::string>{"nft", "list", "tables"}}) {
    auto out = run_checked(argv);
    EXPECT_TRUE(out) << out.error().message;
    if (!out) continue;
    for (std::size_t pos = 0; pos < out->size();) {  // link lines without their changing counters
      std::size_t end = out->find('\n', pos);
      if (end == std::string::npos) end = out->size();
      std::string line = out->substr(pos, end - pos);
      state += line.substr(0, line.find(" state ")) + "\n";
      pos = end + 1;
    }
  }
  return state;
}

class LabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NPV_REQUIRE_PRIVILEGES();
    host_before_ = host_state();
    ASSERT_TRUE(NetnsLab::cleanup_stale(kPrefix));
    auto cluster = load_cluster({kExample});
    ASSERT_TRUE(cluster) << cluster.error().message;
    cluster_.emplace(std::move(*cluster));
    engine_.emplace(*cluster_);
  }

  void TearDown() override {
    if (cluster_) {
      EXPECT_EQ(namespaces_with(kPrefix), 0u) << "a lab left network namespaces behind";
      EXPECT_EQ(host_state(), host_before_) << "the host's links or nftables tables changed";
    }
  }

  static LabRunOptions options(Dataplane mode) {
    LabRunOptions o;
    o.dataplane.mode = mode;
    o.prefix = kPrefix;
    o.probe_timeout = milliseconds(300);
    return o;
  }

  LabReport run(Dataplane mode) {
    std::atomic<bool> interrupted{false};
    auto report = run_lab(*cluster_, options(mode), interrupted);
    EXPECT_TRUE(report) << report.error().message;
    return report ? std::move(*report) : LabReport{};
  }

  FlowId id(const Flow& f) const {
    return {cluster_->pods[*f.src.pod].ref(), cluster_->pods[*f.dst.pod].ref(), f.port.to_string()};
  }

  // Every ordered pair of distinct pods x every TCP/UDP container port of the destination, with
  // the engine's explanation: the flows a lab must probe.
  std::map<FlowId, Explanation> expected_probes() const {
    std::map<FlowId, Explanation> out;
    for (PodId s = 0; s < cluster_->pods.size(); ++s) {
      for (PodId d = 0; d < cluster_->pods.size(); ++d) {
        if (s == d) continue;
        for (const auto& cp : cluster_->pods[d].ports) {
          Flow f{Endpoint{s, cluster_->pods[s].ips.at(0)}, Endpoint{d, cluster_->pods[d].ips.at(0)},
                 PortProto{cp.port, cp.proto}};
          out.emplace(id(f), engine_->explain(f));
        }
      }
    }
    return out;
  }

  // The report probed exactly expected_probes(), and its findings are all of `kind`; returns
  // the flows that have a finding.
  std::set<FlowId> findings(const LabReport& report, FindingKind kind) const {
    std::set<FlowId> probed, found;
    for (const auto& r : report.probes) {
      probed.insert(id(r.flow));
      EXPECT_TRUE(r.observed) << "no observed flow for " << std::get<0>(id(r.flow)) << " -> "
                              << std::get<1>(id(r.flow)) << " " << std::get<2>(id(r.flow));
      for (FindingKind k : r.findings) {
        EXPECT_EQ(k, kind) << to_string(k) << ": " << std::get<0>(id(r.flow)) << " -> " << std::get<1>(id(r.flow))
                           << " " << std::get<2>(id(r.flow));
        found.insert(id(r.flow));
      }
    }
    std::set<FlowId> want;
    for (const auto& [flow, why] : expected_probes()) want.insert(flow);
    EXPECT_EQ(probed, want);
    EXPECT_EQ(report.probes.size(), want.size()) << "each flow is probed once";
    return found;
  }

  std::string host_before_;
  std::optional<ClusterState> cluster_;
  std::optional<PolicyEngine> engine_;
};

TEST_F(LabTest, EnforcingDataplaneAgreesOnEveryFlow) {
  LabReport report = run(Dataplane::kEnforcing);
  EXPECT_TRUE(findings(report, FindingKind::kSilentNonEnforcement).empty());
  EXPECT_EQ(report.summary.dataplane, "enforcing");
  EXPECT_EQ(report.summary.agree, report.summary.probes);
  EXPECT_GT(report.summary.setup.count(), 0);
  EXPECT_GT(report.summary.probing.count(), 0);
  std::size_t denied = 0;
  for (const auto& r : report.probes) {
    if (r.expected_allowed || !r.observed) continue;
    ++denied;
    EXPECT_EQ(r.observed->drop_reason, "NETFILTER_DROP") << "enforced denials are netfilter drops";
  }
  EXPECT_GT(denied, 0u);
}

TEST_F(LabTest, NoDataplaneLeaksExactlyTheDeniedFlows) {
  std::set<FlowId> want;
  for (const auto& [flow, why] : expected_probes()) {
    if (!why.allowed()) want.insert(flow);
  }
  ASSERT_FALSE(want.empty());
  LabReport report = run(Dataplane::kNone);
  EXPECT_EQ(findings(report, FindingKind::kSilentNonEnforcement), want);
  EXPECT_EQ(report.summary.silent_non_enforcement, want.size());
}

TEST_F(LabTest, IngressOnlyDataplaneLeaksExactlyTheFlowsOnlyEgressDenies) {
  std::set<FlowId> want;
  for (const auto& [flow, why] : expected_probes()) {
    if (!why.egress.allowed() && why.ingress.allowed()) want.insert(flow);
  }
  ASSERT_FALSE(want.empty());
  LabReport report = run(Dataplane::kIngressOnly);
  EXPECT_EQ(findings(report, FindingKind::kSilentNonEnforcement), want);
}

// The flag is set from another thread once `namespaces` of the lab's namespaces exist, then
// after `delay`: during pod setup, and (7 = node + 6 pods) while listeners, rulesets or probes run.
TEST_F(LabTest, InterruptedRunTearsEverythingDown) {
  for (auto [namespaces, delay] : {std::pair{1u, 0}, std::pair{4u, 0}, std::pair{7u, 100}, std::pair{7u, 300}}) {
    SCOPED_TRACE("interrupted after " + std::to_string(namespaces) + " namespaces + " + std::to_string(delay) + " ms");
    std::atomic<bool> interrupted{false};
    std::atomic<bool> saw_lab{false};
    std::thread interrupter([&, namespaces, delay] {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (namespaces_with(kPrefix) < namespaces && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(1));
      }
      saw_lab = namespaces_with(kPrefix) > 0;
      std::this_thread::sleep_for(milliseconds(delay));
      interrupted = true;
    });
    auto report = run_lab(*cluster_, options(Dataplane::kEnforcing), interrupted);
    interrupter.join();
    EXPECT_TRUE(saw_lab) << "the interrupt came before setup started";
    ASSERT_FALSE(report) << "an interrupted run returns no report";
    EXPECT_EQ(report.error().message, "interrupted");
    EXPECT_EQ(namespaces_with(kPrefix), 0u);
  }
}

// `npv lab` as a user runs it: exit codes and the JSON summary.
struct CliRun {
  int code = -1;
  nlohmann::json json;
  std::string err;
};

CliRun npv_lab(const std::string& dataplane) {
  auto out = run_command({NPV_BINARY, "lab", "--cluster", kExample, "--dataplane", dataplane, "-o", "json"});
  EXPECT_TRUE(out) << out.error().message;
  if (!out) return {};
  CliRun r{out->exit_status, nlohmann::json::parse(out->out, nullptr, false), out->err};
  EXPECT_FALSE(r.json.is_discarded()) << "stdout is not JSON:\n" << out->out << "\nstderr:\n" << out->err;
  return r;
}

TEST_F(LabTest, CliExitsOneWithTheLeaksAsJsonWithoutEnforcement) {
  std::size_t denied = 0;
  for (const auto& [flow, why] : expected_probes()) denied += why.allowed() ? 0 : 1;
  CliRun r = npv_lab("none");
  EXPECT_EQ(r.code, 1) << r.err;
  ASSERT_TRUE(r.json.contains("summary")) << r.json.dump(2);
  const auto& s = r.json["summary"];
  EXPECT_EQ(s.value("probes", 0u), expected_probes().size());
  EXPECT_EQ(s.value("silent_non_enforcement", 0u), denied);
  EXPECT_EQ(s.value("unexpected_drop", 1u), 0u);
  EXPECT_EQ(s.value("observer_disagreement", 1u), 0u);
  EXPECT_EQ(r.json.value("dataplane", ""), "none");
  EXPECT_EQ(namespaces_with(kCliPrefix), 0u);
}

TEST_F(LabTest, CliExitsZeroWhenTheDataplaneEnforces) {
  CliRun r = npv_lab("enforcing");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.json["summary"].value("agree", 0u), expected_probes().size()) << r.json["summary"].dump();
  EXPECT_EQ(namespaces_with(kCliPrefix), 0u);
}

// Ctrl-C in the middle of a run: the lab is torn down, then npv dies of the signal.
TEST_F(LabTest, CliTearsDownOnSigint) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    execl(NPV_BINARY, NPV_BINARY, "lab", "--cluster", kExample.c_str(), "--dataplane", "enforcing",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (namespaces_with(kCliPrefix + std::string("-") + std::to_string(pid)) < 4 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  EXPECT_GT(namespaces_with(kCliPrefix), 0u) << "the lab never started";
  kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << "status " << status;
  EXPECT_EQ(namespaces_with(kCliPrefix), 0u);
}

}  // namespace
}  // namespace npv
