// What npv_agent_bench (agent_bench.cpp) puts in front of `npv agent`: the cluster the test API
// server serves, and TCP connections between two lab pods at a fixed rate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "npv/netns_lab.hpp"
#include "support/fake_api_server.hpp"

namespace npv::bench {

// ---- the cluster --------------------------------------------------------------------------------

struct GeneratedSize {
  std::size_t pods = 10'000, namespaces = 1'000, policies = 5'000;
  std::uint64_t seed = 1;
};

struct LoadedCounts {
  std::size_t namespaces = 0, pods = 0, pods_with_ip = 0, policies = 0;
  std::size_t json_bytes = 0;  // the generated List as JSON text (npv_bench_gen's output)
};

// Applies the generated cluster (tests/support/random_cluster, written as npv_bench_gen writes
// it) to the server, each object as generated, to the resource of its kind.
LoadedCounts load_generated(test::FakeApiServer& server, const GeneratedSize& size);

// The benchmark's own namespace, of no generated name ("ns-NNNN").
inline constexpr char kLabNamespace[] = "npv-bench";
inline constexpr std::uint16_t kAllowedPort = 8080;  // allowed from the client by the policies
inline constexpr std::uint16_t kDeniedPort = 8081;   // denied by them, yet nothing enforces it

// The two lab pods as Pod objects in kLabNamespace, and two policies there: default-deny (every
// pod of the namespace, ingress) and allow-client (the server accepts kAllowedPort/TCP from the
// client). So every client -> server flow is a policy subject: to kAllowedPort it is allowed and
// connects (agrees), to kDeniedPort it is denied but connects (silent non-enforcement).
void load_lab_objects(test::FakeApiServer& server, const LabPod& client, const LabPod& server_pod);

// ---- the traffic --------------------------------------------------------------------------------

struct PacedSpec {
  double rate = 2000;     // connections per second (0: none, the phase only waits)
  double seconds = 15;
  int threads = 2;        // client threads
  unsigned denied_percent = 0;  // this share of the connections goes to kDeniedPort, spread evenly
};

struct PacedResult {
  std::uint64_t attempts = 0, connected = 0, to_denied_port = 0;
  std::uint64_t failed = 0;
  int first_errno = 0;
  double seconds = 0;      // from the first due time until the last connection was done
  double max_lag_ms = 0;   // how late a connection started behind its schedule, at worst
  double rate() const { return seconds > 0 ? static_cast<double>(attempts) / seconds : 0; }
};

// Connection i is due at start + i / rate: a client thread (inside the client pod) takes the next
// connection, sleeps until it is due (not at all when behind: the schedule is caught up flat out,
// and rate() shows what was achieved), connects to the server (blocking) and closes with
// SO_LINGER 0 (RST: no TIME_WAIT piles up). Connections due after `seconds` are not made; stops
// early on g_interrupted.
PacedResult run_paced(const LabPod& client, const IpAddr& server, const PacedSpec& spec);

}  // namespace npv::bench
