// A small HTTP/1.1 server for the agent's /metrics, /healthz and /readyz.
//
// One background thread accepts connections and answers them one at a time: GET and HEAD only,
// one request per connection (Connection: close), headers up to 8 KiB, 2 s to send them. It is
// meant for a scraper and kubelet probes on a node, not for the internet.
//
// Thread-safety: the handler runs on the server's thread; it must be safe to call concurrently
// with whatever else the program does. Destruction stops the thread and closes the socket.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "npv/error.hpp"

namespace npv {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called with the request path without its query string ("/metrics").
using HttpHandler = std::function<HttpResponse(const std::string& path)>;

// "ADDR:PORT": "0.0.0.0:9990", ":9990" (every IPv4 address), "127.0.0.1:0" (any free port),
// "[::]:9990", "[::1]:9990". Errc::kBadInput for anything else.
struct ListenAddress {
  std::string host;  // numeric IPv4 or IPv6, never empty after parsing
  std::uint16_t port = 0;
  static Result<ListenAddress> parse(const std::string& text);
};

class HttpEndpoint {
 public:
  // Binds and starts serving; Errc::kEnvironment when the address cannot be bound.
  static Result<HttpEndpoint> start(const ListenAddress& address, HttpHandler handler);

  HttpEndpoint(HttpEndpoint&&) noexcept;
  HttpEndpoint& operator=(HttpEndpoint&&) noexcept;
  ~HttpEndpoint();

  std::uint16_t port() const;  // the bound port (useful with port 0)

 private:
  struct Impl;
  explicit HttpEndpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace npv
