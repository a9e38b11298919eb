// EventRecorder: reports findings as Kubernetes Events (core/v1) on the object involved, so
// `kubectl describe netpol NAME` (or `describe pod`) shows them.
//
// As client-go's recorder does it:
//  1. An Event is created with POST /api/v1/namespaces/NS/events: involvedObject (kind,
//     namespace, name, uid, apiVersion), reason, message, type, source {component, host},
//     reportingComponent/reportingInstance, firstTimestamp = lastTimestamp, count, and the name
//     "<object name>.<hex nanoseconds>". NS is the object's namespace ("default" when it has none).
//  2. A repeat (same object, type, reason and message) PATCHes that Event
//     (application/strategic-merge-patch+json: count, lastTimestamp, message) instead of creating
//     another; if it is gone (404) a new Event is created with the running count.
//  3. Repeats recorded while an Event waits to be sent are merged into it (one request, the
//     count goes up by all of them).
//  4. Requests are rate-limited (token bucket: qps, burst). At most max_pending distinct Events
//     wait; more are dropped and counted.
//  5. Transport errors, 429 and 5xx are retried (max_attempts, retry_delay apart); other
//     failures are logged and counted, never retried.
// record() never blocks on the network: one background thread sends everything.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "npv/kube_client.hpp"

namespace npv::kube {

// The object an Event is about (core/v1 ObjectReference).
struct ObjectRef {
  std::string kind;         // "NetworkPolicy", "Pod"
  std::string api_version;  // "networking.k8s.io/v1", "v1"
  std::string ns;           // empty for a cluster-scoped object
  std::string name;
  std::string uid;  // may be empty
};

struct EventRecorderOptions {
  std::string component = "npv-agent";  // source.component and reportingComponent
  std::string host;                     // source.host and reportingInstance: the node name
  double qps = 1.0;                     // API requests per second, sustained
  std::size_t burst = 25;               // and in a burst
  std::size_t max_pending = 1000;       // distinct Events waiting to be sent
  std::size_t cache_size = 4096;        // Events remembered for aggregation (least recently used go)
  std::chrono::milliseconds request_timeout{10'000};
  int max_attempts = 3;
  std::chrono::milliseconds retry_delay{1'000};
  // Wall clock for the timestamps and names; empty: std::chrono::system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock;
};

struct EventRecorderStats {
  std::uint64_t recorded = 0;  // record() calls accepted
  std::uint64_t created = 0;   // POSTs that succeeded
  std::uint64_t patched = 0;   // PATCHes that succeeded
  std::uint64_t merged = 0;    // record() calls merged into a pending Event (rule 3)
  std::uint64_t dropped = 0;   // record() calls refused (queue full, stopped) or discarded at stop
  std::uint64_t failed = 0;    // Events given up after errors (rule 5)
};

class EventRecorder {
 public:
  EventRecorder(std::shared_ptr<KubeClient> client, EventRecorderOptions options);
  // Stops the thread, cancelling a request in flight; Events still pending are discarded.
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Queues an Event; `type` is "Warning" or "Normal", `reason` UpperCamelCase. Thread-safe,
  // never blocks on the network; false when dropped (rule 4).
  bool record(const ObjectRef& object, std::string_view type, std::string_view reason, std::string_view message);
  // Waits until nothing is pending or in flight; false on timeout.
  bool flush(std::chrono::milliseconds timeout);
  EventRecorderStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace npv::kube
