// Policy drops and rejects on this machine: a packet dropped by nftables is reported with its
// own addresses, ports, the NETFILTER_DROP reason and the network namespace it was dropped in; a
// connection rejected with an ICMP error closes with that error even when the application has
// consumed it. The rules live in a private network namespace of a test thread, so the host's
// firewall and traffic are untouched; only loopback traffic inside that namespace.
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "npv/observer.hpp"
#include "privileged/support/observe.hpp"
#include "privileged/support/privileges.hpp"
#include "privileged/support/sockets.hpp"

namespace npv {
namespace {

using test::Fd;

bool have_nft() { return std::system("command -v nft >/dev/null 2>&1") == 0; }

// Brings up `lo` in the calling thread's network namespace.
bool loopback_up() {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
  if (::ioctl(fd.get(), SIOCGIFFLAGS, &ifr) != 0) return false;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  return ::ioctl(fd.get(), SIOCSIFFLAGS, &ifr) == 0;
}

// Loads an nftables ruleset into the calling thread's network namespace (nft inherits it).
bool nft_load(const std::string& ruleset) {
  FILE* nft = ::popen("nft -f -", "w");
  if (nft == nullptr) return false;
  std::fputs(ruleset.c_str(), nft);
  return ::pclose(nft) == 0;
}

// Runs `body` on a thread in a new network namespace with lo up; returns that namespace's inode
// (0 on failure, reported through gtest). The namespace goes away with the thread's sockets.
std::uint32_t in_private_netns(const std::function<void()>& body) {
  std::uint32_t netns = 0;
  std::thread thread([&] {
    // unshare() moves only this thread; nft, run from it, inherits the namespace.
    if (::unshare(CLONE_NEWNET) != 0) {
      ADD_FAILURE() << "unshare(CLONE_NEWNET): " << std::strerror(errno);
      return;
    }
    if (!loopback_up()) {
      ADD_FAILURE() << "cannot bring up lo: " << std::strerror(errno);
      return;
    }
    netns = test::netns_inode();
    body();
  });
  thread.join();
  return netns;
}

class ObserverDropsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NPV_REQUIRE_PRIVILEGES();
    if (!have_nft()) {
      if (test::in_ci()) FAIL() << "nft (nftables) is not installed";
      GTEST_SKIP() << "needs nft (nftables)";
    }
  }
};

TEST_F(ObserverDropsTest, NftablesDropIsReportedWithReasonAndNetns) {
  ObserverOptions options;
  options.tcp = options.udp = false;
  auto started = Observer::start(options);
  ASSERT_TRUE(started.has_value()) << started.error().message;
  Observer& observer = *started;

  std::uint16_t sender_port = 0, receiver_port = 0;
  const std::uint32_t netns = in_private_netns([&] {
    Fd receiver = test::make_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
    Fd sender = test::make_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
    receiver_port = test::local_port(receiver);
    sender_port = test::local_port(sender);
    ASSERT_TRUE(nft_load("table inet npv_test {\n chain input {\n  type filter hook input priority 0; policy accept;\n"
                         "  udp dport " + std::to_string(receiver_port) + " drop\n }\n}\n"));
    test::SockAddr to("127.0.0.1", receiver_port);
    EXPECT_EQ(::sendto(sender.get(), "x", 1, 0, to.get(), to.len), 1);
  });
  ASSERT_NE(netns, 0u);
  ASSERT_NE(netns, test::netns_inode());

  auto drops = test::collect_events(
      observer,
      [&](const npv_event& e) {
        return e.type == NPV_EV_DROP && e.protocol == IPPROTO_UDP && e.sport == sender_port &&
               e.dport == receiver_port;
      },
      [](const auto& kept) { return !kept.empty(); });

  ASSERT_EQ(drops.size(), 1u);
  const npv_event& e = drops[0];
  EXPECT_EQ(observer.drop_reason_name(e.drop_reason), "NETFILTER_DROP");
  EXPECT_EQ(e.family, AF_INET);
  EXPECT_EQ(test::saddr_of(e), test::event_addr("127.0.0.1"));
  EXPECT_EQ(test::daddr_of(e), test::event_addr("127.0.0.1"));
  EXPECT_EQ(e.netns, netns);
  EXPECT_EQ(observer.counters(ObserverGroup::kDrops).lost, 0u);
}

// An nftables `reject` answers the SYN with an ICMP port unreachable. Over loopback the answer
// arrives inside connect(), while the socket is locked, so the kernel only records it (soft error
// and error queue) and the socket stays in SYN_SENT; the application reads it (SO_ERROR clears
// the soft error, MSG_ERRQUEUE dequeues) and closes. CLOSED must still say ECONNREFUSED, and
// there is no RST_RECEIVED: that is how a reject is told apart from a refusal by the peer.
TEST_F(ObserverDropsTest, IcmpRejectIsClosedWithItsErrorEvenWhenTheApplicationConsumedIt) {
  ObserverOptions options;
  options.udp = false;
  auto started = Observer::start(options);
  ASSERT_TRUE(started.has_value()) << started.error().message;
  Observer& observer = *started;

  std::uint64_t cookie = 0;
  std::uint16_t client_port = 0, server_port = 0;
  int so_error = 0;
  const std::uint32_t netns = in_private_netns([&] {
    Fd closed = test::make_socket(AF_INET, SOCK_STREAM, "127.0.0.1");
    server_port = test::local_port(closed);
    ASSERT_TRUE(nft_load("table inet npv_test {\n chain input {\n  type filter hook input priority 0; policy accept;\n"
                         "  tcp dport " + std::to_string(server_port) + " reject\n }\n}\n"));
    Fd client = test::make_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    const int one = 1;
    ASSERT_EQ(::setsockopt(client.get(), IPPROTO_IP, IP_RECVERR, &one, sizeof(one)), 0);
    cookie = test::socket_cookie(client);
    const int rc = test::connect_to(client, "127.0.0.1", server_port);
    ASSERT_TRUE(rc == EINPROGRESS || rc == ECONNREFUSED) << std::strerror(rc);
    pollfd pfd{client.get(), POLLOUT, 0};
    ASSERT_EQ(::poll(&pfd, 1, 1000), 1);
    socklen_t len = sizeof(so_error);
    ASSERT_EQ(::getsockopt(client.get(), SOL_SOCKET, SO_ERROR, &so_error, &len), 0);
    client_port = test::local_port(client);
    char data[256], control[512];
    iovec iov{data, sizeof(data)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    while (::recvmsg(client.get(), &msg, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) msg.msg_controllen = sizeof(control);
  });  // the client closes here, in SYN_SENT, its error consumed
  ASSERT_NE(netns, 0u);
  ASSERT_EQ(so_error, ECONNREFUSED) << "the application saw the ICMP error";

  auto events = test::collect_events(
      observer,
      [&](const npv_event& e) { return e.cookie == cookie || (e.type == NPV_EV_DROP && e.dport == server_port); },
      [](const auto& kept) { return kept.size() >= 2; });

  const auto closed = test::of_type(events, NPV_EV_TCP_CLOSED);
  const auto drops = test::of_type(events, NPV_EV_DROP);
  EXPECT_TRUE(test::of_type(events, NPV_EV_TCP_SYN_SENT).empty()) << "answered (by ICMP) at once";
  EXPECT_TRUE(test::of_type(events, NPV_EV_TCP_RST_RECEIVED).empty());
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].sk_err, ECONNREFUSED);
  EXPECT_EQ(closed[0].sport, client_port);
  EXPECT_EQ(closed[0].dport, server_port);
  EXPECT_EQ(closed[0].netns, netns);
  ASSERT_EQ(drops.size(), 1u) << "reject drops the SYN after answering it";
  EXPECT_EQ(observer.drop_reason_name(drops[0].drop_reason), "NETFILTER_DROP");
  EXPECT_EQ(drops[0].sport, client_port);
  EXPECT_EQ(drops[0].tcp_flags & (NPV_TCP_FLAG_SYN | NPV_TCP_FLAG_ACK), NPV_TCP_FLAG_SYN);
}

// An attempt that gets no answer: its dropped SYN is reported at once with its TCP flags, and
// the attempt itself (SYN_SENT, with the local port connect() picked) when the SYN is
// retransmitted, after the initial RTO of 1 s; the close then reports the outcome.
TEST_F(ObserverDropsTest, UnansweredAttemptIsReportedAtItsSynRetransmission) {
  ObserverOptions options;
  options.udp = false;
  auto started = Observer::start(options);
  ASSERT_TRUE(started.has_value()) << started.error().message;
  Observer& observer = *started;

  std::uint64_t cookie = 0;
  std::uint16_t client_port = 0, server_port = 0;
  std::vector<npv_event> events;
  const auto ours = [&](const npv_event& e) {
    return e.cookie == cookie || (e.type == NPV_EV_DROP && e.dport == server_port && e.sport == client_port);
  };
  const std::uint32_t netns = in_private_netns([&] {
    Fd listener = test::make_socket(AF_INET, SOCK_STREAM, "127.0.0.1");
    ASSERT_EQ(::listen(listener.get(), 4), 0);
    server_port = test::local_port(listener);
    ASSERT_TRUE(nft_load("table inet npv_test {\n chain input {\n  type filter hook input priority 0; policy accept;\n"
                         "  tcp dport " + std::to_string(server_port) + " drop\n }\n}\n"));
    Fd client = test::make_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    cookie = test::socket_cookie(client);
    ASSERT_EQ(test::connect_to(client, "127.0.0.1", server_port), EINPROGRESS);
    client_port = test::local_port(client);
    // The socket stays open (in SYN_SENT) until the retransmission has been seen.
    events = test::collect_events(
        observer, ours, [](const auto& kept) { return !test::of_type(kept, NPV_EV_TCP_SYN_SENT).empty(); },
        std::chrono::milliseconds(3000));
  });
  ASSERT_NE(netns, 0u);
  auto closed = test::collect_events(
      observer, ours, [](const auto& kept) { return !test::of_type(kept, NPV_EV_TCP_CLOSED).empty(); });
  events.insert(events.end(), closed.begin(), closed.end());

  const auto syn = test::of_type(events, NPV_EV_TCP_SYN_SENT);
  const auto drops = test::of_type(events, NPV_EV_DROP);
  ASSERT_GE(syn.size(), 1u) << "no SYN_SENT at the retransmission";
  EXPECT_EQ(syn[0].sport, client_port);
  EXPECT_EQ(syn[0].dport, server_port);
  EXPECT_EQ(test::saddr_of(syn[0]), test::event_addr("127.0.0.1"));
  EXPECT_EQ(syn[0].netns, netns);
  ASSERT_GE(drops.size(), 2u) << "the SYN and its retransmission";
  EXPECT_EQ(observer.drop_reason_name(drops[0].drop_reason), "NETFILTER_DROP");
  EXPECT_EQ(drops[0].tcp_flags & (NPV_TCP_FLAG_SYN | NPV_TCP_FLAG_ACK), NPV_TCP_FLAG_SYN);
  EXPECT_LT(drops[0].ts_ns, syn[0].ts_ns);
  const auto closes = test::of_type(events, NPV_EV_TCP_CLOSED);
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].sk_err, 0) << "closed by the application before any answer";
  EXPECT_EQ(closes[0].sport, client_port);
}

}  // namespace
}  // namespace npv
