// EventBatch (include/npv/event_batch.hpp).
#include "npv/event_batch.hpp"

#include <algorithm>

namespace npv {

namespace {

bool earlier(const npv_event& a, const npv_event& b) { return a.ts_ns < b.ts_ns; }

}  // namespace

void EventBatch::begin_run() {
  if (next_ == events_.size()) {  // everything delivered: start over, keeping the capacity
    events_.clear();
    runs_.clear();
    next_ = 0;
  }
  if (runs_.empty() && next_ < events_.size()) runs_.push_back(next_);  // the leftover: the oldest run
  if (runs_.empty() || runs_.back() != events_.size()) runs_.push_back(events_.size());
}

void EventBatch::add(const npv_event& event) {
  if (runs_.empty()) begin_run();
  events_.push_back(event);
}

void EventBatch::order() {
  if (runs_.empty()) return;
  std::vector<std::size_t> bounds = runs_;
  bounds.push_back(events_.size());
  const auto at = [this](std::size_t i) { return events_.begin() + static_cast<std::ptrdiff_t>(i); };
  for (std::size_t r = 0; r + 1 < bounds.size(); ++r) {
    if (!std::is_sorted(at(bounds[r]), at(bounds[r + 1]), earlier))
      std::stable_sort(at(bounds[r]), at(bounds[r + 1]), earlier);
  }
  // Bottom-up: merge neighbouring runs pairwise until one is left; a run on the left keeps its
  // events first among equal times, so ring order holds for ties.
  const std::size_t runs = bounds.size() - 1;
  for (std::size_t width = 1; width < runs; width *= 2) {
    for (std::size_t r = 0; r + width < runs; r += 2 * width) {
      const std::size_t end = bounds[std::min(r + 2 * width, runs)];
      std::inplace_merge(at(bounds[r]), at(bounds[r + width]), at(end), earlier);
    }
  }
  runs_.clear();
}

int EventBatch::deliver(const std::function<void(const npv_event&)>& on_event) {
  order();
  int n = 0;
  while (next_ < events_.size()) {
    const npv_event& event = events_[next_++];
    ++n;
    on_event(event);  // if it throws, events_[next_..] stays for the next deliver()
  }
  return n;
}

}  // namespace npv
