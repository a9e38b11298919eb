// Probes that run inside a pod's network namespace: TCP/UDP servers and clients.
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>

#include "npv/unique_fd.hpp"
#include "npv/netns_lab.hpp"

namespace npv {


namespace lab_detail {

// Listening sockets (one per address family) served by a background thread that counts accepted
// connections (TCP) or received datagrams (UDP). Stopped and joined by the destructor.
struct Server {
  int type = SOCK_STREAM;
  std::uint16_t port = 0;
  std::vector<UniqueFd> sockets;
  UniqueFd wake;  // eventfd; written once to stop the thread
  mutable std::mutex mu;
  mutable std::condition_variable changed;
  std::size_t count = 0;  // guarded by mu
  std::thread thread;

  ~Server() {
    if (thread.joinable()) {
      std::uint64_t one = 1;
      if (write(wake.get(), &one, sizeof(one)) != sizeof(one)) {
        // An eventfd write only fails on counter overflow, which a single write cannot cause.
      }
      thread.join();
    }
  }

  // Drains every ready socket; returns how many connections/datagrams were seen.
  std::size_t drain(int fd) const {
    std::size_t seen = 0;
    for (;;) {
      if (type == SOCK_STREAM) {
        int conn = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) break;
        close(conn);
      } else {
        char buf[2048];
        if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0) break;
      }
      ++seen;
    }
    return seen;
  }

  void run() {
    std::vector<pollfd> fds;
    for (const auto& s : sockets) fds.push_back({s.get(), POLLIN, 0});
    fds.push_back({wake.get(), POLLIN, 0});
    for (;;) {
      if (poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds.back().revents) return;
      std::size_t seen = 0;
      for (std::size_t i = 0; i + 1 < fds.size(); ++i) {
        if (fds[i].revents) seen += drain(fds[i].fd);
      }
      if (seen) {
        std::lock_guard lock(mu);
        count += seen;
        changed.notify_all();
      }
    }
  }

  std::size_t current() const {
    std::lock_guard lock(mu);
    return count;
  }

  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu);
    return changed.wait_for(lock, timeout, [&] { return count >= n; });
  }
};

}  // namespace lab_detail

namespace {

using lab_detail::Server;

Error sys_error(Errc code, const std::string& what, int e) {
  return Error{code, what + ": " + std::strerror(e), e};
}

// A socket of `family` bound to the wildcard address and `port`, listening if TCP.
Result<UniqueFd> bound_socket(int family, int type, std::uint16_t port) {
  UniqueFd fd(socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return std::unexpected(sys_error(Errc::kEnvironment, "socket", errno));
  int one = 1;
  if (type == SOCK_STREAM) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (family == AF_INET6) {
    // One socket per family, so the kernel reports IPv4 flows as AF_INET (no v4-mapped addresses).
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    auto& a6 = reinterpret_cast<sockaddr_in6&>(addr);
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_any;
    a6.sin6_port = htons(port);
    len = sizeof(a6);
  } else {
    auto& a4 = reinterpret_cast<sockaddr_in&>(addr);
    a4.sin_family = AF_INET;
    a4.sin_addr.s_addr = htonl(INADDR_ANY);
    a4.sin_port = htons(port);
    len = sizeof(a4);
  }
  const std::string where = std::string(type == SOCK_STREAM ? "TCP" : "UDP") + " port " + std::to_string(port);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return std::unexpected(sys_error(Errc::kEnvironment, "bind " + where, errno));
  }
  if (type == SOCK_STREAM && listen(fd.get(), SOMAXCONN) != 0) {
    return std::unexpected(sys_error(Errc::kEnvironment, "listen " + where, errno));
  }
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6&>(addr).sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in&>(addr).sin_port);
}

Result<std::unique_ptr<Server>> start_server(const LabPod& pod, int type, std::uint16_t port) {
  auto server = std::make_unique<Server>();
  server->type = type;
  auto opened = run_in(pod, [&]() -> Result<void> {
    auto v4 = bound_socket(AF_INET, type, port);
    if (!v4) return std::unexpected(v4.error());
    server->port = local_port(v4->get());
    server->sockets.push_back(std::move(*v4));
    if (pod.v6) {
      auto v6 = bound_socket(AF_INET6, type, server->port);
      if (!v6) return std::unexpected(v6.error());
      server->sockets.push_back(std::move(*v6));
    }
    return {};
  });
  if (!opened) {
    Error error = opened.error();
    error.message = "pod " + pod.name + ": " + error.message;
    return std::unexpected(std::move(error));
  }
  server->wake = UniqueFd(eventfd(0, EFD_CLOEXEC));
  if (!server->wake) return std::unexpected(sys_error(Errc::kEnvironment, "eventfd", errno));
  try {
    server->thread = std::thread([s = server.get()] { s->run(); });
  } catch (const std::system_error& e) {
    return make_error(Errc::kEnvironment, std::string("cannot start a thread: ") + e.what(), e.code().value());
  }
  return server;
}

// dst:port as a sockaddr; false if the family is not 4 or 6.
bool to_sockaddr(const IpAddr& dst, std::uint16_t port, sockaddr_storage& addr, socklen_t& len) {
  addr = {};
  if (dst.family == 4) {
    auto& a4 = reinterpret_cast<sockaddr_in&>(addr);
    a4.sin_family = AF_INET;
    a4.sin_port = htons(port);
    std::memcpy(&a4.sin_addr, dst.bytes.data(), 4);
    len = sizeof(a4);
    return true;
  }
  if (dst.family == 6) {
    auto& a6 = reinterpret_cast<sockaddr_in6&>(addr);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(port);
    std::memcpy(&a6.sin6_addr, dst.bytes.data(), 16);
    len = sizeof(a6);
    return true;
  }
  return false;
}

// Asks the kernel to queue ICMP errors for the socket (IP_RECVERR / IPV6_RECVERR).
void enable_recverr(int fd, int family) {
  int one = 1;
  if (family == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
  } else {
    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
  }
}

// The errno of the first ICMP/ICMPv6 error on the socket's error queue, if any (non-blocking).
std::optional<int> queued_icmp_error(int fd) {
  char data[256];
  char control[512];
  iovec iov{data, sizeof(data)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return std::nullopt;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
    bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
    if (!v4 && !v6) continue;
    sock_extended_err err;
    std::memcpy(&err, CMSG_DATA(c), sizeof(err));
    if (err.ee_origin == SO_EE_ORIGIN_ICMP || err.ee_origin == SO_EE_ORIGIN_ICMP6) {
      return static_cast<int>(err.ee_errno);
    }
  }
  return std::nullopt;
}

}  // namespace

TcpListener::TcpListener(std::unique_ptr<Server> server) : server_(std::move(server)) {}
TcpListener::TcpListener(TcpListener&&) noexcept = default;
TcpListener& TcpListener::operator=(TcpListener&&) noexcept = default;
TcpListener::~TcpListener() = default;
std::uint16_t TcpListener::port() const { return server_ ? server_->port : 0; }
std::size_t TcpListener::accepted() const { return server_ ? server_->current() : 0; }
bool TcpListener::wait_accepted(std::size_t n, std::chrono::milliseconds timeout) const {
  return server_ && server_->wait_for(n, timeout);
}

UdpReceiver::UdpReceiver(std::unique_ptr<Server> server) : server_(std::move(server)) {}
UdpReceiver::UdpReceiver(UdpReceiver&&) noexcept = default;
UdpReceiver& UdpReceiver::operator=(UdpReceiver&&) noexcept = default;
UdpReceiver::~UdpReceiver() = default;
std::uint16_t UdpReceiver::port() const { return server_ ? server_->port : 0; }
std::size_t UdpReceiver::received() const { return server_ ? server_->current() : 0; }
bool UdpReceiver::wait_received(std::size_t n, std::chrono::milliseconds timeout) const {
  return server_ && server_->wait_for(n, timeout);
}

Result<TcpListener> tcp_listen(const LabPod& pod, std::uint16_t port) {
  auto server = start_server(pod, SOCK_STREAM, port);
  if (!server) return std::unexpected(server.error());
  return TcpListener(std::move(*server));
}

Result<UdpReceiver> udp_listen(const LabPod& pod, std::uint16_t port) {
  auto server = start_server(pod, SOCK_DGRAM, port);
  if (!server) return std::unexpected(server.error());
  return UdpReceiver(std::move(*server));
}

Result<ConnectResult> tcp_connect(const LabPod& from, const IpAddr& dst, std::uint16_t port,
                                  std::chrono::milliseconds timeout) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!to_sockaddr(dst, port, addr, len)) return make_error(Errc::kBadInput, "tcp_connect: bad address family");
  return run_in(from, [&]() -> Result<ConnectResult> {
    UniqueFd fd(socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return std::unexpected(sys_error(Errc::kEnvironment, "socket", errno));
    enable_recverr(fd.get(), addr.ss_family);
    ConnectResult result;
    const auto start = std::chrono::steady_clock::now();
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0) {
      result.connected = true;
    } else if (errno != EINPROGRESS) {
      result.error = errno;  // e.g. ENETUNREACH: no route (the lab has no default route)
    } else {
      pollfd pfd{fd.get(), POLLOUT, 0};
      int ready = 0;
      for (;;) {
        auto left = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        ready = poll(&pfd, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
        if (ready >= 0 || errno != EINTR) break;
      }
      if (ready < 0) {
        result.error = errno;
      } else {
        int so_error = 0;
        socklen_t so_len = sizeof(so_error);
        getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &so_len);
        // An ICMP error that arrived while connect() held the socket lock is only queued (the
        // kernel keeps retransmitting the SYN); it still is the attempt's outcome.
        std::optional<int> icmp = queued_icmp_error(fd.get());
        result.icmp = icmp.has_value();
        if (so_error != 0) {
          result.error = so_error;
        } else if (icmp) {
          result.error = *icmp;
        } else if (ready == 0) {
          result.error = ETIMEDOUT;  // ours: the kernel would still be retransmitting the SYN
        } else {
          result.connected = true;
        }
      }
    }
    result.local_port = local_port(fd.get());
    result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return result;
  });
}

Result<std::uint16_t> udp_send(const LabPod& from, const IpAddr& dst, std::uint16_t port, int count) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!to_sockaddr(dst, port, addr, len)) return make_error(Errc::kBadInput, "udp_send: bad address family");
  return run_in(from, [&]() -> Result<std::uint16_t> {
    UniqueFd fd(socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return std::unexpected(sys_error(Errc::kEnvironment, "socket", errno));
    static constexpr char kPayload[] = "npv-probe";
    for (int i = 0; i < count; ++i) {
      if (sendto(fd.get(), kPayload, sizeof(kPayload) - 1, 0, reinterpret_cast<sockaddr*>(&addr), len) < 0) {
        return std::unexpected(sys_error(Errc::kIo, "pod " + from.name + ": sendto " + dst.to_string() + " port " +
                                                        std::to_string(port), errno));
      }
    }
    return local_port(fd.get());
  });
}

}  // namespace npv
