// Test helper: a Kubernetes API server, faithful to the protocol npv's client uses, on
// 127.0.0.1 (HTTP, or HTTPS with FakeApiServerOptions::tls).
//
// Resources: namespaces, pods, services (/api/v1), networkpolicies (/apis/networking.k8s.io/v1),
// endpointslices (/apis/discovery.k8s.io/v1), and events (POST/PATCH under
// /api/v1/namespaces/NS/events). Objects live in memory with one global resourceVersion counter,
// as etcd's revision.
//
//  - LIST: a typed list (PodList, ...) with metadata.resourceVersion; items without kind and
//    apiVersion, as the API server writes them; `limit`/`continue` pagination over a snapshot
//    taken at the first page; an expired continue token is a 410 Status with reason Expired.
//  - WATCH (?watch=1): Transfer-Encoding: chunked, one JSON event per line, each split over two
//    chunks (so clients must reassemble lines). From resourceVersion R: every change after R, then
//    live changes; R older than the retained history (see compact()) is refused with 410, as an
//    HTTP status or as an ERROR event in a 200 stream (options.expired_watch). Ends normally after
//    timeoutSeconds. BOOKMARK events only when allowWatchBookmarks=true.
//  - Auth: with required_token set, a request needs "Authorization: Bearer <token>" or a client
//    certificate that verifies against client_ca_pem (TLS); else 401.
//  - Every request is recorded (method, path, decoded query, verb, resource, credentials, status).
//
// Thread-safe: tests mutate the store and inject faults while client threads are connected.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/fake_http.hpp"

namespace npv::test {

struct RecordedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::string resource;  // "pods", ..., "events"; empty when the path is unknown
  std::string verb;      // "list", "watch", "create", "patch" or "other"
  std::string token;     // bearer token sent, "" if none
  std::string client_cn; // verified client certificate CN, "" if none
  std::string content_type;
  std::string body;
  int status = 0;  // status answered (200 for a watch stream), 0 when never answered
};

enum class ExpiredWatch { kHttp410, kErrorEvent };

struct FakeApiServerOptions {
  bool tls = false;
  std::string server_cert_pem, server_key_pem;  // tls
  std::string client_ca_pem;                    // tls: verify client certificates against this CA
  std::string required_token;                   // see "Auth" above; empty: no authentication
  ExpiredWatch expired_watch = ExpiredWatch::kErrorEvent;  // what the API server usually does
};

class FakeApiServer {
 public:
  explicit FakeApiServer(FakeApiServerOptions options = {});
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  std::string url() const;  // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT"

  // ---- Store. `resource` is "namespaces", "pods", "networkpolicies", "services" or "endpointslices".
  // Creates or replaces the object with its metadata.namespace/name (ADDED or MODIFIED to
  // watchers). Sets kind and apiVersion, metadata.uid (kept across updates), resourceVersion and
  // creationTimestamp (when absent). Returns the new resourceVersion.
  std::string apply(const std::string& resource, nlohmann::json object);
  // Deletes it (DELETED to watchers); false when absent.
  bool remove(const std::string& resource, const std::string& ns, const std::string& name);
  std::string resource_version() const;
  // Current objects of a resource, sorted by namespace/name.
  std::vector<nlohmann::json> objects(const std::string& resource) const;

  // ---- Faults, each acting on the watches open at the time of the call.
  // Forgets the history of `resource` (as etcd compaction does): a watch from any resourceVersion
  // handed out so far is refused with 410. Open watches of it end normally, so clients re-watch.
  void compact(const std::string& resource);
  void end_watches(const std::string& resource);     // end normally, as at timeoutSeconds
  void send_bookmark(const std::string& resource);   // BOOKMARK at the current resourceVersion
  // An ERROR event carrying a 410 Expired Status, then the end of the stream; compacts first.
  void send_error_gone(const std::string& resource);
  void drop_watches(const std::string& resource);    // half an event line, then the connection is cut
  void send_malformed(const std::string& resource);  // a line that is not JSON; the stream stays open
  // Stalled: requests are read but never answered, open watches go silent (no bytes at all).
  // Lifting it closes the stalled requests without an answer.
  void set_stalled(bool stalled);
  // LIST of `resource` answers `status` (with a Status body) until called with 0.
  void fail_lists(const std::string& resource, int status);
  // The next `n` LIST requests that carry a continue token get 410 Expired (the token expired).
  void expire_next_continues(int n);
  // The next `n` Event POSTs/PATCHes answer `status` (with a Status body) instead.
  void fail_next_events(int status, int n);
  bool remove_event(const std::string& ns, const std::string& name);
  void set_required_token(std::string token);

  // ---- Observations
  std::vector<RecordedRequest> requests() const;
  int count(const std::string& resource, const std::string& verb) const;
  int open_watches(const std::string& resource) const;
  std::vector<nlohmann::json> events() const;  // Event objects as stored, by name

 private:
  struct Resource;
  struct ContinueState;

  void handle_connection(HttpConnection& conn);
  bool handle(HttpConnection& conn, const HttpRequest& req);
  // These record the status (before answering, so a client never sees an unrecorded answer).
  void serve_list(HttpConnection& conn, const HttpRequest& req, const std::string& resource, std::size_t record);
  void serve_watch(HttpConnection& conn, const HttpRequest& req, const std::string& resource, std::size_t record);
  void serve_events(HttpConnection& conn, const HttpRequest& req, const std::string& ns, const std::string& name,
                    std::size_t record);
  std::size_t record(RecordedRequest r);
  void set_status(std::size_t record, int status);
  void compact_locked(Resource& res);
  Resource& resource_locked(const std::string& name);
  const Resource& resource_locked(const std::string& name) const;

  FakeApiServerOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;  // store changes, faults, stop
  bool stopping_ = false;
  bool stalled_ = false;
  std::uint64_t stall_epoch_ = 0;
  std::uint64_t rv_ = 1000;
  std::uint64_t next_uid_ = 1;
  std::map<std::string, std::unique_ptr<Resource>> resources_;
  std::map<std::string, ContinueState> continues_;  // token -> snapshot
  std::uint64_t continue_epoch_ = 0;
  int expire_continues_ = 0;
  int fail_events_ = 0, fail_events_status_ = 0;
  std::map<std::string, nlohmann::json> events_;  // "ns/name" -> Event
  std::vector<RecordedRequest> requests_;
  std::unique_ptr<HttpListener> listener_;  // last: destroyed (threads joined) first
};

// Polls `done` every 10 ms until it returns true or `timeout` passes; returns its last value.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace npv::test
