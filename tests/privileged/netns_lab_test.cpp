// NetnsLab: pods on a bridge reach each other, nftables rules in a pod's namespace take effect,
// and teardown / cleanup_stale leave nothing behind. Needs root (NPV_REQUIRE_PRIVILEGES).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "npv/netns_lab.hpp"
#include "privileged/support/privileges.hpp"

namespace npv {
namespace {

using std::chrono::milliseconds;

constexpr char kPrefix[] = "npvt";
constexpr milliseconds kTimeout{300};  // our connect timeout for dropped SYNs
constexpr milliseconds kWait{2000};    // upper bound for things that should happen at once

IpAddr ip(const char* text) { return *IpAddr::parse(text); }

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string run(const std::vector<std::string>& argv) {
  auto out = run_checked(argv);
  EXPECT_TRUE(out) << out.error().message;
  return out ? *out : "";
}

// Names from `ip netns list` ("NAME" or "NAME (id: N)").
std::set<std::string> netns_names() {
  std::set<std::string> names;
  for (const auto& line : lines(run({"ip", "netns", "list"}))) names.insert(line.substr(0, line.find(' ')));
  return names;
}

std::size_t count_with_prefix(const std::set<std::string>& names, const std::string& prefix) {
  return std::count_if(names.begin(), names.end(), [&](const std::string& n) { return n.starts_with(prefix); });
}

// Interface names of the host's own namespace (`ip -o link show`: "N: NAME: <...").
std::set<std::string> host_links() {
  std::set<std::string> names;
  for (const auto& line : lines(run({"ip", "-o", "link", "show"}))) {
    auto start = line.find(": ") + 2;
    names.insert(line.substr(start, line.find(':', start) - start));
  }
  return names;
}

class NetnsLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NPV_REQUIRE_PRIVILEGES();
    auto stale = NetnsLab::cleanup_stale(kPrefix);
    ASSERT_TRUE(stale) << stale.error().message;
    auto lab = NetnsLab::create(kPrefix);
    ASSERT_TRUE(lab) << lab.error().message;
    lab_.emplace(std::move(*lab));
    client_ = add("default/client", "10.213.0.2", "fd00:213::2");
    server_ = add("default/server", "10.213.0.3", "fd00:213::3");
  }

  LabPod add(std::string name, const char* v4, const char* v6) {
    auto pod = lab_->add_pod(std::move(name), ip(v4), ip(v6));
    EXPECT_TRUE(pod) << pod.error().message;
    return pod ? *pod : LabPod{};
  }

  ConnectResult connect(const LabPod& from, const IpAddr& dst, std::uint16_t port) {
    auto result = tcp_connect(from, dst, port, kTimeout);
    EXPECT_TRUE(result) << result.error().message;
    return result ? *result : ConnectResult{};
  }

  void nft(const LabPod& pod, const std::string& ruleset) {
    auto applied = apply_nft(pod, ruleset);
    ASSERT_TRUE(applied) << applied.error().message;
  }

  std::optional<NetnsLab> lab_;
  LabPod client_, server_;
};

TEST_F(NetnsLabTest, PodsReachEachOtherOverTcpAndUdp) {
  auto listener = tcp_listen(server_, 8080);
  ASSERT_TRUE(listener) << listener.error().message;
  auto v4 = connect(client_, server_.v4, 8080);
  EXPECT_TRUE(v4.connected) << std::strerror(v4.error);
  EXPECT_NE(v4.local_port, 0);
  auto v6 = connect(client_, *server_.v6, 8080);
  EXPECT_TRUE(v6.connected) << std::strerror(v6.error);
  EXPECT_TRUE(listener->wait_accepted(2, kWait)) << listener->accepted();

  auto receiver = udp_listen(server_, 5353);
  ASSERT_TRUE(receiver) << receiver.error().message;
  auto sent = udp_send(client_, server_.v4, 5353, 3);
  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_NE(*sent, 0);
  ASSERT_TRUE(udp_send(client_, *server_.v6, 5353, 2));
  EXPECT_TRUE(receiver->wait_received(5, kWait)) << receiver->received();
}

TEST_F(NetnsLabTest, ClosedPortIsRefused) {
  auto result = connect(client_, server_.v4, 9);
  EXPECT_FALSE(result.connected);
  EXPECT_EQ(result.error, ECONNREFUSED) << std::strerror(result.error);
  EXPECT_LT(result.elapsed, kTimeout);
}

TEST_F(NetnsLabTest, NftDropTimesOutWhileAnotherPortWorks) {
  auto dropped = tcp_listen(server_, 8080);
  auto open = tcp_listen(server_, 8081);
  ASSERT_TRUE(dropped && open);
  nft(server_, "table inet npvt { chain in { type filter hook input priority 0; tcp dport 8080 drop; }; }");

  auto blocked = connect(client_, server_.v4, 8080);
  EXPECT_FALSE(blocked.connected);
  EXPECT_EQ(blocked.error, ETIMEDOUT) << std::strerror(blocked.error);
  EXPECT_GE(blocked.elapsed, kTimeout);
  EXPECT_LT(blocked.elapsed, kTimeout + milliseconds(200));
  EXPECT_EQ(dropped->accepted(), 0u);

  auto allowed = connect(client_, server_.v4, 8081);
  EXPECT_TRUE(allowed.connected) << std::strerror(allowed.error);
}

// What connect() gets for nftables reject variants (checked on kernel 6.18):
//  - plain `reject` (inet family, TCP) answers with ICMP/ICMPv6 port unreachable: ECONNREFUSED,
//    without any TCP RST;
//  - `reject with tcp reset` answers with a RST: ECONNREFUSED;
//  - `reject with icmpx type admin-prohibited`: EHOSTUNREACH over IPv4, EACCES over IPv6.
// All within milliseconds. Over IPv6 the ICMPv6 error reaches the client while connect() still
// holds the socket lock (TcpExtLockDroppedIcmps): the kernel only records a soft error and would
// fail the connect at the first SYN retransmission (~1 s); tcp_connect reads it from the error
// queue instead (ConnectResult::icmp).
TEST_F(NetnsLabTest, NftRejectFailsFast) {
  auto listener = tcp_listen(server_, 8080);
  auto rst = tcp_listen(server_, 8081);
  auto admin = tcp_listen(server_, 8082);
  ASSERT_TRUE(listener && rst && admin);
  nft(server_,
      "table inet npvt { chain in { type filter hook input priority 0;\n"
      "  tcp dport 8080 reject\n"
      "  tcp dport 8081 reject with tcp reset\n"
      "  tcp dport 8082 reject with icmpx type admin-prohibited\n"
      "}; }");
  struct Case {
    std::uint16_t port;
    bool v6;
    int error;
    bool icmp;
  };
  for (auto c : {Case{8080, false, ECONNREFUSED, true}, Case{8080, true, ECONNREFUSED, true},
                 Case{8081, false, ECONNREFUSED, false}, Case{8081, true, ECONNREFUSED, false},
                 Case{8082, false, EHOSTUNREACH, true}, Case{8082, true, EACCES, true}}) {
    const IpAddr dst = c.v6 ? *server_.v6 : server_.v4;
    SCOPED_TRACE(dst.to_string() + " port " + std::to_string(c.port));
    auto result = connect(client_, dst, c.port);
    EXPECT_FALSE(result.connected);
    EXPECT_EQ(result.error, c.error) << std::strerror(result.error);
    EXPECT_EQ(result.icmp, c.icmp);
    EXPECT_LT(result.elapsed, milliseconds(100));
  }
  EXPECT_EQ(listener->accepted() + rst->accepted() + admin->accepted(), 0u);
}

TEST_F(NetnsLabTest, NftUdpDropStopsDelivery) {
  auto dropped = udp_listen(server_, 5353);
  auto open = udp_listen(server_, 5354);
  ASSERT_TRUE(dropped && open);
  nft(server_, "table inet npvt { chain in { type filter hook input priority 0; udp dport 5353 drop; }; }");
  ASSERT_TRUE(udp_send(client_, server_.v4, 5353, 3));
  ASSERT_TRUE(udp_send(client_, server_.v4, 5354, 3));
  // Same path, sent later: once these arrived, the earlier datagrams would have too.
  EXPECT_TRUE(open->wait_received(3, kWait)) << open->received();
  EXPECT_EQ(dropped->received(), 0u);
}

TEST_F(NetnsLabTest, PodsHaveOnlyLinkRoutes) {
  auto v4_routes = lines(run({"ip", "-n", client_.netns, "-4", "route", "show", "table", "all"}));
  ASSERT_FALSE(v4_routes.empty());
  EXPECT_EQ(v4_routes[0], "10.213.0.0/24 dev eth0 proto kernel scope link src 10.213.0.2");
  for (const auto& route : v4_routes) {
    EXPECT_EQ(route.find("default"), std::string::npos) << route;
    EXPECT_EQ(route.find("via"), std::string::npos) << route;
  }
  auto main_v4 = lines(run({"ip", "-n", client_.netns, "-4", "route", "show"}));
  EXPECT_EQ(main_v4.size(), 1u);
  for (const auto& route : lines(run({"ip", "-n", client_.netns, "-6", "route", "show", "table", "all"}))) {
    EXPECT_EQ(route.find("default"), std::string::npos) << route;
    EXPECT_EQ(route.find("via"), std::string::npos) << route;
  }
  // Nothing outside the lab is reachable: no route, not even an attempt on the wire.
  auto outside = connect(client_, ip("198.51.100.1"), 80);
  EXPECT_EQ(outside.error, ENETUNREACH) << std::strerror(outside.error);
  auto udp = udp_send(client_, ip("2001:db8::1"), 53);
  ASSERT_FALSE(udp);
  EXPECT_EQ(udp.error().sys_errno, ENETUNREACH) << udp.error().message;
}

TEST_F(NetnsLabTest, RunInEntersThePodNamespace) {
  auto inode = run_in(server_, [] {
    struct stat st {};
    stat("/proc/thread-self/ns/net", &st);
    return static_cast<std::uint32_t>(st.st_ino);
  });
  ASSERT_TRUE(inode) << inode.error().message;
  EXPECT_EQ(*inode, netns_inode(server_));
  EXPECT_NE(netns_inode(server_), netns_inode(client_));
  struct stat host {};
  ASSERT_EQ(stat("/proc/thread-self/ns/net", &host), 0);
  EXPECT_NE(host.st_ino, netns_inode(server_));
  EXPECT_NE(lab_->node_netns_inode(), 0u);
}

TEST_F(NetnsLabTest, AddPodRejectsBadInput) {
  auto duplicate = lab_->add_pod("default/client", ip("10.213.0.9"));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, Errc::kBadInput);
  auto same_ip = lab_->add_pod("default/other", ip("10.213.0.2"));
  ASSERT_FALSE(same_ip);
  EXPECT_EQ(same_ip.error().code, Errc::kBadInput);
  auto wrong_family = lab_->add_pod("default/other", ip("fd00:213::9"));
  ASSERT_FALSE(wrong_family);
  EXPECT_EQ(wrong_family.error().code, Errc::kBadInput);
  EXPECT_EQ(lab_->pods().size(), 2u);
  auto bad_nft = apply_nft(client_, "table inet npvt { this is not nft }");
  ASSERT_FALSE(bad_nft);
  EXPECT_EQ(bad_nft.error().code, Errc::kBadInput);
  EXPECT_NE(bad_nft.error().message.find("syntax error"), std::string::npos) << bad_nft.error().message;
}

TEST_F(NetnsLabTest, FailedAddPodLeavesNothingBehind) {
  // The kernel refuses a multicast interface address: the last setup step fails.
  auto broken = lab_->add_pod("broken", ip("10.213.0.9"), ip("ff02::1"));
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, Errc::kEnvironment);
  EXPECT_NE(broken.error().message.find("ip -n " + lab_->id()), std::string::npos) << broken.error().message;
  EXPECT_NE(broken.error().message.find("multicast"), std::string::npos) << broken.error().message;
  EXPECT_EQ(lab_->pods().size(), 2u);
  EXPECT_EQ(count_with_prefix(netns_names(), lab_->id() + "-"), 3u);
  std::set<std::string> node_links;
  for (const auto& line : lines(run({"ip", "-n", lab_->node_netns(), "-o", "link", "show"}))) {
    auto start = line.find(": ") + 2;
    node_links.insert(line.substr(start, line.find_first_of(":@", start) - start));
  }
  EXPECT_EQ(node_links, (std::set<std::string>{"lo", "br0", client_.bridge_port, server_.bridge_port}));
  // The lab is still usable.
  auto later = lab_->add_pod("later", ip("10.213.0.9"));
  ASSERT_TRUE(later) << later.error().message;
  auto listener = tcp_listen(*later, 8080);
  ASSERT_TRUE(listener);
  EXPECT_TRUE(connect(client_, later->v4, 8080).connected);
}

TEST_F(NetnsLabTest, NodeNftablesFiltersBridgedTraffic) {
  auto listener = tcp_listen(server_, 8080);
  ASSERT_TRUE(listener);
  auto applied = lab_->apply_nft_node(
      "table bridge npvt { chain forward { type filter hook forward priority 0; tcp dport 8080 drop; }; }");
  ASSERT_TRUE(applied) << applied.error().message;
  auto blocked = connect(client_, server_.v4, 8080);
  EXPECT_EQ(blocked.error, ETIMEDOUT) << std::strerror(blocked.error);
}

TEST_F(NetnsLabTest, TeardownLeavesNoNamespaceOrInterface) {
  const auto links_before = host_links();
  std::string id;
  {
    auto lab = NetnsLab::create(kPrefix);
    ASSERT_TRUE(lab) << lab.error().message;
    id = lab->id();
    ASSERT_TRUE(lab->add_pod("a", ip("10.213.0.2")));
    ASSERT_TRUE(lab->add_pod("b", ip("10.213.0.3"), ip("fd00:213::3")));
    EXPECT_EQ(count_with_prefix(netns_names(), id + "-"), 3u);
  }
  EXPECT_EQ(count_with_prefix(netns_names(), id + "-"), 0u);
  EXPECT_EQ(host_links(), links_before);

  EXPECT_TRUE(lab_->destroy());
  EXPECT_EQ(count_with_prefix(netns_names(), lab_->id() + "-"), 0u);
  EXPECT_FALSE(lab_->add_pod("late", ip("10.213.0.9")));
}

TEST_F(NetnsLabTest, CreateWithoutRootIsAnEnvironmentError) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(10);
    auto lab = NetnsLab::create(kPrefix);
    _exit(lab ? 11 : lab.error().code == Errc::kEnvironment ? 0 : 12);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(NetnsLabTest, CleanupStaleRemovesLeakedNamespaces) {
  // Its own prefix, so that the SetUp of tests running concurrently (ctest -j) cannot remove
  // these leftovers first. (A crashed earlier run of this test is cleaned up here too.)
  constexpr char kLeakPrefix[] = "npvc";
  ASSERT_TRUE(NetnsLab::cleanup_stale(kLeakPrefix));
  // A run that crashed: a child process builds a lab and exits without its destructors.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lab = NetnsLab::create(kLeakPrefix);
    if (!lab || !lab->add_pod("leaked", ip("10.213.0.2"))) _exit(1);
    _exit(0);  // no destructors: the namespaces stay, their flocks die with the process
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::string crashed = std::string(kLeakPrefix) + "-" + std::to_string(child) + "-";
  EXPECT_EQ(count_with_prefix(netns_names(), crashed), 2u);
  // And a namespace that is not even in the lab's naming scheme.
  const std::string stray = std::string(kLeakPrefix) + "-stray";
  run({"ip", "netns", "add", stray});
  // A live lab with the same prefix must survive.
  auto live = NetnsLab::create(kLeakPrefix);
  ASSERT_TRUE(live) << live.error().message;
  auto live_pod = live->add_pod("live", ip("10.213.0.2"));
  ASSERT_TRUE(live_pod) << live_pod.error().message;

  auto removed = NetnsLab::cleanup_stale(kLeakPrefix);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, 3);
  auto names = netns_names();
  EXPECT_EQ(count_with_prefix(names, crashed), 0u);
  EXPECT_EQ(names.count(stray), 0u);
  EXPECT_EQ(count_with_prefix(names, live->id() + "-"), 2u);
  EXPECT_EQ(count_with_prefix(names, lab_->id() + "-"), 3u);
  auto listener = tcp_listen(*live_pod, 8080);
  ASSERT_TRUE(listener);
  EXPECT_TRUE(connect(*live_pod, live_pod->v4, 8080).connected);
}

}  // namespace
}  // namespace npv
