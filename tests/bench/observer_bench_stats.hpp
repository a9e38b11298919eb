// Part (b) of npv_observer_bench: the kernel's run time of each BPF program per invocation, split
// into hits that emitted an event and hits the in-kernel filter rejected.
//
// What is measured: with kernel.bpf_stats_enabled=1 the kernel times every run of every program
// (run_cnt, run_time_ns in bpf_prog_info; the two clock reads around the run are partly included).
// One Observer runs through several storm variants; each variant is the difference of
// Observer::program_stats() before and after it, and the consumer counts the events it received
// by type, which says how many hits of each program emitted (each event type comes from exactly
// one program). So for each program and variant: n hits, E emitting, F = n - E filtered, T ns.
//
// How it is split: the variants mix emitting and filtered hits in different proportions (some
// are pure: the teardown variant only has filtered TCP state changes, the refused variant only
// emitting RST hits, the UDP variant only emitting drops). Per program, the mean ns per hit of
// each variant is fitted by least squares as a line in the emitting fraction e = E / n:
//   ns_per_hit(e) = filtered_ns + (emitting_ns - filtered_ns) * e
// so filtered_ns is the line at e = 0 and emitting_ns at e = 1. A program seen at only one e
// gives only that end (e = 0 or 1) or only a mean.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "npv/observer.hpp"
#include "observer_bench_driver.hpp"

namespace npv::bench {

struct ProgramDelta {
  std::string name;
  ObserverGroup group = ObserverGroup::kTcp;
  std::uint64_t hits = 0, emitting = 0, run_time_ns = 0;
  double ns_per_hit() const { return hits ? static_cast<double>(run_time_ns) / static_cast<double>(hits) : 0; }
};

struct VariantStats {
  std::string name;         // "accept", "refused", "udp", "teardown"
  std::string description;  // one line
  StormResult storm;
  std::vector<ProgramDelta> programs;
  ObserverCounters counters;  // all groups, delta over the variant
  std::uint64_t events = 0;   // consumed
};

// Which program emits each event type (the table in bpf/*.bpf.c). `syn_sent_by_sockops` is false
// when the Observer reports that the sockops program is not attached.
std::optional<std::string> emitting_program(std::uint8_t event_type, bool syn_sent_by_sockops);

// Before/after snapshots -> per-program deltas; `by_type` is the consumer's count of events.
std::vector<ProgramDelta> program_deltas(const std::vector<ProgramStats>& before, const std::vector<ProgramStats>& after,
                                         const ConsumerTally& tally, bool syn_sent_by_sockops);

struct ProgramFit {
  std::string name;
  std::uint64_t hits = 0, emitting = 0;  // over all variants
  std::optional<double> emitting_ns, filtered_ns;
  double mean_ns = 0;                 // over all variants: total time / total hits
  double min_fraction = 0, max_fraction = 0;  // range of e over the variants used
  int variants = 0;                   // variants with at least kMinHits hits
};
inline constexpr std::uint64_t kMinHits = 200;

std::vector<ProgramFit> fit_programs(const std::vector<VariantStats>& variants);

nlohmann::json to_json(const VariantStats& v);
nlohmann::json to_json(const ProgramFit& f);

}  // namespace npv::bench
