// npv agent's loop (agent_loop.hpp) on synthetic kernel events and a fixed cluster state: no
// verdict before sync, findings per window on stdout and as Events, drift alerts at once,
// node-local traffic ignored, metrics.
#include "npv/agent_loop.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>

#include "support/manifest_builder.hpp"
#include "support/web_db_cluster.hpp"

namespace npv {
namespace {

constexpr std::uint64_t kMs = 1'000'000ULL;
constexpr std::uint64_t kSec = 1000 * kMs;
constexpr std::uint32_t kHostNetns = 4026531840U;
constexpr std::uint32_t kPodNetns = 4026532001U;
const auto kWall = std::chrono::system_clock::time_point{std::chrono::seconds{1795455602}};

// test::kWebDbPods and test::kDbInPolicy, and prod/db behind the Service prod/database.
const std::string kCluster = std::string(test::kWebDbPods) + test::kDbInPolicy + R"(
---
apiVersion: v1
kind: Service
metadata: {name: database, namespace: prod}
spec: {clusterIP: 10.96.0.10, selector: {app: db}, ports: [{port: 5432}]}
)";

class FixedSource : public ClusterSource {
 public:
  State latest() const override {
    std::lock_guard lock(mu_);
    return state_;
  }
  void set(std::shared_ptr<const ClusterState> c, std::uint64_t generation) {
    std::lock_guard lock(mu_);
    state_ = {std::move(c), generation, 1 * kSec};
  }

 private:
  mutable std::mutex mu_;
  State state_;
};

class RecordingSink : public EventSink {
 public:
  void post(const EventTarget& t, const EventText& text) override { posted.push_back({t, text}); }
  std::vector<std::pair<EventTarget, EventText>> posted;
};

npv_event tcp_event(npv_event_type type, const char* src, const char* dst, std::uint16_t sport, std::uint16_t dport,
                    std::uint64_t ts, std::uint32_t netns = kPodNetns, int sk_err = 0) {
  npv_event ev{};
  ev.ts_ns = ts;
  ev.type = static_cast<std::uint8_t>(type);
  ev.family = 2;
  ev.protocol = 6;
  ev.netns = netns;
  ev.sk_err = sk_err;
  auto s = *IpAddr::parse(src);
  auto d = *IpAddr::parse(dst);
  std::memcpy(ev.saddr, s.bytes.data(), 4);
  std::memcpy(ev.daddr, d.bytes.data(), 4);
  ev.sport = sport;
  ev.dport = dport;
  return ev;
}

// A TCP connection attempt from the client's side: established, or timed out.
void connect(AgentLoop& loop, const char* src, const char* dst, std::uint16_t sport, std::uint16_t dport,
             std::uint64_t ts, bool established, std::uint32_t netns = kPodNetns) {
  loop.on_event(tcp_event(NPV_EV_TCP_SYN_SENT, src, dst, sport, dport, ts, netns));
  if (established) {
    loop.on_event(tcp_event(NPV_EV_TCP_ESTABLISHED, src, dst, sport, dport, ts + kMs, netns));
  } else {
    loop.on_event(tcp_event(NPV_EV_TCP_CLOSED, src, dst, sport, dport, ts + kMs, netns, ETIMEDOUT));
  }
}

std::vector<nlohmann::json> lines(const std::ostringstream& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out.str());
  std::string line;
  while (std::getline(in, line)) v.push_back(nlohmann::json::parse(line));
  return v;
}

class AgentLoopTest : public ::testing::Test {
 protected:
  AgentOptions options() {
    AgentOptions o;
    o.node = "node-1";
    o.host_netns = kHostNetns;
    o.grace = std::chrono::seconds{10};
    o.window = std::chrono::seconds{60};
    o.tracker.settle = std::chrono::milliseconds{100};
    return o;
  }
  std::shared_ptr<const ClusterState> cluster() {
    auto c = test::load_yaml(kCluster);
    EXPECT_TRUE(c);
    return std::make_shared<const ClusterState>(std::move(*c));
  }
  // Ticks until the compile thread's state is in use (real time: it runs on its own thread).
  void wait_synced(AgentLoop& loop, std::uint64_t now) {
    for (int i = 0; i < 500 && !loop.synced(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      loop.tick(now, kWall);
    }
    ASSERT_TRUE(loop.synced());
  }

  FixedSource source;
  AgentMetrics metrics;
  std::ostringstream out;
  RecordingSink sink;
};

TEST_F(AgentLoopTest, NothingIsJudgedBeforeSync) {
  AgentLoop loop(options(), source, metrics, out, &sink);
  connect(loop, "10.0.1.1", "10.0.0.2", 40000, 5432, 100 * kSec, true);  // denied, leaked
  loop.tick(101 * kSec, kWall);
  EXPECT_FALSE(loop.synced());
  EXPECT_EQ(metrics.flows_judged[static_cast<std::size_t>(LiveStatus::kNotSynced)], 1u);
  EXPECT_EQ(metrics.findings[0], 0u);
  loop.finish(200 * kSec, kWall);
  EXPECT_TRUE(out.str().empty());
  EXPECT_TRUE(sink.posted.empty());
}

TEST_F(AgentLoopTest, FindingsAreWrittenOncePerWindowWithTheirCount) {
  source.set(cluster(), 1);
  AgentLoop loop(options(), source, metrics, out, &sink);
  wait_synced(loop, 50 * kSec);
  EXPECT_EQ(metrics.generation, 1u);
  for (std::uint16_t i = 0; i < 3; ++i) {
    connect(loop, "10.0.1.1", "10.0.0.2", 40000 + i, 5432, (100 + i) * kSec, true);  // leaks
  }
  connect(loop, "10.0.0.1", "10.0.0.2", 41000, 5432, 100 * kSec, true);  // allowed: agrees
  loop.tick(110 * kSec, kWall);
  EXPECT_EQ(metrics.flows_judged[static_cast<std::size_t>(LiveStatus::kJudged)], 4u);
  EXPECT_EQ(metrics.findings[0], 3u);
  EXPECT_EQ(metrics.flows_observed[static_cast<std::size_t>(Outcome::kEstablished)], 4u);
  EXPECT_TRUE(lines(out).empty());  // the window is still open
  loop.tick(171 * kSec, kWall);     // opened at 110 s
  auto written = lines(out);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["type"], "finding");
  EXPECT_EQ(written[0]["kind"], "silent-non-enforcement");
  EXPECT_EQ(written[0]["src"], "other/x");
  EXPECT_EQ(written[0]["dst"], "prod/db");
  EXPECT_EQ(written[0]["port"], "5432/TCP");
  EXPECT_EQ(written[0]["count"], 3);
  EXPECT_EQ(written[0]["node"], "node-1");
  EXPECT_EQ(written[0]["policies"], nlohmann::json::array({"prod/db-in"}));
  ASSERT_EQ(sink.posted.size(), 1u);
  EXPECT_EQ(sink.posted[0].first.kind, "NetworkPolicy");
  EXPECT_EQ(sink.posted[0].first.ns, "prod");
  EXPECT_EQ(sink.posted[0].first.name, "db-in");
  EXPECT_EQ(sink.posted[0].second.reason, "SilentNonEnforcement");
}

TEST_F(AgentLoopTest, FindingsDecidedByAnAdminPolicyNameItAndPostTheEventOnIt) {
  auto c = test::load_yaml(kCluster + R"(
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: no-web-to-db}
spec:
  priority: 1
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}
  ingress: [{action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}]}]
)");
  ASSERT_TRUE(c) << c.error().message;
  source.set(std::make_shared<const ClusterState>(std::move(*c)), 1);
  AgentLoop loop(options(), source, metrics, out, &sink);
  wait_synced(loop, 50 * kSec);
  connect(loop, "10.0.0.1", "10.0.0.2", 40000, 5432, 100 * kSec, true);  // the NetworkPolicy allows, the ANP denies
  loop.tick(110 * kSec, kWall);
  loop.tick(171 * kSec, kWall);  // the window opened at 110 s
  auto written = lines(out);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["kind"], "silent-non-enforcement");
  EXPECT_EQ(written[0]["policies"], nlohmann::json::array({"AdminNetworkPolicy/no-web-to-db"}));
  ASSERT_EQ(sink.posted.size(), 1u);
  EXPECT_EQ(sink.posted[0].first.kind, "AdminNetworkPolicy");
  EXPECT_EQ(sink.posted[0].first.api_version, "policy.networking.k8s.io/v1alpha1");
  EXPECT_EQ(sink.posted[0].first.ns, "");
  EXPECT_EQ(sink.posted[0].first.name, "no-web-to-db");
}

TEST_F(AgentLoopTest, EnforcementLostIsAnAlertAtOnce) {
  source.set(cluster(), 1);
  AgentLoop loop(options(), source, metrics, out, &sink);
  wait_synced(loop, 50 * kSec);
  connect(loop, "10.0.1.1", "10.0.0.2", 40000, 5432, 100 * kSec, false);  // enforced
  loop.tick(105 * kSec, kWall);
  EXPECT_TRUE(lines(out).empty());
  connect(loop, "10.0.1.1", "10.0.0.2", 40001, 5432, 106 * kSec, true);  // the CNI stopped enforcing
  loop.tick(107 * kSec, kWall);
  auto written = lines(out);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["type"], "drift");
  EXPECT_EQ(written[0]["kind"], "enforcement-lost");
  EXPECT_EQ(written[0]["before"], "enforced");
  EXPECT_EQ(metrics.drift_alerts[0], 1u);
  ASSERT_EQ(sink.posted.size(), 1u);
  EXPECT_EQ(sink.posted[0].second.reason, "EnforcementLost");
  // The leak is also a finding, written when its window closes (here: at shutdown).
  loop.finish(108 * kSec, kWall);
  written = lines(out);
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[1]["type"], "finding");
}

TEST_F(AgentLoopTest, NodeLocalTrafficIsNotJudgedAndAllowedDropsAreFindings) {
  source.set(cluster(), 1);
  AgentLoop loop(options(), source, metrics, out, &sink);
  wait_synced(loop, 50 * kSec);
  connect(loop, "10.0.0.254", "10.0.0.2", 40000, 5432, 100 * kSec, true, kHostNetns);  // kubelet probe
  connect(loop, "10.0.0.1", "10.0.0.2", 40001, 80, 100 * kSec, false);                 // denied, enforced
  connect(loop, "10.0.0.2", "10.0.1.1", 40002, 8080, 100 * kSec, false);               // allowed, dropped
  loop.finish(200 * kSec, kWall);
  EXPECT_EQ(metrics.flows_judged[static_cast<std::size_t>(LiveStatus::kNotSubject)], 1u);
  EXPECT_EQ(metrics.flows_judged[static_cast<std::size_t>(LiveStatus::kJudged)], 2u);
  auto written = lines(out);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["kind"], "unexpected-drop");
  EXPECT_EQ(written[0]["observed"], "timeout");
  EXPECT_EQ(written[0]["policies"], nlohmann::json::array());
  ASSERT_EQ(sink.posted.size(), 1u);  // no policy involved: the destination pod
  EXPECT_EQ(sink.posted[0].first.kind, "Pod");
  EXPECT_EQ(sink.posted[0].first.ns, "other");
  EXPECT_EQ(sink.posted[0].first.name, "x");
}

TEST_F(AgentLoopTest, AFlowToAServiceIsJudgedForItsBackendAndNamedAfterIt) {
  source.set(cluster(), 1);
  AgentLoop loop(options(), source, metrics, out, &sink);
  wait_synced(loop, 50 * kSec);
  connect(loop, "10.0.1.1", "10.96.0.10", 40000, 5432, 100 * kSec, true);  // x -> prod/database -> prod/db
  loop.finish(200 * kSec, kWall);
  auto written = lines(out);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0]["kind"], "silent-non-enforcement");
  EXPECT_EQ(written[0]["dst"], "prod/db");
  EXPECT_EQ(written[0]["service"], "prod/database");
  EXPECT_EQ(written[0]["dst_ip"], "10.96.0.10");
  EXPECT_EQ(written[0]["policies"], nlohmann::json::array({"prod/db-in"}));
}

}  // namespace
}  // namespace npv
