// ClusterWatcher: one Reflector thread per resource, a WatchStore, and a thread that turns store
// changes into snapshots (kube_watch.hpp).
#include <spdlog/spdlog.h>

#include <random>
#include <thread>

#include "kube/reflector.hpp"
#include "kube/watch_store.hpp"
#include "npv/kube_watch.hpp"

namespace npv::kube {

struct ClusterWatcher::Impl {
  Impl(std::shared_ptr<KubeClient> c, WatchOptions o) : client(std::move(c)), options(std::move(o)), store(options) {}

  void build_loop();

  std::shared_ptr<KubeClient> client;
  const WatchOptions options;
  Cancellation cancel;
  WatchStore store;
  std::array<std::unique_ptr<Reflector>, kResourceCount> reflectors;
  std::vector<std::thread> threads;
  std::function<void(std::shared_ptr<const ClusterSnapshot>)> callback;
  bool started = false;

  mutable std::mutex snap_mutex;
  mutable std::condition_variable snap_cv;
  std::shared_ptr<const ClusterSnapshot> snapshot;
  std::uint64_t generation = 0;
  bool stopped = false;
};

void ClusterWatcher::Impl::build_loop() {
  while (store.wait_for_change()) {
    // Debounce: a burst of events (a relist, a rollout) costs one rebuild.
    if (!cancel.sleep_for(options.debounce)) return;
    auto snap = std::make_shared<ClusterSnapshot>(store.build());
    {
      std::lock_guard lock(snap_mutex);
      snap->generation = ++generation;
      snapshot = snap;
    }
    snap_cv.notify_all();
    spdlog::debug("kube: snapshot {}: {} namespaces, {} pods, {} policies, {} services, {} endpoint slices",
                  snap->generation, snap->state.namespaces.size(), snap->state.pods.size(), snap->state.policies.size(),
                  snap->state.services.size(), snap->state.endpoint_slices.size());
    if (callback) callback(snap);
  }
}

ClusterWatcher::ClusterWatcher(std::shared_ptr<KubeClient> client, WatchOptions options)
    : impl_(std::make_unique<Impl>(std::move(client), std::move(options))) {}

ClusterWatcher::~ClusterWatcher() { stop(); }

void ClusterWatcher::on_snapshot(std::function<void(std::shared_ptr<const ClusterSnapshot>)> callback) {
  impl_->callback = std::move(callback);
}

void ClusterWatcher::start() {
  Impl& m = *impl_;
  if (m.started) return;
  m.started = true;
  std::uint64_t seed = m.options.seed ? m.options.seed : (std::uint64_t{std::random_device{}()} << 32 | std::random_device{}());
  for (Resource r : m.options.resources) {
    auto& slot = m.reflectors[static_cast<std::size_t>(r)];
    if (slot) continue;  // listed twice
    slot = std::make_unique<Reflector>(*m.client, r, m.options, m.store, m.cancel, seed + static_cast<std::uint64_t>(r));
    m.threads.emplace_back([reflector = slot.get()] { reflector->run(); });
  }
  m.threads.emplace_back([&m] { m.build_loop(); });
}

void ClusterWatcher::stop() {
  Impl& m = *impl_;
  m.cancel.cancel();
  m.store.stop();
  for (auto& t : m.threads) {
    if (t.joinable()) t.join();
  }
  m.threads.clear();
  {
    std::lock_guard lock(m.snap_mutex);
    m.stopped = true;
  }
  m.snap_cv.notify_all();
}

bool ClusterWatcher::synced() const { return impl_->store.all_synced(); }

std::shared_ptr<const ClusterSnapshot> ClusterWatcher::snapshot() const {
  std::lock_guard lock(impl_->snap_mutex);
  return impl_->snapshot;
}

std::uint64_t ClusterWatcher::generation() const {
  std::lock_guard lock(impl_->snap_mutex);
  return impl_->generation;
}

bool ClusterWatcher::wait_for_generation(std::uint64_t after, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->snap_mutex);
  return impl_->snap_cv.wait_for(lock, timeout, [&] { return impl_->stopped || impl_->generation > after; }) &&
         impl_->generation > after;
}

ResourceStats ClusterWatcher::stats(Resource r) const {
  const auto& reflector = impl_->reflectors[static_cast<std::size_t>(r)];
  ResourceStats out = reflector ? reflector->stats() : ResourceStats{};
  out.objects = impl_->store.object_count(r);
  return out;
}

}  // namespace npv::kube
