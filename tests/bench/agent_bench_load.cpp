// The cluster and the paced traffic of npv_agent_bench (agent_bench_load.hpp).
#include "agent_bench_load.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <latch>
#include <thread>
#include <vector>

#include "observer_bench_driver.hpp"
#include "support/kube_fixtures.hpp"
#include "support/manifest_writer.hpp"
#include "support/random_cluster.hpp"

namespace npv::bench {

using nlohmann::json;

LoadedCounts load_generated(test::FakeApiServer& server, const GeneratedSize& size) {
  test::RandomClusterSpec spec;
  spec.pods = size.pods;
  spec.namespaces = size.namespaces;
  spec.policies = size.policies;
  spec.seed = size.seed;
  json list = test::cluster_to_manifests(test::random_cluster(spec));
  LoadedCounts counts;
  counts.json_bytes = list.dump().size();
  for (json& item : list["items"]) {
    const std::string kind = item.value("kind", "");
    if (kind == "Namespace") {
      server.apply("namespaces", std::move(item));
      ++counts.namespaces;
    } else if (kind == "Pod") {
      if (item.contains("status")) ++counts.pods_with_ip;
      server.apply("pods", std::move(item));
      ++counts.pods;
    } else if (kind == "NetworkPolicy") {
      server.apply("networkpolicies", std::move(item));
      ++counts.policies;
    }
  }
  return counts;
}

void load_lab_objects(test::FakeApiServer& server, const LabPod& client, const LabPod& server_pod) {
  server.apply("namespaces", test::namespace_object(kLabNamespace));
  server.apply("pods", test::pod_object(kLabNamespace, "client", {{"app", "bench-client"}}, client.v4.to_string(),
                                        "Running", 9000));
  server.apply("pods", test::pod_object(kLabNamespace, "server", {{"app", "bench-server"}},
                                        server_pod.v4.to_string(), "Running", kAllowedPort));
  server.apply("networkpolicies", test::policy_object(kLabNamespace, "default-deny",
                                                      {{"podSelector", json::object()}, {"policyTypes", {"Ingress"}}}));
  server.apply("networkpolicies",
               test::policy_object(kLabNamespace, "allow-client",
                                   {{"podSelector", {{"matchLabels", {{"app", "bench-server"}}}}},
                                    {"policyTypes", {"Ingress"}},
                                    {"ingress",
                                     {{{"from", {{{"podSelector", {{"matchLabels", {{"app", "bench-client"}}}}}}}},
                                       {"ports", {{{"protocol", "TCP"}, {"port", kAllowedPort}}}}}}}}));
}

namespace {

struct ThreadTally {
  std::uint64_t attempts = 0, connected = 0, to_denied = 0, failed = 0;
  int first_errno = 0;
  std::uint64_t end_ns = 0;
  std::uint64_t max_lag_ns = 0;
};

sockaddr_in v4_to(const IpAddr& ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  std::memcpy(&a.sin_addr, ip.bytes.data(), 4);
  return a;
}

void sleep_until_ns(std::uint64_t t) {
  const timespec ts{static_cast<time_t>(t / 1'000'000'000ULL), static_cast<long>(t % 1'000'000'000ULL)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// Spreads `percent` of the indices evenly: true for i where floor((i+1)p/100) > floor(ip/100).
bool denied_slot(std::uint64_t i, unsigned percent) { return (i + 1) * percent / 100 > i * percent / 100; }

}  // namespace

PacedResult run_paced(const LabPod& client, const IpAddr& server, const PacedSpec& spec) {
  PacedResult r;
  if (spec.rate <= 0) {
    const std::uint64_t end = monotonic_ns() + static_cast<std::uint64_t>(spec.seconds * 1e9);
    while (monotonic_ns() < end && !g_interrupted.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    r.seconds = spec.seconds;
    return r;
  }
  const std::uint64_t count = static_cast<std::uint64_t>(spec.rate * spec.seconds);
  const double interval_ns = 1e9 / spec.rate;
  const sockaddr_in allowed = v4_to(server, kAllowedPort), denied = v4_to(server, kDeniedPort);
  const int threads = std::max(spec.threads, 1);
  std::atomic<std::uint64_t> next{0};
  std::latch ready(threads);
  std::atomic<std::uint64_t> start_ns{0};
  std::latch go(1);
  std::vector<ThreadTally> tallies(static_cast<std::size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ThreadTally& tally = tallies[static_cast<std::size_t>(t)];
      auto entered = run_in(client, [&] {
        ready.count_down();
        go.wait();
        const std::uint64_t start = start_ns.load();
        for (;;) {
          const std::uint64_t i = next.fetch_add(1, std::memory_order_relaxed);
          if (i >= count || g_interrupted.load(std::memory_order_relaxed)) break;
          const std::uint64_t due = start + static_cast<std::uint64_t>(static_cast<double>(i) * interval_ns);
          const std::uint64_t now = monotonic_ns();
          if (now < due) {
            sleep_until_ns(due);
          } else {
            tally.max_lag_ns = std::max(tally.max_lag_ns, now - due);
          }
          const bool to_denied = denied_slot(i, spec.denied_percent);
          const sockaddr_in& to = to_denied ? denied : allowed;
          ++tally.attempts;
          tally.to_denied += to_denied;
          const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
          if (fd < 0) {
            ++tally.failed;
            if (!tally.first_errno) tally.first_errno = errno;
            continue;
          }
          const linger abort_on_close{1, 0};
          setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
          if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) {
            ++tally.connected;
          } else {
            ++tally.failed;
            if (!tally.first_errno) tally.first_errno = errno;
          }
          close(fd);
        }
        tally.end_ns = monotonic_ns();
      });
      if (!entered) {  // setns failed: nothing ran; do not leave the others waiting
        ready.count_down();
        tally.first_errno = entered.error().sys_errno;
        ++tally.failed;
      }
    });
  }
  ready.wait();
  start_ns = monotonic_ns() + 1'000'000;  // every thread reads it after go
  go.count_down();
  for (auto& w : workers) w.join();

  std::uint64_t end = start_ns.load();
  for (const ThreadTally& t : tallies) {
    r.attempts += t.attempts;
    r.connected += t.connected;
    r.to_denied_port += t.to_denied;
    r.failed += t.failed;
    if (!r.first_errno) r.first_errno = t.first_errno;
    r.max_lag_ms = std::max(r.max_lag_ms, static_cast<double>(t.max_lag_ns) / 1e6);
    end = std::max(end, t.end_ns);
  }
  r.seconds = static_cast<double>(end - start_ns.load()) / 1e9;
  return r;
}

}  // namespace npv::bench
