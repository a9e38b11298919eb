// The list/watch loop of one resource; each branch names its rule from kube_watch.hpp.
#include "kube/reflector.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace npv::kube {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct ResourceInfo {
  const char* name;
  const char* kind;
  const char* api_version;
  const char* path;
};

constexpr ResourceInfo kInfo[kResourceCount] = {
    {"namespaces", "Namespace", "v1", "/api/v1/namespaces"},
    {"pods", "Pod", "v1", "/api/v1/pods"},
    {"networkpolicies", "NetworkPolicy", "networking.k8s.io/v1", "/apis/networking.k8s.io/v1/networkpolicies"},
    {"services", "Service", "v1", "/api/v1/services"},
    {"endpointslices", "EndpointSlice", "discovery.k8s.io/v1", "/apis/discovery.k8s.io/v1/endpointslices"},
    {"adminnetworkpolicies", "AdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1",
     "/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies"},
    {"baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1",
     "/apis/policy.networking.k8s.io/v1alpha1/baselineadminnetworkpolicies"},
    {"clusternetworkpolicies", "ClusterNetworkPolicy", "policy.networking.k8s.io/v1alpha2",
     "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies"},
};

const ResourceInfo& info(Resource r) { return kInfo[static_cast<std::size_t>(r)]; }

// metadata.resourceVersion of an object or list, "" when missing or not a string.
std::string resource_version_of(const json& v) {
  auto meta = v.find("metadata");
  if (meta == v.end() || !meta->is_object()) return "";
  auto rv = meta->find("resourceVersion");
  return rv != meta->end() && rv->is_string() ? rv->get<std::string>() : "";
}

constexpr std::size_t kMaxLine = 64u << 20;  // a longer watch line is treated as malformed

}  // namespace

const char* to_string(Resource r) { return info(r).name; }
const char* kind_of(Resource r) { return info(r).kind; }
const char* api_version_of(Resource r) { return info(r).api_version; }
const char* api_path(Resource r) { return info(r).path; }
bool is_optional(Resource r) {
  return r == Resource::kAdminNetworkPolicies || r == Resource::kBaselineAdminNetworkPolicies ||
         r == Resource::kClusterNetworkPolicies;
}

Reflector::Reflector(KubeClient& client, Resource resource, const WatchOptions& options, ReflectorSink& sink,
                     Cancellation& cancel, std::uint64_t seed)
    : client_(client), resource_(resource), options_(options), sink_(sink), cancel_(cancel), rng_(seed) {}

ResourceStats Reflector::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Reflector::fail(const std::string& message) {
  spdlog::warn("kube {}: {}", to_string(resource_), message);
  std::lock_guard lock(mutex_);
  ++stats_.errors;
  stats_.last_error = message;
}

bool Reflector::backoff(int failures) {  // rule 8
  auto shift = std::min(failures - 1, 30);
  auto d = std::min<std::int64_t>(options_.backoff_cap.count(), options_.backoff_base.count() << shift);
  d = std::max<std::int64_t>(d, 1);
  std::uniform_int_distribution<std::int64_t> jitter(d / 2, d);
  return cancel_.sleep_for(std::chrono::milliseconds(jitter(rng_)));
}

void Reflector::run() {
  std::string rv;
  bool need_list = true;
  int failures = 0;
  while (!cancel_.cancelled()) {
    if (need_list) {
      if (!list(rv)) {  // rule 7: a failed LIST is retried after a backoff
        if (cancel_.cancelled() || !backoff(++failures)) return;
        continue;
      }
      failures = 0;
      if (not_installed_) {  // no CRD: nothing to watch; look again after crd_recheck, not at once
        if (!cancel_.sleep_for(options_.crd_recheck)) return;
        continue;
      }
      need_list = false;
    }
    bool received = false;
    const auto started = Clock::now();
    End end = watch(rv, received);
    switch (end) {
      case End::kCancelled: return;
      case End::kExpired:  // rule 5
        need_list = true;
        if (received) {
          failures = 0;
        } else if (!backoff(++failures)) {  // refused at once: a server repeating 410 gets no loop
          return;
        }
        break;
      case End::kNormal:
        // Rule 4; a watch that ends at once with nothing in it is a failure (rule 7), or a
        // misbehaving server would make us spin.
        if (received || Clock::now() - started >= std::chrono::seconds(1)) {
          failures = 0;
          break;
        }
        fail("watch closed after less than a second with nothing received");
        [[fallthrough]];
      case End::kFailed:
      case End::kDead:
        if (received) failures = 0;  // the stream worked for a while: start the backoff over
        if (!backoff(++failures)) return;
        break;
    }
  }
}

// Rule 1.
bool Reflector::list(std::string& resource_version) {
  std::unique_ptr<ReflectorSink::ListStage> stage = sink_.begin_list(resource_);
  std::size_t received = 0;
  std::string cont, list_rv;
  int restarts = 0;
  RequestOptions request{&cancel_, options_.dead_timeout, options_.list_timeout};
  while (true) {
    std::string path = std::string(api_path(resource_)) + "?limit=" + std::to_string(options_.page_size);
    if (!cont.empty()) path += "&continue=" + query_escape(cont);
    HttpResponse r = client_.get(path, request);
    if (r.transport == Transport::kCancelled) return false;
    if (r.transport == Transport::kOk && r.status == 410 && !cont.empty() && restarts < 3) {
      spdlog::info("kube {}: continue token expired, listing again from the start", to_string(resource_));
      stage = sink_.begin_list(resource_);  // rule 1: an expired continue token restarts the LIST
      received = 0;
      cont.clear();
      ++restarts;
      continue;
    }
    if (r.transport == Transport::kOk && r.status == 404 && is_optional(resource_)) {
      // The CRD is not installed: an empty, synced resource (kube_watch.hpp).
      const bool first_time = !not_installed_;
      not_installed_ = true;
      auto empty = sink_.begin_list(resource_);
      sink_.replace(*empty);
      bool first = false;
      {
        std::lock_guard lock(mutex_);
        first = !stats_.synced;
        ++stats_.not_installed;
        stats_.synced = true;
      }
      if (first) sink_.synced(resource_);
      if (first_time) spdlog::info("kube {}: not served by the API (CRD not installed), treated as empty", to_string(resource_));
      return true;
    }
    if (!r.ok()) {
      if (r.transport == Transport::kIdleTimeout) {
        std::lock_guard lock(mutex_);
        ++stats_.dead_connections;
      }
      fail("LIST " + path + ": " + r.describe());
      return false;
    }
    json page = json::parse(r.body, nullptr, false);
    if (!page.is_object() || !page.contains("items") || !(page["items"].is_array() || page["items"].is_null()) ||
        resource_version_of(page).empty()) {
      fail("LIST " + path + ": the response is not a list with items and metadata.resourceVersion");
      return false;
    }
    list_rv = resource_version_of(page);
    cont.clear();
    if (auto c = page["metadata"].find("continue"); c != page["metadata"].end() && c->is_string()) cont = c->get<std::string>();
    if (page["items"].is_array()) {
      auto& items = page["items"].get_ref<json::array_t&>();
      received += items.size();
      sink_.stage_page(*stage, items);
    }
    if (cont.empty()) break;
  }
  not_installed_ = false;
  std::size_t invalid = sink_.replace(*stage);
  resource_version = list_rv;
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    first = !stats_.synced;
    ++stats_.lists;
    if (!first) ++stats_.relists;
    stats_.synced = true;
    stats_.invalid_objects += invalid;
    stats_.resource_version = list_rv;
  }
  if (first) sink_.synced(resource_);
  spdlog::debug("kube {}: listed {} objects at resourceVersion {}", to_string(resource_), received, list_rv);
  return true;
}

// Rules 2-7 for one WATCH request.
Reflector::End Reflector::watch(std::string& resource_version, bool& received) {
  std::uniform_int_distribution<std::int64_t> timeout(options_.watch_timeout_min.count(),
                                                      std::max(options_.watch_timeout_min, options_.watch_timeout_max).count());
  const std::string path = std::string(api_path(resource_)) + "?watch=1&resourceVersion=" +
                           query_escape(resource_version) + "&allowWatchBookmarks=true&timeoutSeconds=" +
                           std::to_string(timeout(rng_));
  {
    std::lock_guard lock(mutex_);
    ++stats_.watches;
  }
  std::string buffer;
  End end = End::kNormal;
  bool stopped = false;  // on_line() stopped the stream
  auto on_data = [&](std::string_view data) {
    buffer.append(data);
    std::size_t start = 0, nl;
    while ((nl = buffer.find('\n', start)) != std::string::npos) {
      std::string_view line(buffer.data() + start, nl - start);
      start = nl + 1;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      if (!on_line(line, resource_version, end, received)) {
        stopped = true;
        return false;
      }
    }
    buffer.erase(0, start);
    if (buffer.size() > kMaxLine) {
      {
        std::lock_guard lock(mutex_);
        ++stats_.malformed_events;
      }
      stop_reason_ = "an event line longer than " + std::to_string(kMaxLine) + " bytes";
      end = End::kFailed;
      stopped = true;
      return false;
    }
    return true;
  };
  HttpResponse r = client_.stream(path, on_data, RequestOptions{&cancel_, options_.dead_timeout, {}});
  if (r.transport == Transport::kCancelled) return End::kCancelled;
  if (stopped) {
    if (end == End::kFailed) fail("WATCH: " + stop_reason_ + "; re-watching from resourceVersion " + resource_version);
    return end;
  }
  if (r.transport == Transport::kIdleTimeout) {  // rule 6
    {
      std::lock_guard lock(mutex_);
      ++stats_.dead_connections;
    }
    fail("WATCH: no data for " + std::to_string(options_.dead_timeout.count()) + " ms, dropping the connection");
    return End::kDead;
  }
  if (r.transport != Transport::kOk) {  // rule 7: a dropped connection; a partial line is discarded
    fail("WATCH: " + r.describe());
    return End::kFailed;
  }
  if (r.status == 410) {  // rule 5 (HTTP)
    spdlog::info("kube {}: watch from resourceVersion {} expired (HTTP 410), listing again", to_string(resource_),
                 resource_version);
    return End::kExpired;
  }
  if (r.status < 200 || r.status >= 300) {
    fail("WATCH: " + r.describe());
    return End::kFailed;
  }
  // Rule 4. A last line without its newline still counts.
  if (buffer.find_first_not_of(" \t\r") != std::string::npos && !on_line(buffer, resource_version, end, received)) {
    if (end == End::kFailed) fail("WATCH: " + stop_reason_ + "; re-watching from resourceVersion " + resource_version);
    return end;
  }
  return End::kNormal;
}

bool Reflector::on_line(std::string_view line, std::string& resource_version, End& end, bool& received) {
  json event = json::parse(line.begin(), line.end(), nullptr, false);
  const json* object = nullptr;
  std::string type;
  if (event.is_object()) {
    if (auto t = event.find("type"); t != event.end() && t->is_string()) type = t->get<std::string>();
    if (auto o = event.find("object"); o != event.end() && o->is_object()) object = &*o;
  }
  const bool object_event = type == "ADDED" || type == "MODIFIED" || type == "DELETED";
  if (!object || !(object_event || type == "BOOKMARK" || type == "ERROR") ||
      (type != "ERROR" && resource_version_of(*object).empty())) {  // rule 7: malformed
    {
      std::lock_guard lock(mutex_);
      ++stats_.malformed_events;
    }
    stop_reason_ = "malformed event line: " + std::string(line.substr(0, 200));
    end = End::kFailed;
    return false;
  }
  if (type == "ERROR") {
    auto code = object->find("code");
    if (code != object->end() && code->is_number_integer() && code->get<int>() == 410) {  // rule 5 (event)
      spdlog::info("kube {}: watch expired (ERROR 410: {}), listing again", to_string(resource_),
                   object->value("message", std::string()));
      end = End::kExpired;
      return false;
    }
    stop_reason_ = "ERROR event: " + object->dump();
    end = End::kFailed;
    return false;
  }
  received = true;
  resource_version = resource_version_of(*object);
  bool valid = true;
  if (object_event) valid = sink_.apply(resource_, type, *object);  // rule 3
  std::lock_guard lock(mutex_);
  ++(object_event ? stats_.events : stats_.bookmarks);
  if (!valid) ++stats_.invalid_objects;
  stats_.last_event_time = std::chrono::system_clock::now();
  stats_.resource_version = resource_version;
  return true;
}

}  // namespace npv::kube
