// Small socket helpers for privileged tests that make their own loopback traffic.
// Failures are reported through gtest (ADD_FAILURE) and yield an invalid Fd / port 0.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace npv::test {

// Owns a file descriptor. Move-only.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// An IPv4 or IPv6 socket address from a numeric address ("127.0.0.1", "::1", "::ffff:127.0.0.1").
struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;

  SockAddr(const std::string& ip, std::uint16_t port) {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (::inet_pton(AF_INET, ip.c_str(), &a4->sin_addr) == 1) {
      a4->sin_family = AF_INET;
      a4->sin_port = htons(port);
      len = sizeof(*a4);
    } else if (::inet_pton(AF_INET6, ip.c_str(), &a6->sin6_addr) == 1) {
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons(port);
      len = sizeof(*a6);
    } else {
      ADD_FAILURE() << "not a numeric address: " << ip;
    }
  }
  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// A socket of `type` for `family`; bound to ip:0 (an ephemeral port) unless ip is empty.
inline Fd make_socket(int family, int type, const std::string& ip = {}) {
  Fd fd(::socket(family, type | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    ADD_FAILURE() << "socket: " << std::strerror(errno);
    return fd;
  }
  if (!ip.empty()) {
    SockAddr a(ip, 0);
    if (::bind(fd.get(), a.get(), a.len) != 0) ADD_FAILURE() << "bind " << ip << ": " << std::strerror(errno);
  }
  return fd;
}

inline std::uint16_t local_port(const Fd& fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    ADD_FAILURE() << "getsockname: " << std::strerror(errno);
    return 0;
  }
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

// The kernel's socket cookie (what bpf_get_socket_cookie returns for this socket).
inline std::uint64_t socket_cookie(const Fd& fd) {
  std::uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0)
    ADD_FAILURE() << "SO_COOKIE: " << std::strerror(errno);
  return cookie;
}

// connect(); 0 or the errno.
inline int connect_to(const Fd& fd, const std::string& ip, std::uint16_t port) {
  SockAddr a(ip, port);
  return ::connect(fd.get(), a.get(), a.len) == 0 ? 0 : errno;
}

// The inode of the calling thread's network namespace (what npv_event::netns holds).
inline std::uint32_t netns_inode() {
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) != 0) ADD_FAILURE() << "stat netns: " << std::strerror(errno);
  return static_cast<std::uint32_t>(st.st_ino);
}

// The 16 address bytes of an npv_event for a numeric address (IPv4 in the first 4, rest zero).
inline std::string event_addr(const std::string& ip) {
  unsigned char bytes[16] = {};
  if (::inet_pton(AF_INET, ip.c_str(), bytes) != 1 && ::inet_pton(AF_INET6, ip.c_str(), bytes) != 1)
    ADD_FAILURE() << "not a numeric address: " << ip;
  return std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes));
}

}  // namespace npv::test
