// EventRecorder (kube_events.hpp); each branch names its rule.
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <ctime>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "npv/kube_events.hpp"

namespace npv::kube {

using nlohmann::json;
using SysTime = std::chrono::system_clock::time_point;

namespace {

// metav1.Time: RFC 3339 in UTC, whole seconds.
std::string rfc3339(SysTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

using Key = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string, std::string>;

Key key_of(const ObjectRef& o, std::string_view type, std::string_view reason, std::string_view message) {
  return {o.kind, o.ns, o.name, o.uid, std::string(type), std::string(reason), std::string(message)};
}

struct Pending {
  ObjectRef object;
  std::string type, reason, message;
  std::uint64_t count = 0;  // occurrences not yet sent
  SysTime first{}, last{};
  int attempts = 0;
};

// An Event that exists on the server (rule 2).
struct Sent {
  std::string ns, name;
  std::uint64_t count = 0;
  SysTime first{};
  std::list<Key>::iterator lru;
};

bool retryable(const HttpResponse& r) {
  return r.transport != Transport::kOk || r.status == 429 || r.status >= 500;
}

}  // namespace

struct EventRecorder::Impl {
  Impl(std::shared_ptr<KubeClient> c, EventRecorderOptions o) : client(std::move(c)), options(std::move(o)) {
    if (!options.clock) options.clock = [] { return std::chrono::system_clock::now(); };
    tokens = static_cast<double>(options.burst);
    thread = std::thread([this] { run(); });
  }

  void run();
  bool take_token();  // rule 4; false when stopping
  // Sends one pending Event; false when it should be retried later.
  bool send(const Key& key, Pending& p);
  std::string event_name(const ObjectRef& o);
  void remember(const Key& key, Sent sent);

  std::shared_ptr<KubeClient> client;
  EventRecorderOptions options;
  Cancellation cancel;
  mutable std::mutex mutex;
  std::condition_variable cv;
  std::map<Key, Pending> pending;
  std::deque<Key> order;  // pending keys, oldest first
  bool in_flight = false;
  bool stopping = false;
  EventRecorderStats stats;
  // Worker-thread only:
  std::map<Key, Sent> sent;
  std::list<Key> lru;  // most recently used first
  double tokens = 0;
  std::chrono::steady_clock::time_point refill = std::chrono::steady_clock::now();
  std::uint64_t name_seq = 0;
  std::thread thread;
};

EventRecorder::EventRecorder(std::shared_ptr<KubeClient> client, EventRecorderOptions options)
    : impl_(std::make_unique<Impl>(std::move(client), std::move(options))) {}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    for (const auto& [key, p] : impl_->pending) impl_->stats.dropped += p.count;
    impl_->pending.clear();
    impl_->order.clear();
  }
  impl_->cv.notify_all();
  impl_->cancel.cancel();
  impl_->thread.join();
}

bool EventRecorder::record(const ObjectRef& object, std::string_view type, std::string_view reason,
                           std::string_view message) {
  const SysTime now = impl_->options.clock();
  Key key = key_of(object, type, reason, message);
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->pending.find(key);
  if (it != impl_->pending.end()) {  // rule 3
    ++it->second.count;
    it->second.last = now;
    ++impl_->stats.recorded;
    ++impl_->stats.merged;
    return true;
  }
  if (impl_->stopping || impl_->pending.size() >= impl_->options.max_pending) {  // rule 4
    ++impl_->stats.dropped;
    return false;
  }
  impl_->pending.emplace(key, Pending{object, std::string(type), std::string(reason), std::string(message), 1, now, now, 0});
  impl_->order.push_back(key);
  ++impl_->stats.recorded;
  impl_->cv.notify_all();
  return true;
}

bool EventRecorder::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->pending.empty() && !impl_->in_flight; });
}

EventRecorderStats EventRecorder::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

void EventRecorder::Impl::run() {
  while (true) {
    Key key;
    Pending p;
    {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return stopping || !order.empty(); });
      if (stopping) return;
      key = order.front();
      order.pop_front();
      p = std::move(pending.at(key));
      pending.erase(key);
      in_flight = true;
    }
    bool done = take_token() && send(key, p);
    bool retry = false;
    {
      std::lock_guard lock(mutex);
      in_flight = false;
      if (!done && !stopping) {
        if (++p.attempts < options.max_attempts) {  // rule 5: try again after retry_delay
          retry = true;
          auto it = pending.find(key);
          if (it != pending.end()) {  // repeats arrived meanwhile: merge them in
            p.count += it->second.count;
            p.last = it->second.last;
            it->second = std::move(p);
          } else {
            pending.emplace(key, std::move(p));
            order.push_front(key);
          }
        } else {
          ++stats.failed;
          spdlog::warn("kube events: giving up on an Event after {} attempts", options.max_attempts);
        }
      }
    }
    cv.notify_all();
    if (retry && !cancel.sleep_for(options.retry_delay)) return;
  }
}

bool EventRecorder::Impl::take_token() {
  using namespace std::chrono;
  while (true) {
    auto now = steady_clock::now();
    tokens = std::min<double>(static_cast<double>(options.burst),
                              tokens + duration<double>(now - refill).count() * options.qps);
    refill = now;
    if (tokens >= 1.0) {
      tokens -= 1.0;
      return true;
    }
    auto wait = duration<double>((1.0 - tokens) / options.qps);
    if (!cancel.sleep_for(duration_cast<milliseconds>(wait) + milliseconds(1))) return false;
  }
}

std::string EventRecorder::Impl::event_name(const ObjectRef& o) {
  // "<name>.<hex nanoseconds>" as client-go names them; +seq keeps names unique within a tick.
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(options.clock().time_since_epoch()).count();
  char suffix[40];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(ns) + name_seq++);
  std::string base = o.name.substr(0, 253 - std::strlen(suffix));
  return base + suffix;
}

void EventRecorder::Impl::remember(const Key& key, Sent s) {
  if (auto it = sent.find(key); it != sent.end()) lru.erase(it->second.lru);
  lru.push_front(key);
  s.lru = lru.begin();
  sent[key] = std::move(s);
  while (sent.size() > options.cache_size) {
    sent.erase(lru.back());
    lru.pop_back();
  }
}

bool EventRecorder::Impl::send(const Key& key, Pending& p) {
  const RequestOptions request{&cancel, options.request_timeout, options.request_timeout};
  const std::string ns = p.object.ns.empty() ? "default" : p.object.ns;
  auto known = sent.find(key);
  if (known != sent.end()) {  // rule 2: PATCH the existing Event
    std::uint64_t count = known->second.count + p.count;
    json patch = {{"count", count}, {"lastTimestamp", rfc3339(p.last)}, {"message", p.message}};
    HttpResponse r = client->patch("/api/v1/namespaces/" + known->second.ns + "/events/" + known->second.name,
                                   patch.dump(), "application/strategic-merge-patch+json", request);
    if (r.ok()) {
      Sent s = known->second;
      s.count = count;
      remember(key, s);
      std::lock_guard lock(mutex);
      ++stats.patched;
      return true;
    }
    if (r.status != 404 || r.transport != Transport::kOk) {
      spdlog::warn("kube events: PATCH {}/{}: {}", known->second.ns, known->second.name, r.describe());
      if (!retryable(r)) {
        std::lock_guard lock(mutex);
        ++stats.failed;
      }
      return !retryable(r);
    }
    // Gone (expired, deleted): create it again with the running count and first time.
    p.count = count;
    p.first = known->second.first;
    lru.erase(known->second.lru);
    sent.erase(known);
  }
  const std::string name = event_name(p.object);
  json involved = {{"kind", p.object.kind}, {"name", p.object.name}, {"apiVersion", p.object.api_version}};
  if (!p.object.ns.empty()) involved["namespace"] = p.object.ns;
  if (!p.object.uid.empty()) involved["uid"] = p.object.uid;
  json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", name}, {"namespace", ns}}},
                {"involvedObject", involved},
                {"reason", p.reason},
                {"message", p.message},
                {"type", p.type},
                {"source", {{"component", options.component}, {"host", options.host}}},
                {"reportingComponent", options.component},
                {"reportingInstance", options.host},
                {"firstTimestamp", rfc3339(p.first)},
                {"lastTimestamp", rfc3339(p.last)},
                {"count", p.count}};
  HttpResponse r = client->post("/api/v1/namespaces/" + ns + "/events", event.dump(), request);  // rule 1
  if (r.ok()) {
    remember(key, Sent{ns, name, p.count, p.first, {}});
    std::lock_guard lock(mutex);
    ++stats.created;
    return true;
  }
  spdlog::warn("kube events: POST {} for {} {}/{}: {}", p.reason, p.object.kind, p.object.ns, p.object.name, r.describe());
  if (!retryable(r)) {
    std::lock_guard lock(mutex);
    ++stats.failed;
  }
  return !retryable(r);
}

}  // namespace npv::kube
