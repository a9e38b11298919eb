// The userspace half of the observer's cost: FlowTracker (and the rendering npv observe does) per
// connection of the connect storm of npv_observer_bench, on synthetic events, so that it can be
// measured apart from the kernel and from a busy machine.
//
//   build/tests/bench/npv_tracker_bench
//
// Each connection is what the kernel reports for an established one: the client's ESTABLISHED and
// the server's ACCEPTED, 8 us apart (~125,000 connections/s); source ports cycle through 28,000
// ports, so a port is reused every ~0.22 s, as in the storm. take_completed() runs every 100 ms of
// event time (npv observe's poll timeout), and every flow is rendered with flow_to_text().
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include "npv/flow_tracker.hpp"

namespace {

using namespace npv;

constexpr std::uint64_t kGapNs = 8'000;
constexpr std::uint64_t kPollNs = 100'000'000;
constexpr std::uint16_t kPorts = 28'000;

npv_event event(std::uint8_t type, std::uint16_t sport, std::uint64_t ts) {
  npv_event e{};
  e.type = type;
  e.family = AF_INET;
  e.protocol = IPPROTO_TCP;
  const std::uint8_t src[4] = {10, 254, 77, 2}, dst[4] = {10, 254, 77, 3};
  std::memcpy(e.saddr, src, 4);
  std::memcpy(e.daddr, dst, 4);
  e.sport = sport;
  e.dport = 8080;
  e.netns = type == NPV_EV_TCP_ACCEPTED ? 2 : 1;
  e.ts_ns = ts;
  return e;
}

void BM_TrackerPerConnection(benchmark::State& state) {
  FlowTracker tracker(nullptr, {});
  std::uint64_t ts = 1'000'000'000, next_poll = ts + kPollNs, i = 0, flows = 0;
  std::string line;
  for (auto _ : state) {
    const auto port = static_cast<std::uint16_t>(32768 + i++ % kPorts);
    tracker.on_event(event(NPV_EV_TCP_ESTABLISHED, port, ts));
    tracker.on_event(event(NPV_EV_TCP_ACCEPTED, port, ts + 20'000));
    ts += kGapNs;
    if (ts >= next_poll) {
      next_poll += kPollNs;
      for (const ObservedFlow& f : tracker.take_completed(ts)) {
        line = flow_to_text(f, nullptr);
        ++flows;
      }
    }
  }
  for (const ObservedFlow& f : tracker.flush()) {
    line = flow_to_text(f, nullptr);
    ++flows;
  }
  state.counters["flows"] = static_cast<double>(flows);
  state.counters["evicted"] = static_cast<double>(tracker.stats().evicted);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TrackerPerConnection)->Iterations(2'000'000);

}  // namespace

BENCHMARK_MAIN();
