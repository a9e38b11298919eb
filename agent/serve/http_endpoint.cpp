// HttpEndpoint (http_endpoint.hpp): accept loop on one thread, one request per connection.
#include "npv/http_endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "npv/unique_fd.hpp"

namespace npv {

namespace {

constexpr std::size_t kMaxHeaderBytes = 8192;
constexpr int kRequestTimeoutMs = 2000;

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
  }
  return "Unknown";
}

void write_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client went away; nothing to tell anyone
    off += static_cast<std::size_t>(n);
  }
}

void respond(int fd, const HttpResponse& r, bool head) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  if (!head) out += r.body;
  write_all(fd, out);
}

// Reads the request head (until the blank line) within the time limit; empty on failure.
std::string read_head(int fd, bool& too_large) {
  std::string head;
  char buf[1024];
  while (head.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kRequestTimeoutMs) <= 0) return {};
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {};
    head.append(buf, static_cast<std::size_t>(n));
    if (head.size() > kMaxHeaderBytes) {
      too_large = true;
      return {};
    }
  }
  return head;
}

void serve_one(int fd, const HttpHandler& handler) {
  bool too_large = false;
  const std::string head = read_head(fd, too_large);
  if (too_large) return respond(fd, {431, "text/plain; charset=utf-8", "request header too large\n"}, false);
  if (head.empty()) return;
  const std::string line = head.substr(0, head.find("\r\n"));
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || line.compare(sp2 + 1, 5, "HTTP/") != 0) {
    return respond(fd, {400, "text/plain; charset=utf-8", "malformed request line\n"}, false);
  }
  const std::string method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (method != "GET" && method != "HEAD") {
    return respond(fd, {405, "text/plain; charset=utf-8", "only GET and HEAD\n"}, false);
  }
  if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
  HttpResponse r;
  try {
    r = handler(target);
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} failed: {}", target, e.what());
    r = {500, "text/plain; charset=utf-8", "internal error\n"};
  }
  respond(fd, r, method == "HEAD");
}

}  // namespace

Result<ListenAddress> ListenAddress::parse(const std::string& text) {
  auto bad = [&](const char* why) {
    return make_error(Errc::kBadInput, "listen address '" + text + "': " + why +
                                           " (expected ADDR:PORT, e.g. 0.0.0.0:9990, :9990, [::]:9990)");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return bad("port must be a number from 0 to 65535");
  }
  if (host.empty()) host = "0.0.0.0";
  if (host.front() == '[') {
    if (host.back() != ']') return bad("unterminated [IPv6] address");
    host = host.substr(1, host.size() - 2);
    in6_addr a6{};
    if (inet_pton(AF_INET6, host.c_str(), &a6) != 1) return bad("not a numeric IPv6 address");
  } else {
    in_addr a4{};
    if (inet_pton(AF_INET, host.c_str(), &a4) != 1) return bad("not a numeric IPv4 address (use [..] for IPv6)");
  }
  return ListenAddress{host, static_cast<std::uint16_t>(port)};
}

struct HttpEndpoint::Impl {
  UniqueFd listen_fd;
  UniqueFd stop_fd;  // eventfd: written once to stop the thread
  std::uint16_t port = 0;
  HttpHandler handler;
  std::thread thread;

  void run() {
    pollfd fds[2] = {{listen_fd.get(), POLLIN, 0}, {stop_fd.get(), POLLIN, 0}};
    for (;;) {
      int n = ::poll(fds, 2, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || (fds[1].revents & POLLIN)) return;
      if (!(fds[0].revents & POLLIN)) continue;
      UniqueFd conn(::accept4(listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn) serve_one(conn.get(), handler);
    }
  }

  ~Impl() {
    if (thread.joinable()) {
      std::uint64_t one = 1;
      if (::write(stop_fd.get(), &one, sizeof one) < 0) spdlog::error("http: cannot stop the server thread");
      thread.join();
    }
  }
};

Result<HttpEndpoint> HttpEndpoint::start(const ListenAddress& address, HttpHandler handler) {
  auto impl = std::make_unique<Impl>();
  const bool v6 = address.host.find(':') != std::string::npos;
  impl->listen_fd = UniqueFd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!impl->listen_fd) return make_error(Errc::kEnvironment, std::string("http: socket: ") + std::strerror(errno), errno);
  int one = 1;
  ::setsockopt(impl->listen_fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(address.port);
    inet_pton(AF_INET6, address.host.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(address.port);
    inet_pton(AF_INET, address.host.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  const std::string where = (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
  if (::bind(impl->listen_fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0 ||
      ::listen(impl->listen_fd.get(), 16) < 0) {
    return make_error(Errc::kEnvironment, "http: cannot listen on " + where + ": " + std::strerror(errno), errno);
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  ::getsockname(impl->listen_fd.get(), reinterpret_cast<sockaddr*>(&bound), &blen);
  impl->port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  impl->stop_fd = UniqueFd(::eventfd(0, EFD_CLOEXEC));
  if (!impl->stop_fd) return make_error(Errc::kEnvironment, std::string("http: eventfd: ") + std::strerror(errno), errno);
  impl->handler = std::move(handler);
  impl->thread = std::thread([p = impl.get()] { p->run(); });
  return HttpEndpoint(std::move(impl));
}

HttpEndpoint::HttpEndpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpEndpoint::HttpEndpoint(HttpEndpoint&&) noexcept = default;
HttpEndpoint& HttpEndpoint::operator=(HttpEndpoint&&) noexcept = default;
HttpEndpoint::~HttpEndpoint() = default;

std::uint16_t HttpEndpoint::port() const { return impl_->port; }

}  // namespace npv
