// Kubernetes API client: where the API server is and how to authenticate (in-cluster service
// account, or a kubeconfig file), and the HTTP requests npv makes (GET, streaming GET for
// watches, POST and PATCH of JSON) over libcurl with TLS and a bearer token or client certificate.
//
// Transport: HTTP/1.1, one connection per request (no pooling; npv makes few requests: lists
// at start and after 410, a watch per resource every few minutes, rate-limited Events).
// Cancellation: a Cancellation shared with the requests makes them return at once from another
// thread (their sockets are shut down), which is how ClusterWatcher::stop() stays prompt while a
// watch is blocked.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "npv/error.hpp"

namespace npv::kube {

// Where the API server is and how to authenticate. Plain data, produced by in_cluster_config()
// or load_kubeconfig() and checked again by KubeClient::create().
struct KubeConfig {
  std::string server;  // "https://10.96.0.1:443", no trailing slash ("http://" for tests only)
  // Server certificate verification: a CA bundle file or PEM data (data wins when both are set);
  // neither: the system's CA store. insecure_skip_tls_verify turns verification off.
  std::string ca_file;
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
  // Bearer token: token_file wins over token and is re-read whenever the file changes (the
  // kubelet rotates projected service account tokens) and after a 401.
  std::string token;
  std::string token_file;
  // Client certificate and key, PEM data or files (data wins).
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string client_cert_file;
  std::string client_key_file;
  std::string proxy_url;  // empty: libcurl's default (the *_proxy environment variables)
  std::string ns;         // default namespace: the pod's (in-cluster) or the context's; may be empty
  std::string source;     // for messages: "in-cluster config" or "kubeconfig FILE (context NAME)"
};

// Inputs of the in-cluster configuration; the defaults are the real ones, tests substitute both.
struct InClusterEnv {
  std::filesystem::path account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  // Environment lookup; empty function: ::getenv.
  std::function<std::optional<std::string>(const char* name)> getenv;
};

// The service account configuration of a pod: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT,
// account_dir/token (as token_file), account_dir/ca.crt, account_dir/namespace. Errors are
// Errc::kEnvironment (exit 3): not in a pod, or the service account is not mounted.
Result<KubeConfig> in_cluster_config(const InClusterEnv& env = {});

// A kubeconfig file (YAML or JSON): the context named `context`, else current-context. Supports
// server, certificate-authority(-data), insecure-skip-tls-verify, proxy-url, token, tokenFile,
// client-certificate(-data), client-key(-data) and the context's namespace; relative file paths
// are relative to the kubeconfig's directory. Credential plugins (exec, auth-provider), basic
// auth and tls-server-name are rejected. Errors name the file, the entry and the field, e.g.
// "FILE: users[0] (admin): user.client-key-data: not valid base64" (Errc::kBadInput or kIo).
Result<KubeConfig> load_kubeconfig(const std::filesystem::path& file, std::string_view context = {});

// Cancels requests from another thread. cancel() makes every request that uses this object
// return promptly with Transport::kCancelled (their sockets are shut down) and every later one
// fail at once; sleep_for() wakes up. There is no reset: use a new Cancellation. Thread-safe.
class Cancellation {
 public:
  void cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  // Sleeps for `d`; false when cancelled before or during the sleep.
  bool sleep_for(std::chrono::milliseconds d);

  // For the HTTP client: track a request's socket so cancel() can shut it down. add_socket()
  // returns false (and does not track) when already cancelled.
  bool add_socket(int fd);
  void remove_socket(int fd);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::set<int> sockets_;
};

// How a request ended at the transport level (the HTTP status is separate).
enum class Transport : std::uint8_t {
  kOk,           // a complete HTTP response was received (any status)
  kFailed,       // connection, TLS or protocol error, or the peer closed mid-response
  kIdleTimeout,  // no byte received for longer than RequestOptions::idle_timeout
  kTimeout,      // RequestOptions::total_timeout passed
  kCancelled,    // Cancellation::cancel()
  kAborted,      // the stream callback returned false
};
const char* to_string(Transport t);

struct HttpResponse {
  Transport transport = Transport::kFailed;
  long status = 0;    // HTTP status of the last response; 0 when none arrived
  std::string body;   // the body (for stream(): only a non-2xx body)
  std::string error;  // transport error text, empty when kOk

  bool ok() const { return transport == Transport::kOk && status >= 200 && status < 300; }
  // "HTTP 410: <message of the Status body>" or "<transport>: <error>", for logs.
  std::string describe() const;
};

struct RequestOptions {
  Cancellation* cancel = nullptr;  // not owned; must outlive the request
  // Abort when no byte (headers, body, or upload progress) moves for this long, counted from the
  // start of the request; zero: never. Checked by libcurl's progress callback (about once a
  // second while idle), so detection takes up to ~1 s longer.
  std::chrono::milliseconds idle_timeout{0};
  std::chrono::milliseconds total_timeout{0};  // zero: none
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::string user_agent = "npv";
  std::size_t max_body_bytes = 256u << 20;  // larger bodies fail (Transport::kFailed)
};

// An API client for one server. Thread-safe: every request uses its own libcurl handle and
// connection; the bearer token is shared under a mutex. Paths include the query
// ("/api/v1/pods?limit=500"), already escaped (see query_escape).
class KubeClient {
 public:
  // Checks the configuration (server URL, readable files, PEM data) and initialises libcurl.
  static Result<std::shared_ptr<KubeClient>> create(KubeConfig config, ClientOptions options = {});
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  HttpResponse get(std::string_view path, const RequestOptions& options = {});
  // Streaming GET: each piece of a 2xx body is passed to on_data as it arrives (called on the
  // calling thread; pieces split anywhere, not at line ends); returning false stops the request
  // (Transport::kAborted). A non-2xx body is collected in HttpResponse::body instead.
  HttpResponse stream(std::string_view path, const std::function<bool(std::string_view)>& on_data,
                      const RequestOptions& options = {});
  HttpResponse post(std::string_view path, std::string_view json_body, const RequestOptions& options = {});
  // content_type: "application/strategic-merge-patch+json", "application/merge-patch+json", ...
  HttpResponse patch(std::string_view path, std::string_view body, std::string_view content_type,
                     const RequestOptions& options = {});

  const KubeConfig& config() const { return config_; }
  // How often the token file was read (1 after the first request with a token file).
  std::uint64_t token_reads() const { return token_reads_.load(); }

 private:
  struct Request;
  KubeClient(KubeConfig config, ClientOptions options);
  HttpResponse perform(Request& request, const RequestOptions& options);
  HttpResponse perform_once(Request& request, const RequestOptions& options, const std::string& token);
  // The bearer token for the next request (re-reads the token file when it changed, or always
  // with force_reload); `changed` tells whether it differs from the previous one.
  std::string bearer_token(bool force_reload, bool* changed);

  KubeConfig config_;
  ClientOptions options_;
  std::mutex token_mutex_;
  std::string token_;
  struct FileStamp {
    std::int64_t mtime_ns = -1, size = -1;
    std::uint64_t ino = 0, dev = 0;
    bool operator==(const FileStamp&) const = default;
  } token_stamp_;
  std::atomic<std::uint64_t> token_reads_{0};
};

// Percent-encodes a query parameter value (RFC 3986 unreserved characters pass through).
std::string query_escape(std::string_view value);

}  // namespace npv::kube
