// FakeApiServer: store, routing, LIST and Events. Watches are in fake_api_watch.cpp.
#include "support/fake_api_server.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "support/fake_api_internal.hpp"

namespace npv::test {

using nlohmann::json;

namespace {

std::string object_key(const json& obj) {
  const json& meta = obj.at("metadata");
  std::string ns = meta.contains("namespace") && meta["namespace"].is_string() ? meta["namespace"].get<std::string>() : "";
  return ns + "/" + meta.at("name").get<std::string>();
}

std::string bearer(const HttpRequest& req) {
  auto it = req.headers.find("authorization");
  if (it == req.headers.end() || !it->second.starts_with("Bearer ")) return "";
  return it->second.substr(7);
}

}  // namespace

json status_json(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"},  {"metadata", json::object()}, {"status", "Failure"},
          {"message", message}, {"reason", reason}, {"code", code}};
}

const ResourceInfo* find_resource_info(std::string_view name) {
  for (const auto& info : kResources) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

FakeApiServer::FakeApiServer(FakeApiServerOptions options) : options_(std::move(options)) {
  for (const auto& info : kResources) {
    auto r = std::make_unique<Resource>();
    r->info = &info;
    resources_.emplace(std::string(info.name), std::move(r));
  }
  SSL_CTX* tls = nullptr;
  if (options_.tls) tls = make_server_tls(options_.server_cert_pem, options_.server_key_pem, options_.client_ca_pem);
  listener_ = std::make_unique<HttpListener>(tls, [this](HttpConnection& c) { handle_connection(c); });
}

FakeApiServer::~FakeApiServer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  listener_.reset();  // joins the connection threads
}

std::string FakeApiServer::url() const {
  return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(listener_->port());
}

FakeApiServer::Resource& FakeApiServer::resource_locked(const std::string& name) {
  auto it = resources_.find(name);
  if (it == resources_.end()) {
    std::fprintf(stderr, "FakeApiServer: unknown resource \"%s\"\n", name.c_str());
    std::abort();
  }
  return *it->second;
}

const FakeApiServer::Resource& FakeApiServer::resource_locked(const std::string& name) const {
  return const_cast<FakeApiServer*>(this)->resource_locked(name);
}

// ---- Store --------------------------------------------------------------------------------------

std::string FakeApiServer::apply(const std::string& resource, json object) {
  std::lock_guard lock(mutex_);
  Resource& res = resource_locked(resource);
  object["kind"] = res.info->kind;
  object["apiVersion"] = res.info->api_version;
  json& meta = object["metadata"];
  if (res.info->namespaced && !meta.contains("namespace")) meta["namespace"] = "default";
  const std::string key = object_key(object);
  auto existing = res.objects.find(key);
  if (existing != res.objects.end()) {
    meta["uid"] = existing->second["metadata"]["uid"];
    meta["creationTimestamp"] = existing->second["metadata"]["creationTimestamp"];
  } else {
    char uid[64];
    std::snprintf(uid, sizeof uid, "6f1c2a3e-0000-4000-8000-%012llu", static_cast<unsigned long long>(next_uid_++));
    if (!meta.contains("uid")) meta["uid"] = uid;
    if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = "2026-01-01T00:00:00Z";
  }
  meta["resourceVersion"] = std::to_string(++rv_);
  const char* type = existing == res.objects.end() ? "ADDED" : "MODIFIED";
  res.objects[key] = object;
  res.history.push_back({rv_, type, object});
  cv_.notify_all();
  return std::to_string(rv_);
}

bool FakeApiServer::remove(const std::string& resource, const std::string& ns, const std::string& name) {
  std::lock_guard lock(mutex_);
  Resource& res = resource_locked(resource);
  auto it = res.objects.find(ns + "/" + name);
  if (it == res.objects.end()) return false;
  json last = std::move(it->second);
  res.objects.erase(it);
  last["metadata"]["resourceVersion"] = std::to_string(++rv_);
  res.history.push_back({rv_, "DELETED", std::move(last)});
  cv_.notify_all();
  return true;
}

std::string FakeApiServer::resource_version() const {
  std::lock_guard lock(mutex_);
  return std::to_string(rv_);
}

std::vector<json> FakeApiServer::objects(const std::string& resource) const {
  std::lock_guard lock(mutex_);
  std::vector<json> out;
  for (const auto& [key, obj] : resource_locked(resource).objects) out.push_back(obj);
  return out;
}

// ---- Faults -------------------------------------------------------------------------------------

void FakeApiServer::compact_locked(Resource& res) {
  res.history.clear();
  res.compacted_rv = ++rv_;  // as if an unrelated write happened: every RV handed out is now too old
}

void FakeApiServer::compact(const std::string& resource) {
  std::lock_guard lock(mutex_);
  Resource& res = resource_locked(resource);
  compact_locked(res);
  ++res.end_epoch;
  cv_.notify_all();
}

void FakeApiServer::send_error_gone(const std::string& resource) {
  std::lock_guard lock(mutex_);
  Resource& res = resource_locked(resource);
  compact_locked(res);
  ++res.error_epoch;
  cv_.notify_all();
}

#define NPV_FAKE_FAULT(method, epoch)                    \
  void FakeApiServer::method(const std::string& resource) { \
    std::lock_guard lock(mutex_);                        \
    ++resource_locked(resource).epoch;                   \
    cv_.notify_all();                                    \
  }
NPV_FAKE_FAULT(end_watches, end_epoch)
NPV_FAKE_FAULT(send_bookmark, bookmark_epoch)
NPV_FAKE_FAULT(drop_watches, drop_epoch)
NPV_FAKE_FAULT(send_malformed, malformed_epoch)
#undef NPV_FAKE_FAULT

void FakeApiServer::set_stalled(bool stalled) {
  std::lock_guard lock(mutex_);
  stalled_ = stalled;
  cv_.notify_all();
}

void FakeApiServer::fail_lists(const std::string& resource, int status) {
  std::lock_guard lock(mutex_);
  resource_locked(resource).fail_list_status = status;
}

void FakeApiServer::expire_next_continues(int n) {
  std::lock_guard lock(mutex_);
  expire_continues_ = n;
}

void FakeApiServer::fail_next_events(int status, int n) {
  std::lock_guard lock(mutex_);
  fail_events_status_ = status;
  fail_events_ = n;
}

bool FakeApiServer::remove_event(const std::string& ns, const std::string& name) {
  std::lock_guard lock(mutex_);
  return events_.erase(ns + "/" + name) > 0;
}

void FakeApiServer::set_required_token(std::string token) {
  std::lock_guard lock(mutex_);
  options_.required_token = std::move(token);
}

// ---- Observations -------------------------------------------------------------------------------

std::vector<RecordedRequest> FakeApiServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

int FakeApiServer::count(const std::string& resource, const std::string& verb) const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(std::count_if(requests_.begin(), requests_.end(), [&](const RecordedRequest& r) {
    return r.resource == resource && r.verb == verb;
  }));
}

int FakeApiServer::open_watches(const std::string& resource) const {
  std::lock_guard lock(mutex_);
  return resource_locked(resource).open_watches;
}

std::vector<json> FakeApiServer::events() const {
  std::lock_guard lock(mutex_);
  std::vector<json> out;
  for (const auto& [key, e] : events_) out.push_back(e);
  return out;
}

std::size_t FakeApiServer::record(RecordedRequest r) {
  std::lock_guard lock(mutex_);
  requests_.push_back(std::move(r));
  return requests_.size() - 1;
}

void FakeApiServer::set_status(std::size_t index, int status) {
  std::lock_guard lock(mutex_);
  requests_[index].status = status;
}

// ---- Requests -----------------------------------------------------------------------------------

void FakeApiServer::handle_connection(HttpConnection& conn) {
  while (auto req = conn.read_request()) {
    if (!handle(conn, *req)) return;
  }
}

bool FakeApiServer::handle(HttpConnection& conn, const HttpRequest& req) {
  RecordedRequest rec;
  rec.method = req.method;
  rec.path = req.path;
  rec.query = req.query;
  rec.token = bearer(req);
  rec.client_cn = conn.peer_cn();
  rec.body = req.body;
  if (auto it = req.headers.find("content-type"); it != req.headers.end()) rec.content_type = it->second;
  rec.verb = "other";
  const ResourceInfo* info = nullptr;
  for (const auto& r : kResources) {
    if (req.path == r.path) info = &r;
  }
  std::string event_ns, event_name;
  const std::string events_prefix = "/api/v1/namespaces/";
  if (info) {
    rec.resource = info->name;
    bool watch = req.query.contains("watch") && (req.query.at("watch") == "1" || req.query.at("watch") == "true");
    if (req.method == "GET") rec.verb = watch ? "watch" : "list";
  } else if (req.path.starts_with(events_prefix)) {
    std::string rest = req.path.substr(events_prefix.size());
    auto slash = rest.find('/');
    if (slash != std::string::npos && rest.substr(slash).starts_with("/events")) {
      rec.resource = "events";
      event_ns = rest.substr(0, slash);
      std::string tail = rest.substr(slash + 7);
      if (tail.starts_with("/")) event_name = tail.substr(1);
      rec.verb = req.method == "POST" ? "create" : req.method == "PATCH" ? "patch" : "other";
    }
  }
  const std::size_t index = record(rec);

  std::string required;
  {
    std::unique_lock lock(mutex_);
    if (stalled_) {  // a server that stopped answering: read, never answer
      cv_.wait(lock, [&] { return stopping_ || !stalled_; });
      return false;
    }
    required = options_.required_token;
  }
  auto answer = [&](int status, const json& body) {
    set_status(index, status);
    return conn.send_response(status, body.dump());
  };
  if ((!required.empty() || !options_.client_ca_pem.empty()) && rec.client_cn.empty() &&
      (required.empty() || rec.token != required)) {
    return answer(401, status_json(401, "Unauthorized", "Unauthorized"));
  }
  if (info && rec.verb == "watch") {
    serve_watch(conn, req, std::string(info->name), index);
    return false;  // the stream ended or was cut: close the connection
  }
  if (info && rec.verb == "list") {
    serve_list(conn, req, std::string(info->name), index);
    return true;
  }
  if (rec.resource == "events" && (rec.verb == "create" || rec.verb == "patch")) {
    serve_events(conn, req, event_ns, event_name, index);
    return true;
  }
  return answer(404, status_json(404, "NotFound", "the server could not find the requested resource"));
}

void FakeApiServer::serve_list(HttpConnection& conn, const HttpRequest& req, const std::string& resource,
                               std::size_t index) {
  json body;
  int status = 200;
  {
    std::lock_guard lock(mutex_);
    Resource& res = resource_locked(resource);
    std::size_t limit = 0;
    if (auto it = req.query.find("limit"); it != req.query.end()) limit = std::stoul(it->second);
    ContinueState state;
    if (res.fail_list_status != 0) {
      status = res.fail_list_status;
      body = status_json(status, status == 403 ? "Forbidden" : "InternalError", "injected failure");
    } else if (auto it = req.query.find("continue"); it != req.query.end() && !it->second.empty()) {
      auto c = continues_.find(it->second);
      if (c == continues_.end() || c->second.resource != resource || expire_continues_ > 0) {
        if (expire_continues_ > 0) --expire_continues_;
        status = 410;
        body = status_json(410, "Expired",
                           "The provided continue parameter is too old to display a consistent list result. You can "
                           "start a new list without the continue parameter.");
      } else {
        state = std::move(c->second);
        continues_.erase(c);
      }
    } else {
      state.resource = resource;
      state.rv = rv_;
      for (const auto& [key, obj] : res.objects) {
        json item = obj;
        item.erase("kind");  // list items carry no kind/apiVersion
        item.erase("apiVersion");
        state.items.push_back(std::move(item));
      }
    }
    if (status == 200) {
      std::size_t end = limit == 0 ? state.items.size() : std::min(state.items.size(), state.offset + limit);
      json items = json::array();
      for (std::size_t i = state.offset; i < end; ++i) items.push_back(state.items[i]);
      body = {{"kind", res.info->list_kind},
              {"apiVersion", res.info->api_version},
              {"metadata", {{"resourceVersion", std::to_string(state.rv)}}},
              {"items", std::move(items)}};
      if (end < state.items.size()) {
        std::string token = "c" + std::to_string(++continue_epoch_) + "-" + std::to_string(end);
        body["metadata"]["continue"] = token;
        body["metadata"]["remainingItemCount"] = state.items.size() - end;
        state.offset = end;
        continues_[token] = std::move(state);
      }
    }
  }
  set_status(index, status);
  conn.send_response(status, body.dump());
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace npv::test
