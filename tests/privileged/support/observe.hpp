// Collecting events from a running npv::Observer in privileged tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "npv/observer.hpp"

namespace npv::test {

// Polls `observer` until `done(kept)` holds or `budget` runs out; keeps the events `keep` accepts.
inline std::vector<npv_event> collect_events(Observer& observer, const std::function<bool(const npv_event&)>& keep,
                                             const std::function<bool(const std::vector<npv_event>&)>& done,
                                             std::chrono::milliseconds budget = std::chrono::milliseconds(1000)) {
  std::vector<npv_event> kept;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (!done(kept) && std::chrono::steady_clock::now() < deadline) {
    const int n = observer.poll(std::chrono::milliseconds(20), [&](const npv_event& e) {
      if (keep(e)) kept.push_back(e);
    });
    EXPECT_GE(n, 0) << "Observer::poll: " << std::strerror(-n);
  }
  return kept;
}

inline std::vector<npv_event> of_type(const std::vector<npv_event>& events, std::uint8_t type) {
  std::vector<npv_event> out;
  for (const auto& e : events)
    if (e.type == type) out.push_back(e);
  return out;
}

inline std::string saddr_of(const npv_event& e) { return std::string(reinterpret_cast<const char*>(e.saddr), 16); }
inline std::string daddr_of(const npv_event& e) { return std::string(reinterpret_cast<const char*>(e.daddr), 16); }

}  // namespace npv::test
