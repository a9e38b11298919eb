// Test helper: a minimal HTTP/1.1 server for FakeApiServer: a listener on 127.0.0.1 (port chosen
// by the kernel), one thread per connection, optional TLS (OpenSSL) with optional client
// certificates. Requests are read with Content-Length bodies; responses are written with
// Content-Length or Transfer-Encoding: chunked. Not a general server: enough of the protocol
// for libcurl and the Kubernetes API's shapes.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace npv::test {

struct HttpRequest {
  std::string method;
  std::string target;  // as sent: path and query
  std::string path;    // decoded path, without the query
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// One accepted connection. Used by one thread at a time (its connection thread).
class HttpConnection {
 public:
  HttpConnection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // The next request; nullopt on end of stream, error or a malformed request.
  std::optional<HttpRequest> read_request();
  bool send_response(int status, std::string_view body, std::string_view content_type = "application/json");
  bool start_chunked(int status, std::string_view content_type = "application/json");
  bool send_chunk(std::string_view data);
  bool end_chunked();
  // True when the peer closed its end (checked without blocking).
  bool peer_closed() const;
  // Cuts the connection: no chunk terminator, no TLS close_notify (the peer sees a broken stream).
  void abort();
  // The CN of a client certificate that verified against the server's client CA, else "".
  std::string peer_cn() const;

 private:
  bool write_all(std::string_view data);
  long read_some(char* buf, std::size_t n);
  int fd_;
  SSL* ssl_;
  bool closed_ = false;
  std::string buffer_;
};

class HttpListener {
 public:
  using Handler = std::function<void(HttpConnection&)>;  // serves one connection, then returns
  // `tls` may be null (plain HTTP); the listener takes ownership.
  HttpListener(SSL_CTX* tls, Handler handler);
  ~HttpListener();
  int port() const { return port_; }
  // Stops accepting, shuts down open connections (waking their threads) and joins them.
  void stop();

 private:
  void accept_loop();
  void serve(int fd);
  SSL_CTX* tls_;
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;
  std::mutex mutex_;
  bool stopping_ = false;
  std::set<int> open_fds_;
  std::vector<std::thread> threads_;
};

// A TLS server context from PEM data; with client_ca_pem, client certificates are requested and
// verified against it (but not required: a bearer token may authenticate instead).
SSL_CTX* make_server_tls(const std::string& cert_pem, const std::string& key_pem, const std::string& client_ca_pem);

// Percent-decoding of a path or query component ('+' stays '+', as Kubernetes clients escape it).
std::string url_decode(std::string_view text);
const char* http_reason(int status);

}  // namespace npv::test
