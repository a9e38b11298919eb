// Findings per window and drift alerts (finding_window.hpp): rules W1-W4.
#include "npv/finding_window.hpp"

#include <iterator>
#include <utility>

namespace npv {

const char* to_string(DriftKind k) {
  switch (k) {
    case DriftKind::kEnforcementLost: return "enforcement-lost";
    case DriftKind::kEnforcementRestored: return "enforcement-restored";
  }
  return "unknown";
}

FindingWindow::FindingWindow(FindingWindowOptions options) : options_(options) {
  if (options_.max_keys == 0) options_.max_keys = 1;
}

void FindingWindow::add(const FindingSample& sample, std::uint64_t now_ns,
                        std::chrono::system_clock::time_point wall) {
  Key key{sample.src, sample.dst, sample.port, sample.kind};  // W1
  if (auto it = windows_.find(key); it != windows_.end()) {  // W2: same window
    FindingRecord& r = it->second->record;
    r.last = sample;
    ++r.count;
    r.last_ns = now_ns;
    r.last_wall = wall;
    return;
  }
  if (windows_.size() >= options_.max_keys) {  // W4: close the oldest early
    closed_.push_back(std::move(order_.front().record));
    windows_.erase(order_.front().key);
    order_.pop_front();
  }
  FindingRecord r;  // W2: a new window
  r.last = sample;
  r.count = 1;
  r.first_ns = r.last_ns = now_ns;
  r.first_wall = r.last_wall = wall;
  order_.push_back(Window{key, std::move(r)});
  windows_.emplace(std::move(key), std::prev(order_.end()));
}

std::optional<DriftAlert> FindingWindow::denied_flow(const FindingSample& sample, bool leaked,
                                                     std::chrono::system_clock::time_point wall) {
  DriftKey key{sample.src, sample.dst, sample.port};
  auto it = drift_.find(key);
  if (it == drift_.end()) {  // W3: the first denied flow of a key raises nothing
    if (drift_.size() >= options_.max_keys) {  // W4
      drift_.erase(drift_lru_.back());
      drift_lru_.pop_back();
    }
    drift_lru_.push_front(key);
    drift_.emplace(std::move(key), DriftState{leaked, drift_lru_.begin()});
    return std::nullopt;
  }
  drift_lru_.splice(drift_lru_.begin(), drift_lru_, it->second.lru);
  const bool was_leaked = it->second.leaked;
  it->second.leaked = leaked;
  if (was_leaked == leaked) return std::nullopt;
  DriftAlert alert;  // W3: a transition
  alert.kind = leaked ? DriftKind::kEnforcementLost : DriftKind::kEnforcementRestored;
  alert.sample = sample;
  alert.before = was_leaked ? "leaked" : "enforced";
  alert.now = leaked ? "leaked" : "enforced";
  alert.when = wall;
  return alert;
}

std::vector<FindingRecord> FindingWindow::take_closed(std::uint64_t now_ns) {
  const auto window = static_cast<std::uint64_t>(options_.window.count());
  while (!order_.empty() && order_.front().record.first_ns + window <= now_ns) {  // W2
    closed_.push_back(std::move(order_.front().record));
    windows_.erase(order_.front().key);
    order_.pop_front();
  }
  return std::exchange(closed_, {});
}

std::vector<FindingRecord> FindingWindow::flush() {
  while (!order_.empty()) {
    closed_.push_back(std::move(order_.front().record));
    order_.pop_front();
  }
  windows_.clear();
  return std::exchange(closed_, {});
}

}  // namespace npv
