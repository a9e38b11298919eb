// Engine benchmarks on a generated cluster of 10,000 pods in 1,000 namespaces with 5,000 policies
// mixing every feature (tests/support/random_cluster.hpp). Figures reported in the README.
//
//   build/tests/bench/npv_engine_bench
//
// Verdicts are single-threaded. Index memory is reported two ways: the bytes the index holds
// (index_MiB) and the growth of the process' peak RSS while building it (peak_rss_MiB, measured
// by resetting the kernel's high-water mark through /proc/self/clear_refs).
#include <benchmark/benchmark.h>

#include <fstream>
#include <random>
#include <string>

#include "npv/matrix.hpp"
#include "npv/policy_engine.hpp"
#include "support/random_cluster.hpp"
#include "support/reference_evaluator.hpp"

namespace {

using namespace npv;

const ClusterState& big_cluster() {
  static const ClusterState cluster =
      test::random_cluster({.namespaces = 1000, .pods = 10'000, .policies = 5000, .seed = 42});
  return cluster;
}

// The same cluster (identical pods and NetworkPolicies: tier policies are generated last) with 100
// AdminNetworkPolicy / BaselineAdminNetworkPolicy / ClusterNetworkPolicy objects added.
const ClusterState& big_cluster_with_tiers() {
  static const ClusterState cluster =
      test::random_cluster({.namespaces = 1000, .pods = 10'000, .policies = 5000, .tier_policies = 100, .seed = 42});
  return cluster;
}

// Worst case for the tiers' cost: the same 100 policies with every action Pass, so every verdict
// walks the Admin tier, then NetworkPolicy, then the Baseline tier, and the verdicts equal the
// NetworkPolicy-only ones.
const ClusterState& big_cluster_with_pass_tiers() {
  static const ClusterState cluster = [] {
    ClusterState c = big_cluster_with_tiers();
    for (TierPolicy& p : c.tier_policies) {
      for (auto* rules : {&p.ingress, &p.egress}) {
        for (TierRule& r : *rules) r.action = TierAction::kPass;
      }
    }
    return c;
  }();
  return cluster;
}

std::vector<Flow> flows(const ClusterState& cluster, std::size_t n) {
  std::mt19937_64 rng(7);
  std::vector<Flow> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(test::random_flow(cluster, rng));
  return out;
}

// Reads VmHWM or VmRSS from /proc/self/status, in KiB.
long proc_status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

void BM_BuildIndex(benchmark::State& state) {
  const ClusterState& cluster = big_cluster();
  double peak_growth_mib = 0;
  std::size_t index_bytes = 0;
  for (auto _ : state) {
    std::ofstream("/proc/self/clear_refs") << "5";  // reset VmHWM to the current RSS
    long before = proc_status_kib("VmRSS");
    PolicyEngine engine(cluster);
    long peak = proc_status_kib("VmHWM");
    peak_growth_mib = std::max(peak_growth_mib, (peak - before) / 1024.0);
    index_bytes = engine.index_memory_bytes();
    benchmark::DoNotOptimize(engine);
  }
  state.counters["index_MiB"] = index_bytes / 1048576.0;
  state.counters["peak_rss_MiB"] = peak_growth_mib;
  state.counters["pods"] = static_cast<double>(cluster.pods.size());
  state.counters["policies"] = static_cast<double>(cluster.policies.size());
}
BENCHMARK(BM_BuildIndex)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_VerdictIndexed(benchmark::State& state) {
  const ClusterState& cluster = big_cluster();
  PolicyEngine engine(cluster);
  static const std::vector<Flow> fs = flows(cluster, 1 << 20);
  std::size_t i = 0;
  std::size_t allowed = 0;
  for (auto _ : state) {
    allowed += engine.allowed(fs[i++ & (fs.size() - 1)]);
  }
  benchmark::DoNotOptimize(allowed);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["allowed_pct"] = 100.0 * allowed / static_cast<double>(state.iterations());
}
BENCHMARK(BM_VerdictIndexed);

// BM_VerdictIndexed with 100 tier policies: the verdict rate should stay within 20%.
void BM_VerdictIndexedTiers(benchmark::State& state) {
  const ClusterState& cluster = state.range(0) ? big_cluster_with_pass_tiers() : big_cluster_with_tiers();
  PolicyEngine engine(cluster);
  static const std::vector<Flow> fs = flows(cluster, 1 << 20);
  std::size_t i = 0;
  std::size_t allowed = 0;
  for (auto _ : state) {
    allowed += engine.allowed(fs[i++ & (fs.size() - 1)]);
  }
  benchmark::DoNotOptimize(allowed);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["allowed_pct"] = 100.0 * allowed / static_cast<double>(state.iterations());
  state.counters["tier_policies"] = static_cast<double>(cluster.tier_policies.size());
  state.counters["index_MiB"] = engine.index_memory_bytes() / 1048576.0;
}
BENCHMARK(BM_VerdictIndexedTiers)->ArgName("all_pass")->Arg(0)->Arg(1);

void BM_VerdictReference(benchmark::State& state) {
  const ClusterState& cluster = big_cluster();
  static const std::vector<Flow> fs = flows(cluster, 1 << 12);
  std::size_t i = 0;
  std::size_t allowed = 0;
  for (auto _ : state) {
    allowed += test::reference_allowed(cluster, fs[i++ & (fs.size() - 1)]);
  }
  benchmark::DoNotOptimize(allowed);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_VerdictReference)->Unit(benchmark::kMicrosecond);

// The engine part of `npv matrix` for 1,000 pods x 4 ports (tests/bench/matrix_cli.sh times the
// whole command, loading and JSON output included).
void BM_Matrix1000Pods4Ports(benchmark::State& state) {
  static const ClusterState cluster = test::random_cluster({.namespaces = 100, .pods = 1000, .policies = 500, .seed = 42});
  PolicyEngine engine(cluster);
  std::vector<PortProto> ports{{80, Protocol::kTCP}, {443, Protocol::kTCP}, {53, Protocol::kUDP}, {5432, Protocol::kTCP}};
  for (auto _ : state) {
    auto m = compute_matrix(engine, ports);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 1000 * 1000 * 4);
}
BENCHMARK(BM_Matrix1000Pods4Ports)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
