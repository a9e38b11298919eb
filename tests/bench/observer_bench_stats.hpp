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
//
// Two modes, each with its own Observer: live (the consumer polls during the storm, as `npv
// observe` does) and deferred (the consumer drains after the storm, from a ring buffer sized to
// hold it all). The programs submit without waking the reader (bpf/lib/npv_event.bpf.h), except
// for the few records that bring a ring buffer to a quarter full; so the two modes differ only in
// what a consumer reading at the same time costs the hooks (cache lines of the ring buffer).
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
  bool live = true;         // consumer polling during the storm; false: it drains afterwards
  std::string name;         // "accept", "refused", "udp", "teardown"
  std::string description;  // one line
  StormResult storm;
  std::vector<ProgramDelta> programs;
  ObserverCounters counters;  // all groups, delta over the variant
  std::uint64_t events = 0;   // consumed
};

// Which program emits each event type (the table in bpf/*.bpf.c).
std::optional<std::string> emitting_program(std::uint8_t event_type);

// Before/after snapshots -> per-program deltas; `by_type` is the consumer's count of events.
std::vector<ProgramDelta> program_deltas(const std::vector<ProgramStats>& before, const std::vector<ProgramStats>& after,
                                         const ConsumerTally& tally);

struct ProgramFit {
  std::string name;
  std::uint64_t hits = 0, emitting = 0;  // over all variants
  std::optional<double> emitting_ns, filtered_ns;
  double mean_ns = 0;                 // over all variants: total time / total hits
  double min_fraction = 0, max_fraction = 0;  // range of e over the variants used
  int variants = 0;                   // variants with at least kMinHits hits
};
inline constexpr std::uint64_t kMinHits = 200;

// Fits the variants of one mode (live or deferred consumer). With `filtered_from` (the deferred
// fits), a program's filtered cost is taken from there - a filtered hit never touches the ring
// buffer, so it costs the same in both modes - and its emitting cost is what remains of its
// total time over all variants of this mode, per emitting hit: (T - F * filtered) / E. The live
// mode uses this: how often a live consumer has to be woken varies with the variant, which makes
// a straight-line fit of its variants unreliable.
std::vector<ProgramFit> fit_programs(const std::vector<VariantStats>& variants, bool live,
                                     const std::vector<ProgramFit>* filtered_from = nullptr);

// What bpf_stats reports for an empty program ("r0 = 0; exit") run 1,000,000 times through
// BPF_PROG_TEST_RUN: the floor of the measurement itself on this machine (the clock reads around
// each run). Needs kernel.bpf_stats_enabled=1. An error message if it cannot be measured.
Result<double> bpf_stats_floor_ns();

nlohmann::json to_json(const VariantStats& v);
nlohmann::json to_json(const ProgramFit& f);

}  // namespace npv::bench
