// ClusterWatcher: keeps a ClusterState in step with the Kubernetes API by listing and then
// watching Namespaces, Pods, NetworkPolicies, Services, EndpointSlices and the cluster-wide tier
// policies (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy), like client-go's
// reflector, and publishes immutable snapshots of it.
//
// Per resource, one thread runs this loop (agent/kube/reflector.cpp; each branch names its rule):
//  1. LIST in pages (limit/continue). A 410 on a continue token (expired) restarts the LIST from
//     the first page. The result replaces the resource's whole store (what vanished is deleted).
//  2. WATCH from the LIST's (or the last event's) resourceVersion with allowWatchBookmarks=true
//     and timeoutSeconds drawn uniformly from [watch_timeout_min, watch_timeout_max].
//  3. ADDED/MODIFIED replace an object (by namespace/name), DELETED removes it; BOOKMARK only
//     advances the resourceVersion. An object the model rejects is logged, counted
//     (invalid_objects) and left out; the stream goes on.
//  4. A stream that ends normally is re-watched at once from the last resourceVersion, no LIST
//     (unless it lasted under a second with nothing received: an error, rule 7).
//  5. 410 Gone, as an HTTP status or as an ERROR event with code 410 in a 200 stream: LIST again
//     (a relist): at once when the watch had received something, else after a backoff (rule 8),
//     so a server that keeps answering 410 cannot make the client relist in a tight loop.
//  6. Dead connection: no byte (not even a bookmark) for dead_timeout: drop it and re-watch.
//  7. Other failures (transport errors, a dropped connection, HTTP errors, other ERROR events,
//     a malformed event line) are counted as errors; re-watch from the last good resourceVersion
//     after an exponential backoff with jitter (rule 8). A failed LIST is retried the same way.
//  8. Backoff: the n-th consecutive failure waits a uniform random time in [d/2, d] with
//     d = min(backoff_cap, backoff_base * 2^(n-1)); any success resets n.
//
// Nothing is verified before the first full sync: snapshot() is null and synced() false until
// every configured resource has completed its first LIST.
//
// Snapshots: after a change that can alter a verdict (labels, IPs, ports, policy specs, Service
// and EndpointSlice contents; not e.g. pod status conditions), a new ClusterSnapshot is built
// after `debounce`, so a burst of events costs one rebuild. Terminal pods (phase Succeeded or
// Failed) are left out: their IPs may already belong to new pods.
//
// Threads: start() runs one thread per resource plus one that builds snapshots. on_snapshot(),
// start() and stop() are called by the owner from one thread; every other member function is
// thread-safe and may be called from any thread at any time.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "npv/kube_client.hpp"
#include "npv/kube_events.hpp"
#include "npv/model.hpp"

namespace npv::kube {

// The last three are the cluster-wide tiers (policy.networking.k8s.io, tier_policy.hpp): CRDs a
// cluster may not have. A LIST answered 404 means the CRD is not installed: the resource counts as
// synced and empty (ResourceStats::not_installed), and the LIST is retried every
// WatchOptions::crd_recheck, not at the error backoff's pace.
enum class Resource : std::uint8_t {
  kNamespaces, kPods, kNetworkPolicies, kServices, kEndpointSlices,
  kAdminNetworkPolicies, kBaselineAdminNetworkPolicies, kClusterNetworkPolicies,
};
inline constexpr std::size_t kResourceCount = 8;
inline constexpr std::array<Resource, kResourceCount> kAllResources = {
    Resource::kNamespaces, Resource::kPods, Resource::kNetworkPolicies, Resource::kServices, Resource::kEndpointSlices,
    Resource::kAdminNetworkPolicies, Resource::kBaselineAdminNetworkPolicies, Resource::kClusterNetworkPolicies};
// True for the tier resources: optional (404 = not installed) and cluster-scoped.
bool is_optional(Resource r);

const char* to_string(Resource r);  // "namespaces", "pods", "networkpolicies", "services", "endpointslices"
const char* kind_of(Resource r);    // "Namespace", "Pod", "NetworkPolicy", "Service", "EndpointSlice"
const char* api_version_of(Resource r);  // "v1", "networking.k8s.io/v1", "discovery.k8s.io/v1"
const char* api_path(Resource r);   // collection path, all namespaces: "/api/v1/pods", ...

// Counters of one resource's list/watch loop (a copy; the counters only grow, except objects,
// synced and the strings).
struct ResourceStats {
  std::uint64_t lists = 0;             // completed LISTs (all pages)
  std::uint64_t relists = 0;           // completed LISTs after the first
  std::uint64_t watches = 0;           // WATCH requests made
  std::uint64_t errors = 0;            // rule 7 failures, including dead connections
  std::uint64_t events = 0;            // ADDED, MODIFIED and DELETED events received
  std::uint64_t bookmarks = 0;         // BOOKMARK events received
  std::uint64_t dead_connections = 0;  // rule 6
  std::uint64_t malformed_events = 0;  // lines that are not a watch event
  std::uint64_t invalid_objects = 0;   // objects the model rejected (rule 3)
  std::uint64_t not_installed = 0;     // LISTs answered 404 for an optional resource (no CRD)
  std::uint64_t objects = 0;           // objects in the store now
  bool synced = false;                 // the first LIST completed
  // Wall-clock time of the last event or bookmark (for a "last event" metric); nullopt before.
  std::optional<std::chrono::system_clock::time_point> last_event_time;
  std::string resource_version;  // the last one seen
  std::string last_error;        // empty until an error happens
};

struct WatchOptions {
  std::vector<Resource> resources{kAllResources.begin(), kAllResources.end()};
  std::chrono::seconds watch_timeout_min{300};  // as client-go: 5 to 10 minutes
  std::chrono::seconds watch_timeout_max{600};
  std::chrono::milliseconds backoff_base{800};
  std::chrono::milliseconds backoff_cap{30'000};
  // Longer than the API server's bookmark interval (about a minute), or quiet watches die.
  std::chrono::milliseconds dead_timeout{150'000};
  std::chrono::milliseconds list_timeout{120'000};  // one LIST page, total
  std::chrono::milliseconds debounce{100};
  // An optional resource whose CRD is not installed (LIST 404) is listed again after this long.
  std::chrono::milliseconds crd_recheck{60'000};
  // Deleted policies stay in ClusterSnapshot::policy_deleted this long.
  std::chrono::seconds deleted_policy_retention{600};
  std::size_t page_size = 500;
  std::uint64_t seed = 0;  // jitter and watch timeouts; 0: from std::random_device
};

using MonoTime = std::chrono::steady_clock::time_point;  // CLOCK_MONOTONIC on Linux (as bpf_ktime_get_ns)

// An immutable view of the cluster at one moment.
struct ClusterSnapshot {
  ClusterState state;            // finalized
  std::uint64_t generation = 0;  // 1 for the first snapshot, +1 for each later one
  MonoTime built_at{};
  MonoTime synced_at{};  // when the first full sync completed
  // When an object last changed in a way that can change a verdict, keyed "ns/name" (namespaces:
  // "name"). Objects present at the first sync carry the time their LIST completed.
  std::map<std::string, MonoTime> policy_changed;
  std::map<std::string, MonoTime> policy_deleted;  // deleted policies, for deleted_policy_retention
  std::map<std::string, MonoTime> pod_changed;
  std::map<std::string, MonoTime> namespace_changed;
  // "Kind/ns/name" (or "Kind/name") -> metadata.uid, for every object received (also terminated pods)
  std::map<std::string, std::string> uids;

  // A reference to an object for an Event (kube_events.hpp); nullopt when it is not in the
  // snapshot. kind: "Pod", "NetworkPolicy", "Namespace", "Service" or "EndpointSlice".
  std::optional<ObjectRef> ref(std::string_view kind, std::string_view ns, std::string_view name) const;
};

class ClusterWatcher {
 public:
  ClusterWatcher(std::shared_ptr<KubeClient> client, WatchOptions options = {});
  ~ClusterWatcher();  // stop()
  ClusterWatcher(const ClusterWatcher&) = delete;
  ClusterWatcher& operator=(const ClusterWatcher&) = delete;

  // Called on the builder thread after each new snapshot; must not block for long. Set it
  // before start().
  void on_snapshot(std::function<void(std::shared_ptr<const ClusterSnapshot>)> callback);
  void start();  // once
  // Cancels requests in flight (so it returns promptly, even with a watch blocked) and joins
  // the threads. Idempotent; the watcher cannot be restarted.
  void stop();

  bool synced() const;  // readiness: every configured resource completed its first LIST
  std::shared_ptr<const ClusterSnapshot> snapshot() const;  // null until synced
  std::uint64_t generation() const;                          // 0 until synced
  // Waits until generation() > after; false on timeout or after stop().
  bool wait_for_generation(std::uint64_t after, std::chrono::milliseconds timeout) const;
  ResourceStats stats(Resource r) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace npv::kube
