#include "support/fake_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace npv::test {

namespace {
// OpenSSL writes to the socket with write(), not send(MSG_NOSIGNAL): a client that hangs up in
// the middle of a TLS exchange (a test rejecting the server's certificate does) would kill the
// whole test process with SIGPIPE. The error is handled where the write fails instead.
[[maybe_unused]] const bool kSigpipeIgnored = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;
}  // namespace

const char* http_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::string url_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::strtol(std::string(text.substr(i + 1, 2)).c_str(), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// ---- HttpConnection -----------------------------------------------------------------------------

HttpConnection::~HttpConnection() {
  if (ssl_) {
    if (!closed_) SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }
}

long HttpConnection::read_some(char* buf, std::size_t n) {
  if (closed_) return -1;
  if (ssl_) {
    int r = SSL_read(ssl_, buf, static_cast<int>(n));
    return r > 0 ? r : -1;
  }
  ssize_t r = ::recv(fd_, buf, n, 0);
  return r > 0 ? r : -1;
}

bool HttpConnection::write_all(std::string_view data) {
  while (!data.empty() && !closed_) {
    long n = ssl_ ? SSL_write(ssl_, data.data(), static_cast<int>(data.size()))
                  : ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return !closed_;
}

std::optional<HttpRequest> HttpConnection::read_request() {
  std::size_t header_end;
  char buf[16384];
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (buffer_.size() > (1u << 20)) return std::nullopt;
    long n = read_some(buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
  HttpRequest req;
  std::string_view head(buffer_.data(), header_end);
  auto line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  auto sp1 = request_line.find(' ');
  auto sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return std::nullopt;
  req.method = std::string(request_line.substr(0, sp1));
  req.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
  std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!rest.empty()) {
    auto end = rest.find("\r\n");
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    req.headers[name] = std::string(value);
  }
  buffer_.erase(0, header_end + 4);
  std::size_t length = 0;
  if (auto it = req.headers.find("content-length"); it != req.headers.end()) length = std::stoul(it->second);
  while (buffer_.size() < length) {
    long n = read_some(buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
  req.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  auto q = req.target.find('?');
  req.path = url_decode(std::string_view(req.target).substr(0, q));
  if (q != std::string::npos) {
    std::string_view query = std::string_view(req.target).substr(q + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      auto eq = pair.find('=');
      req.query[url_decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
    }
  }
  return req;
}

bool HttpConnection::send_response(int status, std::string_view body, std::string_view content_type) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + http_reason(status) + "\r\n";
  head += "Content-Type: " + std::string(content_type) + "\r\n";
  head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  return write_all(head) && write_all(body);
}

bool HttpConnection::start_chunked(int status, std::string_view content_type) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + http_reason(status) + "\r\n";
  head += "Content-Type: " + std::string(content_type) + "\r\nTransfer-Encoding: chunked\r\n\r\n";
  return write_all(head);
}

bool HttpConnection::send_chunk(std::string_view data) {
  if (data.empty()) return true;  // an empty chunk would end the body
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return write_all(size) && write_all(data) && write_all("\r\n");
}

bool HttpConnection::end_chunked() { return write_all("0\r\n\r\n"); }

bool HttpConnection::peer_closed() const {
  pollfd p{fd_, POLLRDHUP, 0};
  return closed_ || (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0);
}

void HttpConnection::abort() {
  closed_ = true;
  ::shutdown(fd_, SHUT_RDWR);
}

std::string HttpConnection::peer_cn() const {
  if (!ssl_) return "";
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (!cert) return "";
  std::string cn;
  if (SSL_get_verify_result(ssl_) == X509_V_OK) {
    char name[256] = {0};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name) > 0) cn = name;
  }
  X509_free(cert);
  return cn;
}

// ---- HttpListener -------------------------------------------------------------------------------

HttpListener::HttpListener(SSL_CTX* tls, Handler handler) : tls_(tls), handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0) {
    std::perror("fake_http: bind/listen");
    std::abort();
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { accept_loop(); });
}

HttpListener::~HttpListener() {
  stop();
  if (tls_) SSL_CTX_free(tls_);
}

void HttpListener::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  accept_thread_.join();
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

void HttpListener::accept_loop() {
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    std::lock_guard lock(mutex_);
    if (stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    open_fds_.insert(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void HttpListener::serve(int fd) {
  SSL* ssl = nullptr;
  bool ok = true;
  if (tls_) {
    ssl = SSL_new(tls_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) <= 0) {  // e.g. the client rejected our certificate
      ERR_clear_error();
      ok = false;
    }
  }
  {
    HttpConnection conn(fd, ok ? ssl : nullptr);
    if (ok) handler_(conn);
    if (!ok && ssl) SSL_free(ssl);
  }
  std::lock_guard lock(mutex_);
  open_fds_.erase(fd);
  ::close(fd);
}

SSL_CTX* make_server_tls(const std::string& cert_pem, const std::string& key_pem, const std::string& client_ca_pem) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  auto load_cert = [](const std::string& pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return cert;
  };
  X509* cert = load_cert(cert_pem);
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!cert || !key || SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
    ERR_print_errors_fp(stderr);
    std::abort();
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!client_ca_pem.empty()) {
    X509* ca = load_cert(client_ca_pem);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
    X509_free(ca);
    // Request a certificate but accept connections without one (tokens authenticate too); an
    // unverifiable certificate fails the handshake.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

}  // namespace npv::test
