// KubeClient over libcurl easy handles (kube_client.hpp).
#include <curl/curl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "npv/kube_client.hpp"
#include "kube/text_file.hpp"

namespace npv::kube {

using Clock = std::chrono::steady_clock;

// ---- Responses ----------------------------------------------------------------------------------

const char* to_string(Transport t) {
  switch (t) {
    case Transport::kOk: return "ok";
    case Transport::kFailed: return "failed";
    case Transport::kIdleTimeout: return "idle timeout";
    case Transport::kTimeout: return "timeout";
    case Transport::kCancelled: return "cancelled";
    case Transport::kAborted: return "aborted";
  }
  return "?";
}

std::string HttpResponse::describe() const {
  if (transport != Transport::kOk) return std::string(to_string(transport)) + (error.empty() ? "" : ": " + error);
  std::string out = "HTTP " + std::to_string(status);
  // API errors carry a Status object; its message says what went wrong.
  auto status_json = nlohmann::json::parse(body, nullptr, false);
  if (status_json.is_object() && status_json.contains("message") && status_json["message"].is_string()) {
    out += ": " + status_json["message"].get<std::string>();
  } else if (!body.empty() && !ok()) {
    out += ": " + body.substr(0, 200);
  }
  return out;
}

std::string query_escape(std::string_view value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// ---- Requests -----------------------------------------------------------------------------------

struct KubeClient::Request {
  const char* method = "GET";
  std::string_view path;
  std::string_view body;
  std::string_view content_type;
  const std::function<bool(std::string_view)>* on_data = nullptr;  // streaming GET only
};

namespace {

std::once_flag g_curl_init;

struct CurlHandle {
  CURL* h = curl_easy_init();
  ~CurlHandle() {
    if (h) curl_easy_cleanup(h);
  }
};

struct HeaderList {
  curl_slist* list = nullptr;
  void add(const std::string& line) { list = curl_slist_append(list, line.c_str()); }
  ~HeaderList() { curl_slist_free_all(list); }
};

// Per-request state shared with libcurl's callbacks (all run on the requesting thread).
struct Transfer {
  const std::function<bool(std::string_view)>* on_data = nullptr;
  Cancellation* cancel = nullptr;
  std::chrono::milliseconds idle_timeout{0};
  std::size_t max_body = 0;
  long status = 0;
  std::string body;
  Clock::time_point last_activity = Clock::now();
  curl_off_t last_upload = 0;
  bool idle_expired = false;
  bool aborted = false;   // on_data returned false
  bool too_large = false;
};

bool is_success(long status) { return status >= 200 && status < 300; }

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  t->last_activity = Clock::now();
  if (line.starts_with("HTTP/")) {  // a status line; the last one wins (after 100 Continue)
    auto space = line.find(' ');
    if (space != std::string_view::npos) t->status = std::strtol(std::string(line.substr(space + 1, 3)).c_str(), nullptr, 10);
  }
  return size * n;
}

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view piece(data, size * n);
  t->last_activity = Clock::now();
  if (t->on_data && is_success(t->status)) {
    if (!(*t->on_data)(piece)) {
      t->aborted = true;
      return 0;
    }
    return piece.size();
  }
  if (t->body.size() + piece.size() > t->max_body) {
    t->too_large = true;
    return 0;
  }
  t->body.append(piece);
  return piece.size();
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  if (t->cancel && t->cancel->cancelled()) return 1;
  auto now = Clock::now();
  if (ulnow != t->last_upload) {
    t->last_upload = ulnow;
    t->last_activity = now;
  }
  if (t->idle_timeout.count() > 0 && now - t->last_activity > t->idle_timeout) {
    t->idle_expired = true;
    return 1;
  }
  return 0;
}

curl_socket_t on_open_socket(void* user, curlsocktype, curl_sockaddr* addr) {
  auto* t = static_cast<Transfer*>(user);
  int fd = ::socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
  if (fd < 0) return CURL_SOCKET_BAD;
  if (t->cancel && !t->cancel->add_socket(fd)) {
    ::close(fd);
    return CURL_SOCKET_BAD;
  }
  return fd;
}

int on_close_socket(void* user, curl_socket_t fd) {
  auto* t = static_cast<Transfer*>(user);
  if (t->cancel) t->cancel->remove_socket(fd);
  return ::close(fd);
}

void set_blob(CURL* h, CURLoption option, const std::string& data) {
  curl_blob blob{const_cast<char*>(data.data()), data.size(), CURL_BLOB_COPY};
  curl_easy_setopt(h, option, &blob);
}

}  // namespace

Result<std::shared_ptr<KubeClient>> KubeClient::create(KubeConfig config, ClientOptions options) {
  const std::string ctx = config.source.empty() ? std::string("Kubernetes client: ") : config.source + ": ";
  if (!config.server.starts_with("https://") && !config.server.starts_with("http://")) {
    return make_error(Errc::kBadInput, ctx + "server: expected an https:// URL, got \"" + config.server + "\"");
  }
  while (config.server.ends_with('/')) config.server.pop_back();
  if (!config.ca_pem.empty() && config.ca_pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return make_error(Errc::kBadInput, ctx + "certificate authority data holds no PEM certificate");
  }
  for (const auto* file : {&config.ca_file, &config.client_cert_file, &config.client_key_file, &config.token_file}) {
    if (file->empty()) continue;
    if (auto r = read_text_file(*file); !r) return make_error(r.error().code, ctx + r.error().message, r.error().sys_errno);
  }
  bool has_cert = !config.client_cert_pem.empty() || !config.client_cert_file.empty();
  bool has_key = !config.client_key_pem.empty() || !config.client_key_file.empty();
  if (has_cert != has_key) return make_error(Errc::kBadInput, ctx + "a client certificate needs both a certificate and a key");
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  auto client = std::shared_ptr<KubeClient>(new KubeClient(std::move(config), std::move(options)));
  client->token_ = client->config_.token;
  return client;
}

KubeClient::KubeClient(KubeConfig config, ClientOptions options)
    : config_(std::move(config)), options_(std::move(options)) {}

KubeClient::~KubeClient() = default;

std::string KubeClient::bearer_token(bool force_reload, bool* changed) {
  std::lock_guard lock(token_mutex_);
  if (changed) *changed = false;
  if (config_.token_file.empty()) return token_;
  struct stat st {};
  FileStamp stamp;
  if (::stat(config_.token_file.c_str(), &st) == 0) {
    stamp = {static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
             static_cast<std::int64_t>(st.st_size), static_cast<std::uint64_t>(st.st_ino),
             static_cast<std::uint64_t>(st.st_dev)};
  }
  if (!force_reload && stamp == token_stamp_ && token_reads_.load() > 0) return token_;
  auto text = read_text_file(config_.token_file);
  if (!text) {  // keep the last good token; the request will tell whether it still works
    spdlog::warn("{}: token file: {}", config_.source, text.error().message);
    return token_;
  }
  std::string fresh = trim(std::move(*text));
  if (fresh.find_first_of("\r\n") != std::string::npos) {  // would break the header
    spdlog::warn("{}: token file {}: the token spans several lines; keeping the previous one", config_.source,
                 config_.token_file);
    return token_;
  }
  token_stamp_ = stamp;
  token_reads_.fetch_add(1);
  if (changed) *changed = fresh != token_;
  token_ = std::move(fresh);
  return token_;
}

HttpResponse KubeClient::perform(Request& request, const RequestOptions& options) {
  HttpResponse r = perform_once(request, options, bearer_token(false, nullptr));
  // A 401 may mean the token rotated between our stat() and the server's check: re-read once.
  if (r.transport == Transport::kOk && r.status == 401 && !config_.token_file.empty()) {
    bool changed = false;
    std::string token = bearer_token(true, &changed);
    if (changed) r = perform_once(request, options, token);
  }
  return r;
}

HttpResponse KubeClient::perform_once(Request& request, const RequestOptions& options, const std::string& token) {
  HttpResponse out;
  if (options.cancel && options.cancel->cancelled()) {
    out.transport = Transport::kCancelled;
    return out;
  }
  CurlHandle curl;
  if (!curl.h) {
    out.error = "curl_easy_init failed";
    return out;
  }
  CURL* h = curl.h;
  Transfer t;
  t.on_data = request.on_data;
  t.cancel = options.cancel;
  t.idle_timeout = options.idle_timeout;
  t.max_body = options_.max_body_bytes;
  char error_buffer[CURL_ERROR_SIZE] = {0};

  const std::string url = config_.server + std::string(request.path);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  if (options.total_timeout.count() > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // gzip for large lists, if the server offers it
  if (!config_.proxy_url.empty()) curl_easy_setopt(h, CURLOPT_PROXY, config_.proxy_url.c_str());

  HeaderList headers;
  headers.add("Accept: application/json");
  headers.add("Expect:");  // no 100-continue round trip for POST/PATCH bodies
  if (!token.empty()) headers.add("Authorization: Bearer " + token);
  if (!request.content_type.empty()) headers.add("Content-Type: " + std::string(request.content_type));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.list);
  if (std::string_view(request.method) != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }

  if (config_.insecure_skip_tls_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!config_.ca_pem.empty()) {
    set_blob(h, CURLOPT_CAINFO_BLOB, config_.ca_pem);
  } else if (!config_.ca_file.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, config_.ca_file.c_str());
  }
  if (!config_.client_cert_pem.empty()) {
    set_blob(h, CURLOPT_SSLCERT_BLOB, config_.client_cert_pem);
  } else if (!config_.client_cert_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, config_.client_cert_file.c_str());
  }
  if (!config_.client_key_pem.empty()) {
    set_blob(h, CURLOPT_SSLKEY_BLOB, config_.client_key_pem);
  } else if (!config_.client_key_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLKEY, config_.client_key_file.c_str());
  }
  curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");

  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &t);
  curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
  curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, &t);

  CURLcode rc = curl_easy_perform(h);
  out.status = t.status;
  out.body = std::move(t.body);
  if (rc == CURLE_OK) {
    out.transport = Transport::kOk;
  } else if (options.cancel && options.cancel->cancelled()) {
    out.transport = Transport::kCancelled;
  } else if (t.idle_expired) {
    out.transport = Transport::kIdleTimeout;
    out.error = "no data for " + std::to_string(options.idle_timeout.count()) + " ms";
  } else if (t.aborted) {
    out.transport = Transport::kAborted;
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    out.transport = Transport::kTimeout;
  } else if (t.too_large) {
    out.error = "response body larger than " + std::to_string(options_.max_body_bytes) + " bytes";
  }
  if (rc != CURLE_OK && out.error.empty()) {
    out.error = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
  }
  return out;
}

HttpResponse KubeClient::get(std::string_view path, const RequestOptions& options) {
  Request r;
  r.path = path;
  return perform(r, options);
}

HttpResponse KubeClient::stream(std::string_view path, const std::function<bool(std::string_view)>& on_data,
                                const RequestOptions& options) {
  Request r;
  r.path = path;
  r.on_data = &on_data;
  return perform(r, options);
}

HttpResponse KubeClient::post(std::string_view path, std::string_view json_body, const RequestOptions& options) {
  Request r;
  r.method = "POST";
  r.path = path;
  r.body = json_body;
  r.content_type = "application/json";
  return perform(r, options);
}

HttpResponse KubeClient::patch(std::string_view path, std::string_view body, std::string_view content_type,
                               const RequestOptions& options) {
  Request r;
  r.method = "PATCH";
  r.path = path;
  r.body = body;
  r.content_type = content_type;
  return perform(r, options);
}

}  // namespace npv::kube
