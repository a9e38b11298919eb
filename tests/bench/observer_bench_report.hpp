// What npv_observer_bench measured, and how it is printed: a table, or JSON (--json).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "npv/observer.hpp"
#include "observer_bench_driver.hpp"
#include "observer_bench_stats.hpp"

namespace npv::bench {

struct Options {
  std::uint64_t connections = 20'000;
  int rounds = 3;
  int threads = 0;  // 0: number of online CPUs
  std::uint64_t teardown = 5'000;
  int quiet_wait_s = 60;  // before each timed storm, wait up to this long for a quiet machine
  bool json = false;
  bool no_bpftrace = false;
  bool no_bpf_stats = false;
};

enum class Phase { kNone, kNpv, kNoneAfter, kNpvBatched, kNpvDeferred, kEmptyHooks, kBpftrace };
// "none", "npv", "none-after", "npv-batched", "npv-deferred", "empty-hooks", "bpftrace"
const char* phase_name(Phase phase);

// One timed storm of part (a)/(c).
struct PhaseRun {
  Phase phase = Phase::kNone;
  StormResult storm;
  double foreign_cpu = 0;               // share of the machine used by other processes meanwhile
  // CPU time of this process during the storm: client threads (with the softirq work done in
  // their context, BPF programs included), the accept thread and, for npv, the consumer.
  std::uint64_t self_cpu_ns = 0;
  double cpu_us_per_connection() const {
    return storm.attempts ? static_cast<double>(self_cpu_ns) / 1e3 / static_cast<double>(storm.attempts) : 0;
  }
  std::uint64_t listen_overflows = 0;   // the server's accept queue overflowed (should be 0)
  ConsumerTally tally;                  // npv
  ObserverCounters counters;            // npv: the Observer's, over the phase
  std::vector<std::string> degraded;    // npv
  std::uint64_t bpftrace_transitions = 0;  // bpftrace: sum of its map
};

struct Report {
  std::string command, kernel;
  int cpus = 0;
  Options options;
  std::vector<PhaseRun> runs;
  bool tracefs_mounted = false;  // by the benchmark, for bpftrace (unmounted again)
  std::string bpftrace_error;
  std::vector<VariantStats> variants;  // live, then deferred
  std::vector<ProgramFit> fits_live, fits_deferred;
  std::optional<double> stats_floor_ns;
  std::string stats_floor_error;
};

// Goals the figures are compared with.
inline constexpr double kMaxSlowdown = 0.03;
inline constexpr double kMaxEmittingNs = 150;
inline constexpr double kMaxFilteredNs = 40;

void print_text(const Report& report, std::ostream& out);
nlohmann::json to_json(const Report& report);

}  // namespace npv::bench
