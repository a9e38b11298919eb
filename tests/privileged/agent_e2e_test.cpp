// npv agent end to end: pods in network namespaces on a bridge, their Pod and NetworkPolicy
// objects served by the test API server, the real `npv agent` binary with its real eBPF observer,
// reading the cluster through --kubeconfig. With no enforcement the policy-denied flows are
// findings (stdout, Events on the test server, metrics); with nftables enforcing them there are
// none; deleting the enforcement mid-run raises a drift alert. Nothing is judged before sync.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "npv/netns_lab.hpp"
#include "privileged/support/privileges.hpp"
#include "support/fake_api_server.hpp"
#include "support/kube_fixtures.hpp"
#include "support/loopback_http.hpp"

extern char** environ;

namespace npv {
namespace {

using test::free_port;
using test::http_get;

using namespace std::chrono_literals;
constexpr char kPrefix[] = "npvag";

// The value of one sample line of a Prometheus text, e.g. `npv_findings_total{kind="x"}`.
std::optional<double> metric(const std::string& text, const std::string& sample) {
  const auto at = text.find("\n" + sample + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + sample.size() + 2));
}

// `npv agent` as a child process; its stdout lines are collected on a thread.
class AgentProcess {
 public:
  AgentProcess(const std::vector<std::string>& args) {
    int pipe_fds[2];
    EXPECT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    std::vector<std::string> argv_s = {NPV_BINARY, "agent"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    EXPECT_EQ(::posix_spawn(&pid_, NPV_BINARY, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    reader_ = std::thread([this, fd = pipe_fds[0]] {
      std::string pending;
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        pending.append(buf, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          std::lock_guard lock(mu_);
          lines_.push_back(pending.substr(0, nl));
          pending.erase(0, nl + 1);
        }
      }
      ::close(fd);
    });
  }
  ~AgentProcess() { stop(); }

  // SIGTERM, then the exit status (the agent writes its open windows on the way out).
  int stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, &status_, 0);
      pid_ = -1;
      reader_.join();
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  }

  std::vector<nlohmann::json> lines() const {
    std::lock_guard lock(mu_);
    std::vector<nlohmann::json> out;
    for (const auto& l : lines_) out.push_back(nlohmann::json::parse(l, nullptr, false));
    return out;
  }
  // JSON lines of `type` ("finding" / "drift") and `kind`.
  std::vector<nlohmann::json> find(const std::string& type, const std::string& kind) const {
    std::vector<nlohmann::json> out;
    for (const auto& j : lines()) {
      if (j.is_object() && j.value("type", "") == type && j.value("kind", "") == kind) out.push_back(j);
    }
    return out;
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  std::thread reader_;
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

class AgentE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    NPV_REQUIRE_PRIVILEGES();
    ASSERT_TRUE(NetnsLab::cleanup_stale(kPrefix));
    auto lab = NetnsLab::create(kPrefix);
    ASSERT_TRUE(lab) << lab.error().message;
    lab_.emplace(std::move(*lab));
    auto web = lab_->add_pod("prod/web", *IpAddr::parse("10.213.70.11"));
    auto db = lab_->add_pod("prod/db", *IpAddr::parse("10.213.70.12"));
    auto x = lab_->add_pod("other/x", *IpAddr::parse("10.213.70.13"));
    ASSERT_TRUE(web && db && x);
    web_ = *web;
    db_ = *db;
    x_ = *x;
    auto listener = tcp_listen(db_, 5432);
    ASSERT_TRUE(listener) << listener.error().message;
    listener_.emplace(std::move(*listener));

    // The API server's view of the same pods, and db-in: prod/db accepts 5432 from prod/web only.
    api_.apply("namespaces", test::namespace_object("prod"));
    api_.apply("namespaces", test::namespace_object("other"));
    api_.apply("pods", test::pod_object("prod", "web", {{"app", "web"}}, "10.213.70.11"));
    api_.apply("pods", test::pod_object("prod", "db", {{"app", "db"}}, "10.213.70.12", "Running", 5432));
    api_.apply("pods", test::pod_object("other", "x", {{"app", "x"}}, "10.213.70.13"));
    api_.apply("networkpolicies", test::policy_object("prod", "db-in", nlohmann::json::parse(R"({
      "podSelector": {"matchLabels": {"app": "db"}},
      "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 5432}]}]})")));

    kubeconfig_ = std::filesystem::temp_directory_path() / ("npv-e2e-kubeconfig-" + std::to_string(::getpid()));
    std::ofstream(kubeconfig_) << "apiVersion: v1\nkind: Config\n"
                               << "clusters: [{name: fake, cluster: {server: \"" << api_.url() << "\"}}]\n"
                               << "users: [{name: tester, user: {token: e2e}}]\n"
                               << "contexts: [{name: e2e, context: {cluster: fake, user: tester}}]\n"
                               << "current-context: e2e\n";
    port_ = free_port();
  }
  void TearDown() override {
    agent_.reset();
    if (!kubeconfig_.empty()) std::filesystem::remove(kubeconfig_);
  }

  void start_agent() {
    agent_.emplace(std::vector<std::string>{"--kubeconfig", kubeconfig_.string(), "--node-name", "lab-node",
                                            "--listen", "127.0.0.1:" + std::to_string(port_), "--window", "2s",
                                            "--grace", "1s"});
  }
  bool ready(std::chrono::milliseconds timeout = 20s) {
    return test::wait_until([&] { return http_get(port_, "/readyz").first == 200; }, timeout);
  }
  std::string metrics() { return http_get(port_, "/metrics").second; }

  // A TCP connection from `from` to prod/db:5432; true when it connected.
  bool connect_db(const LabPod& from) {
    auto r = tcp_connect(from, db_.v4, 5432, 500ms);
    EXPECT_TRUE(r) << r.error().message;
    return r && r->connected;
  }
  void enforce() {
    // What an enforcing CNI does for db-in: only prod/web reaches 5432.
    ASSERT_TRUE(apply_nft(db_, "table inet npv_e2e { chain in { type filter hook input priority 0; "
                               "tcp dport 5432 ip saddr != 10.213.70.11 drop; }; }"));
  }
  void stop_enforcing() { ASSERT_TRUE(apply_nft(db_, "delete table inet npv_e2e")); }

  std::vector<nlohmann::json> events_with(const std::string& reason) const {
    std::vector<nlohmann::json> out;
    for (const auto& e : api_.events()) {
      if (e.value("reason", "") == reason) out.push_back(e);
    }
    return out;
  }

  std::optional<NetnsLab> lab_;
  LabPod web_, db_, x_;
  std::optional<TcpListener> listener_;
  test::FakeApiServer api_;
  std::filesystem::path kubeconfig_;
  std::uint16_t port_ = 0;
  std::optional<AgentProcess> agent_;
};

TEST_F(AgentE2e, WithoutEnforcementDeniedFlowsAreFindingsAndNothingIsJudgedBeforeSync) {
  api_.fail_lists("pods", 500);  // the first full sync cannot complete
  start_agent();
  ASSERT_TRUE(test::wait_until([&] { return http_get(port_, "/readyz").first == 503; }));
  EXPECT_NE(http_get(port_, "/readyz").second.find("waiting for the first full sync"), std::string::npos);
  ASSERT_TRUE(connect_db(x_));  // denied by db-in, but nothing enforces it
  ASSERT_TRUE(test::wait_until([&] { return metric(metrics(), "npv_flows_judged_total{status=\"not_synced\"}") >= 1; }));
  EXPECT_EQ(metric(metrics(), "npv_cluster_synced"), 0);

  api_.fail_lists("pods", 0);
  ASSERT_TRUE(ready());
  EXPECT_EQ(metric(metrics(), "npv_cluster_synced"), 1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(connect_db(x_));  // denied: silent non-enforcement
  ASSERT_TRUE(connect_db(web_));                             // allowed: agrees

  ASSERT_TRUE(test::wait_until([&] { return !agent_->find("finding", "silent-non-enforcement").empty(); }));
  const auto findings = agent_->find("finding", "silent-non-enforcement");
  ASSERT_EQ(findings.size(), 1u);  // one window for the three flows
  EXPECT_EQ(findings[0]["src"], "other/x");
  EXPECT_EQ(findings[0]["dst"], "prod/db");
  EXPECT_EQ(findings[0]["port"], "5432/TCP");
  EXPECT_EQ(findings[0]["observed"], "established");
  EXPECT_EQ(findings[0]["count"], 3);
  EXPECT_EQ(findings[0]["node"], "lab-node");
  EXPECT_EQ(findings[0]["policies"], nlohmann::json::array({"prod/db-in"}));
  for (const auto& line : agent_->lines()) EXPECT_NE(line.value("src", ""), "prod/web") << line.dump();

  // The Event, on the NetworkPolicy, so `kubectl describe netpol db-in` shows it.
  ASSERT_TRUE(test::wait_until([&] { return !events_with("SilentNonEnforcement").empty(); }));
  const auto event = events_with("SilentNonEnforcement").front();
  EXPECT_EQ(event["involvedObject"]["kind"], "NetworkPolicy");
  EXPECT_EQ(event["involvedObject"]["namespace"], "prod");
  EXPECT_EQ(event["involvedObject"]["name"], "db-in");
  EXPECT_EQ(event["type"], "Warning");
  EXPECT_NE(event["message"].get<std::string>().find("other/x -> prod/db 5432/TCP"), std::string::npos);

  const std::string m = metrics();
  EXPECT_GE(metric(m, "npv_findings_total{kind=\"silent-non-enforcement\"}"), 3);
  EXPECT_EQ(metric(m, "npv_findings_total{kind=\"unexpected-drop\"}"), 0);
  EXPECT_GE(metric(m, "npv_flows_observed_total{outcome=\"established\"}"), 4);
  EXPECT_GE(metric(m, "npv_kube_lists_total{resource=\"pods\"}"), 1);
  EXPECT_EQ(metric(m, "npv_events_lost_total{stage=\"kernel_ring_buffer\"}"), 0);
  EXPECT_EQ(agent_->stop(), 0);
}

TEST_F(AgentE2e, EnforcedPoliciesGiveNoFindingsAndLosingEnforcementIsADriftAlert) {
  enforce();
  start_agent();
  ASSERT_TRUE(ready());
  for (int i = 0; i < 2; ++i) ASSERT_FALSE(connect_db(x_));  // denied and dropped: enforced
  ASSERT_TRUE(connect_db(web_));                              // allowed and connected
  ASSERT_TRUE(test::wait_until([&] { return metric(metrics(), "npv_flows_judged_total{status=\"judged\"}") >= 3; }));
  std::this_thread::sleep_for(2500ms);  // a whole window: still nothing to report
  EXPECT_TRUE(agent_->lines().empty()) << agent_->lines().front().dump();
  EXPECT_EQ(metric(metrics(), "npv_findings_total{kind=\"silent-non-enforcement\"}"), 0);
  EXPECT_EQ(metric(metrics(), "npv_findings_total{kind=\"unexpected-drop\"}"), 0);

  stop_enforcing();  // the CNI's policy agent crashed
  ASSERT_TRUE(connect_db(x_));
  ASSERT_TRUE(test::wait_until([&] { return !agent_->find("drift", "enforcement-lost").empty(); }));
  const auto drift = agent_->find("drift", "enforcement-lost").front();
  EXPECT_EQ(drift["src"], "other/x");
  EXPECT_EQ(drift["dst"], "prod/db");
  EXPECT_EQ(drift["before"], "enforced");
  EXPECT_EQ(drift["now"], "leaked");
  ASSERT_TRUE(test::wait_until([&] { return !events_with("EnforcementLost").empty(); }));
  EXPECT_EQ(events_with("EnforcementLost").front()["involvedObject"]["name"], "db-in");
  EXPECT_EQ(metric(metrics(), "npv_drift_alerts_total{kind=\"enforcement-lost\"}"), 1);
  ASSERT_TRUE(test::wait_until([&] { return !agent_->find("finding", "silent-non-enforcement").empty(); }));
  EXPECT_EQ(agent_->stop(), 0);
}

}  // namespace
}  // namespace npv
