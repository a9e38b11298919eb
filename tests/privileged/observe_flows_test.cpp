// The whole observation path on real traffic: pods in network namespaces on a bridge (NetnsLab),
// nftables playing the enforcing CNI, the eBPF Observer and the FlowTracker. Each test makes one
// kind of connection attempt and asserts the exact flow npv reports for it.
#include <gtest/gtest.h>
#include <time.h>

#include <optional>

#include "npv/flow_tracker.hpp"
#include "npv/netns_lab.hpp"
#include "npv/observer.hpp"
#include "privileged/support/privileges.hpp"
#include "support/manifest_builder.hpp"

namespace npv {
namespace {

using std::chrono::milliseconds;

constexpr char kPrefix[] = "npvo";

class ObserveFlows : public ::testing::Test {
 protected:
  void SetUp() override {
    NPV_REQUIRE_PRIVILEGES();
    ASSERT_TRUE(NetnsLab::cleanup_stale(kPrefix));
    auto lab = NetnsLab::create(kPrefix);
    ASSERT_TRUE(lab) << lab.error().message;
    lab_.emplace(std::move(*lab));
    auto client = lab_->add_pod("shop/client", *IpAddr::parse("10.213.1.2"), IpAddr::parse("fd00:213:1::2"));
    auto server = lab_->add_pod("shop/server", *IpAddr::parse("10.213.1.3"), IpAddr::parse("fd00:213:1::3"));
    ASSERT_TRUE(client && server);
    client_ = *client;
    server_ = *server;
    // The cluster model the flows are attributed against: the same pods, by IP.
    auto cluster = test::load_yaml(test::pod_yaml("shop", "client", "{app: client}", "10.213.1.2") +
                                   test::pod_yaml("shop", "server", "{app: server}", "10.213.1.3"));
    ASSERT_TRUE(cluster) << cluster.error().message;
    cluster_.emplace(std::move(*cluster));
    auto observer = Observer::start();
    ASSERT_TRUE(observer) << observer.error().message;
    ASSERT_TRUE(observer->degraded().empty()) << observer->degraded().front();
    observer_.emplace(std::move(*observer));
    TrackerOptions options;
    options.settle = milliseconds(100);
    options.udp_timeout = milliseconds(500);
    const Observer* obs = &*observer_;
    options.drop_reason_name = [obs](std::uint32_t v) { return obs->drop_reason_name(v); };
    tracker_.emplace(&*cluster_, options);
  }

  // Polls until a flow to server:port/proto from the client is emitted, or `timeout` passes.
  std::optional<ObservedFlow> flow_to(std::uint16_t port, Protocol proto, milliseconds timeout = milliseconds(3000)) {
    const std::uint64_t deadline = monotonic_ns() + static_cast<std::uint64_t>(timeout.count()) * 1'000'000;
    while (monotonic_ns() < deadline) {
      observer_->poll(milliseconds(50), [&](const npv_event& ev) { tracker_->on_event(ev); });
      for (auto& f : tracker_->take_completed(monotonic_ns())) {
        if (f.src == client_.v4 && f.dst == server_.v4 && f.dst_port == port && f.proto == proto) return f;
      }
    }
    return std::nullopt;
  }

  void nft(const std::string& ruleset) {
    auto applied = apply_nft(server_, ruleset);
    ASSERT_TRUE(applied) << applied.error().message;
  }

  void expect_attributed(const ObservedFlow& f) {
    ASSERT_TRUE(f.src_pod && f.dst_pod);
    EXPECT_EQ(cluster_->pods[*f.src_pod].ref(), "shop/client");
    EXPECT_EQ(cluster_->pods[*f.dst_pod].ref(), "shop/server");
    EXPECT_EQ(f.src_netns, netns_inode(client_));
  }

  std::optional<NetnsLab> lab_;
  LabPod client_, server_;
  std::optional<ClusterState> cluster_;
  std::optional<Observer> observer_;
  std::optional<FlowTracker> tracker_;
};

TEST_F(ObserveFlows, EstablishedTcpIsSeenByBothEnds) {
  auto listener = tcp_listen(server_, 8080);
  ASSERT_TRUE(listener) << listener.error().message;
  auto r = tcp_connect(client_, server_.v4, 8080, milliseconds(1000));
  ASSERT_TRUE(r && r->connected);
  auto f = flow_to(8080, Protocol::kTCP);
  ASSERT_TRUE(f) << "no flow reported";
  EXPECT_EQ(f->outcome, Outcome::kEstablished);
  EXPECT_EQ(f->src_port, r->local_port);
  EXPECT_TRUE(f->client_seen);
  EXPECT_TRUE(f->server_seen);
  EXPECT_EQ(f->dst_netns, netns_inode(server_));
  EXPECT_TRUE(f->drop_reason.empty()) << f->drop_reason;
  expect_attributed(*f);
}

TEST_F(ObserveFlows, ConnectionToAClosedPortIsRefused) {
  auto r = tcp_connect(client_, server_.v4, 8081, milliseconds(1000));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->error, ECONNREFUSED);
  auto f = flow_to(8081, Protocol::kTCP);
  ASSERT_TRUE(f) << "no flow reported";
  EXPECT_EQ(f->outcome, Outcome::kRefused);
  EXPECT_TRUE(f->client_seen);
  EXPECT_FALSE(f->server_seen);
  EXPECT_TRUE(f->drop_reason.empty()) << f->drop_reason;
  expect_attributed(*f);
}

TEST_F(ObserveFlows, NftablesDropIsATimeoutWithTheNetfilterDropReason) {
  auto listener = tcp_listen(server_, 8080);
  ASSERT_TRUE(listener);
  nft("table inet npvt { chain in { type filter hook input priority 0; tcp dport 8080 drop; }; }");
  auto r = tcp_connect(client_, server_.v4, 8080, milliseconds(300));
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->connected);
  auto f = flow_to(8080, Protocol::kTCP);
  ASSERT_TRUE(f) << "no flow reported";
  EXPECT_EQ(f->outcome, Outcome::kTimeout);
  EXPECT_EQ(f->drop_reason, "NETFILTER_DROP");
  EXPECT_FALSE(f->server_seen);
  expect_attributed(*f);
}

TEST_F(ObserveFlows, NftablesRejectIsUnreachable) {
  auto listener = tcp_listen(server_, 8080);
  ASSERT_TRUE(listener);
  // Plain reject answers a TCP SYN with an ICMP port unreachable: no RST reaches the client.
  nft("table inet npvt { chain in { type filter hook input priority 0; tcp dport 8080 reject; }; }");
  auto r = tcp_connect(client_, server_.v4, 8080, milliseconds(1000));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->icmp);
  auto f = flow_to(8080, Protocol::kTCP);
  ASSERT_TRUE(f) << "no flow reported";
  EXPECT_EQ(f->outcome, Outcome::kUnreachable);
  EXPECT_EQ(f->drop_reason, "NETFILTER_DROP") << "reject drops the SYN after answering it";
  expect_attributed(*f);
}

TEST_F(ObserveFlows, UdpDeliveredOncePerDedupInterval) {
  auto receiver = udp_listen(server_, 5353);
  ASSERT_TRUE(receiver);
  auto sport = udp_send(client_, server_.v4, 5353, 20);
  ASSERT_TRUE(sport);
  ASSERT_TRUE(receiver->wait_received(20, milliseconds(2000)));
  auto f = flow_to(5353, Protocol::kUDP);
  ASSERT_TRUE(f) << "no flow reported";
  EXPECT_EQ(f->outcome, Outcome::kDelivered);
  EXPECT_EQ(f->src_port, *sport);
  EXPECT_TRUE(f->client_seen);
  EXPECT_TRUE(f->server_seen);
  expect_attributed(*f);
  EXPECT_FALSE(flow_to(5353, Protocol::kUDP, milliseconds(700))) << "20 datagrams in one interval are one flow";
}

TEST_F(ObserveFlows, UdpDroppedByNftablesIsDropped) {
  auto receiver = udp_listen(server_, 5353);
  ASSERT_TRUE(receiver);
  nft("table inet npvt { chain in { type filter hook input priority 0; udp dport 5353 drop; }; }");
  ASSERT_TRUE(udp_send(client_, server_.v4, 5353, 3));
  auto f = flow_to(5353, Protocol::kUDP);
  ASSERT_TRUE(f) << "no flow reported";
  EXPECT_EQ(f->outcome, Outcome::kDropped);
  EXPECT_EQ(f->drop_reason, "NETFILTER_DROP");
  EXPECT_TRUE(f->client_seen);
  EXPECT_FALSE(f->server_seen);
  EXPECT_EQ(receiver->received(), 0u);
  expect_attributed(*f);
}

}  // namespace
}  // namespace npv
