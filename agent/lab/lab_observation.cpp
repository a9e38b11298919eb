#include "lab/lab_observation.hpp"


#include <cerrno>
#include <cstring>

namespace npv::lab {
namespace {

constexpr std::chrono::milliseconds kPollInterval{20};

}  // namespace

FlowCollector::FlowCollector(Observer observer, const ClusterState* cluster, std::set<std::uint32_t> lab_netns,
                             TrackerOptions options)
    : observer_(std::move(observer)),
      tracker_(cluster, [&] {
        const Observer* obs = &observer_;  // member initialised above; used on the consumer thread only
        options.drop_reason_name = [obs](std::uint32_t v) { return obs->drop_reason_name(v); };
        return options;
      }()),
      lab_netns_(std::move(lab_netns)) {
  thread_ = std::thread([this] { run(); });
}

FlowCollector::~FlowCollector() { stop(); }

void FlowCollector::run() {
  auto feed = [this](const npv_event& ev) { tracker_.on_event(ev); };
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    const int n = observer_.poll(kPollInterval, feed);
    if (n < 0 && n != -EINTR) {
      poll_error_ = std::string("ring buffer poll failed: ") + std::strerror(-n);
      break;
    }
    store(tracker_.take_completed(monotonic_ns()));
  }
  // What the kernel already wrote, then every flow still pending.
  (void)observer_.poll(std::chrono::milliseconds(0), feed);
  store(tracker_.take_completed(monotonic_ns()));
  store(tracker_.flush());
}

void FlowCollector::store(std::vector<ObservedFlow> flows) {
  if (flows.empty()) return;
  auto ours = [this](std::uint32_t netns) { return netns == 0 || lab_netns_.contains(netns); };
  {
    std::lock_guard lock(mu_);
    for (auto& f : flows) {
      if (!ours(f.src_netns) || !ours(f.dst_netns)) continue;
      flows_[Tuple{f.src, f.dst, f.dst_port, f.proto}].push_back(std::move(f));
    }
  }
  changed_.notify_all();
}

long FlowCollector::find_locked(const FlowKey& key) const {
  auto it = flows_.find(tuple_of(key));
  if (it == flows_.end()) return -1;
  for (std::size_t i = 0; i < it->second.size(); ++i) {
    if (key.src_port == 0 || it->second[i].src_port == key.src_port) return static_cast<long>(i);
  }
  return -1;
}

bool FlowCollector::wait_for(const std::vector<FlowKey>& keys, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] {
    for (const auto& key : keys) {
      if (find_locked(key) < 0) return false;
    }
    return true;
  });
}

void FlowCollector::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::optional<ObservedFlow> FlowCollector::take(const FlowKey& key) {
  std::lock_guard lock(mu_);
  const long i = find_locked(key);
  if (i < 0) return std::nullopt;
  auto& list = flows_[tuple_of(key)];
  ObservedFlow flow = std::move(list[static_cast<std::size_t>(i)]);
  list.erase(list.begin() + i);
  return flow;
}

}  // namespace npv::lab
