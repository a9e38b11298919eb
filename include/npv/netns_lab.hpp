// A miniature cluster made of network namespaces: the lab's "pods" and the probes that run in them.
//
// NetnsLab creates a dedicated "node" network namespace holding a Linux bridge, and one network
// namespace per pod, joined to the bridge by a veth pair (eth0 in the pod). The host's own network
// namespace is never touched: no interface, route, sysctl or nftables table is created there, the
// pods have only the link route of their subnet (no default route), and nothing is NATed or
// forwarded, so lab traffic cannot leave the lab. Namespaces are named "<prefix>-<pid>-<seq>-..."
// and appear in `ip netns list` (bind mounts under /run/netns, created with `ip netns add`).
//
// Needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN) and the `ip` (iproute2) and `nft` (nftables)
// binaries; without them the calls fail with Errc::kEnvironment.
//
// Probes (run_in, tcp_listen, tcp_connect, udp_listen, udp_send) create their sockets on a thread
// that has entered the pod's namespace with setns(CLONE_NEWNET); a socket stays in the namespace it
// was created in, so it may be used from any thread afterwards. They work on any LabPod, including
// one whose lab has been destroyed (they then fail: the namespace is gone).
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "npv/cidr.hpp"
#include "npv/error.hpp"

namespace npv {

// One pod of a lab. A plain value: copying it does not copy or own any kernel object.
struct LabPod {
  std::string name;          // the caller's name, e.g. "default/web"
  std::string netns;         // network namespace name (/run/netns/<netns>)
  std::string bridge_port;   // the veth end on the bridge, inside the node namespace
  IpAddr v4;                 // eth0's IPv4 address (prefix: LabOptions::v4_prefix)
  std::optional<IpAddr> v6;  // eth0's IPv6 address, if any (prefix: LabOptions::v6_prefix)
  std::uint32_t netns_inode = 0;  // inode of the namespace, what eBPF sees as sk->sk_net's inum
};

struct LabOptions {
  int v4_prefix = 24;  // pod addresses are on-link within this prefix (link route only)
  int v6_prefix = 64;
};

// Owner of one lab. Move-only; a moved-from lab may only be destroyed or assigned to. Not
// thread-safe: one thread creates pods and applies rulesets (probes on the pods may run
// concurrently from any thread).
class NetnsLab {
 public:
  // Creates the node namespace "<name_prefix>-<pid>-<seq>-node" with bridge "br0" in it. The
  // prefix must be 1-16 characters of [A-Za-z0-9_.-]. On failure everything created so far is
  // removed again.
  static Result<NetnsLab> create(std::string name_prefix, LabOptions options = {});

  // Removes namespaces named "<prefix>..." that no live lab owns (left by a crashed or killed
  // run). A lab owns its namespaces through an flock on each of them, released by the kernel when
  // its process dies; a namespace named "<prefix>-<pid>-..." whose pid is alive is also kept
  // (it may be between `ip netns add` and its flock). Pass the prefix given to create().
  // Returns how many namespaces were removed.
  static Result<int> cleanup_stale(std::string_view prefix);

  NetnsLab(NetnsLab&&) noexcept;
  NetnsLab& operator=(NetnsLab&&) noexcept;  // destroys this lab first
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;
  // Tears down everything this lab created (errors are logged). Sockets the probes still hold
  // keep their (now unnamed) namespace alive until they are closed. A crash or SIGKILL skips
  // this: cleanup_stale() then removes the leftovers.
  ~NetnsLab();

  // Adds a pod: its namespace (lo up), a veth pair (eth0 in the pod with the given addresses and
  // only their link routes; the other end on the bridge). `name` must be non-empty and unique in
  // this lab, the addresses unique and of the right family (kBadInput otherwise). Returns once
  // eth0 is operationally up and its bridge port forwards, so a first probe is not lost to the
  // kernel's deferred carrier handling (linkwatch). On failure the lab is as before the call.
  Result<LabPod> add_pod(std::string name, IpAddr v4, std::optional<IpAddr> v6 = std::nullopt);

  // Loads an nftables ruleset (`nft -f -`) into the node namespace, e.g. a `table bridge ...`
  // with a forward-hook chain filtering traffic between pods. kBadInput when nft rejects the
  // ruleset (the message has nft's stderr). For a pod's own namespace use npv::apply_nft.
  Result<void> apply_nft_node(std::string_view ruleset) const;

  // Removes everything now; returns the first error (the rest is still attempted). Idempotent;
  // afterwards the lab is empty and add_pod fails.
  Result<void> destroy();

  const std::string& id() const;         // "<prefix>-<pid>-<seq>": every netns name starts with it
  const std::string& node_netns() const;  // the namespace holding the bridge
  std::uint32_t node_netns_inode() const;
  const std::vector<LabPod>& pods() const;
  const LabOptions& options() const;

 private:
  struct Impl;
  explicit NetnsLab(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Loads an nftables ruleset into the pod's namespace (`nft -f -` run inside it), e.g.
// "table inet npv { chain in { type filter hook input priority 0; tcp dport 80 drop; }; }".
// kBadInput when nft rejects it (message has nft's stderr), kEnvironment when nft cannot run.
Result<void> apply_nft(const LabPod& pod, std::string_view ruleset);
Result<void> apply_nft_in(const std::string& netns, std::string_view ruleset);

// The inode number of the pod's network namespace (also LabPod::netns_inode).
inline std::uint32_t netns_inode(const LabPod& pod) { return pod.netns_inode; }

// ---- running commands ---------------------------------------------------------------------------

struct CommandOutput {
  int exit_status = 0;  // exit code, or 128 + signal number
  std::string out;      // stdout
  std::string err;      // stderr
};

// Runs argv[0] (looked up in PATH) with posix_spawn, no shell, `input` on its stdin; collects
// stdout and stderr. The child runs in the calling thread's network namespace. Fails
// (kEnvironment) only when the program cannot be started; a non-zero exit is a CommandOutput.
Result<CommandOutput> run_command(const std::vector<std::string>& argv, std::string_view input = {});

// Like run_command, but a non-zero exit is an error (kEnvironment) naming the command line and its
// stderr. Returns stdout.
Result<std::string> run_checked(const std::vector<std::string>& argv, std::string_view input = {});

// ---- running code inside a namespace ------------------------------------------------------------

namespace lab_detail {
// Moves the calling thread (only it) into the network namespace /run/netns/<netns>.
Result<void> enter_netns(const std::string& netns);
template <class T>
struct IsResult : std::false_type {};
template <class T>
struct IsResult<std::expected<T, Error>> : std::true_type {};
}  // namespace lab_detail

// Runs f() on a new std::thread that first setns()es into /run/netns/<netns>, and waits for it.
// Returns Result<R> for f returning R (Result<void> for void); when f already returns a Result,
// that is returned as is (not nested). kEnvironment when the thread or the setns fails. An
// exception thrown by f is rethrown in the caller.
template <class F>
auto run_in_netns(const std::string& netns, F&& f) {
  using R = std::invoke_result_t<F&>;
  using Out = std::conditional_t<lab_detail::IsResult<R>::value, R, Result<R>>;
  std::optional<Out> out;
  std::exception_ptr failure;
  try {
    std::thread worker([&] {
      if (auto entered = lab_detail::enter_netns(netns); !entered) {
        out.emplace(std::unexpected(std::move(entered.error())));
        return;
      }
      try {
        if constexpr (std::is_void_v<R>) {
          f();
          out.emplace();
        } else {
          out.emplace(f());
        }
      } catch (...) {
        failure = std::current_exception();
      }
    });
    worker.join();
  } catch (const std::system_error& e) {
    return Out(make_error(Errc::kEnvironment, std::string("cannot start a thread: ") + e.what(),
                          e.code().value()));
  }
  if (failure) std::rethrow_exception(failure);
  return std::move(*out);
}

template <class F>
auto run_in(const LabPod& pod, F&& f) {
  return run_in_netns(pod.netns, std::forward<F>(f));
}

// ---- probes -------------------------------------------------------------------------------------

namespace lab_detail {
struct Server;  // sockets + the background thread serving them (agent/lab/probes.cpp)
}

// Accepts TCP connections on `port` of every address of a pod (a 0.0.0.0 socket, and a [::]
// IPV6_V6ONLY socket when the pod has IPv6), on a background thread, until destroyed. Accepted
// connections are closed at once. Move-only; all members are thread-safe.
class TcpListener {
 public:
  TcpListener(TcpListener&&) noexcept;
  TcpListener& operator=(TcpListener&&) noexcept;
  ~TcpListener();  // stops the thread and closes the sockets

  std::uint16_t port() const;    // the bound port (host order; chosen by the kernel if 0 was asked)
  std::size_t accepted() const;  // connections accepted so far
  // Waits until at least n connections were accepted; false on timeout.
  bool wait_accepted(std::size_t n, std::chrono::milliseconds timeout) const;

  explicit TcpListener(std::unique_ptr<lab_detail::Server> server);

 private:
  std::unique_ptr<lab_detail::Server> server_;
};

// Counts UDP datagrams received on `port` of every address of a pod, on a background thread,
// until destroyed. Move-only; all members are thread-safe.
class UdpReceiver {
 public:
  UdpReceiver(UdpReceiver&&) noexcept;
  UdpReceiver& operator=(UdpReceiver&&) noexcept;
  ~UdpReceiver();

  std::uint16_t port() const;
  std::size_t received() const;  // datagrams received so far
  // Waits until at least n datagrams were received; false on timeout.
  bool wait_received(std::size_t n, std::chrono::milliseconds timeout) const;

  explicit UdpReceiver(std::unique_ptr<lab_detail::Server> server);

 private:
  std::unique_ptr<lab_detail::Server> server_;
};

Result<TcpListener> tcp_listen(const LabPod& pod, std::uint16_t port);
Result<UdpReceiver> udp_listen(const LabPod& pod, std::uint16_t port);

// How one TCP connection attempt ended.
struct ConnectResult {
  bool connected = false;
  // 0 when connected; otherwise the socket error: ECONNREFUSED (RST, or ICMP port unreachable),
  // EHOSTUNREACH / EACCES / ENETUNREACH (other ICMP errors, or no local route), or ETIMEDOUT when
  // our own timeout elapsed first (the socket is then closed while still in SYN_SENT).
  int error = 0;
  // True when an ICMP/ICMPv6 error answered the SYN (`error` is its errno). Such an error may be
  // seen only through the socket's error queue: an ICMPv6 error that arrives while connect()
  // still holds the socket lock (typical over veth) leaves the socket retransmitting its SYN.
  bool icmp = false;
  std::uint16_t local_port = 0;  // the client's port (host order), 0 if none was bound
  std::chrono::milliseconds elapsed{0};
};

// One TCP connection attempt from `from` to dst:port: non-blocking connect, poll for at most
// `timeout`, then close (an established connection is closed at once). The outcome of the
// attempt is a value; Result errors are for the probe itself (setns, socket(), bad dst family).
Result<ConnectResult> tcp_connect(const LabPod& from, const IpAddr& dst, std::uint16_t port,
                                  std::chrono::milliseconds timeout);

// Sends `count` datagrams ("npv-probe") from one unconnected socket in `from` to dst:port.
// Returns the sender's local port. kIo (with errno) when a sendto fails, e.g. ENETUNREACH for a
// destination outside the lab (there is no default route).
Result<std::uint16_t> udp_send(const LabPod& from, const IpAddr& dst, std::uint16_t port,
                               int count = 1);

}  // namespace npv
