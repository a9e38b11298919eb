// Tables and JSON of npv_observer_bench (observer_bench_report.hpp).
#include "observer_bench_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <optional>

namespace npv::bench {

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string digits(double value) {
  auto n = static_cast<std::uint64_t>(std::llround(std::max(value, 0.0)));
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string percent(double ratio) { return fmt::format("{:+.1f}%", ratio * 100); }

const char* verdict(bool met) { return met ? "met" : "NOT met"; }

struct PhaseSummary {
  std::vector<const PhaseRun*> runs;
  std::vector<double> rates, cpu_us;  // per run: conn/s, CPU us per connection
  double median_rate = 0, median_cpu_us = 0;
  std::uint64_t unexpected = 0, overflows = 0;
  int first_errno = 0;
  double max_foreign = 0;
};

struct Summary {
  PhaseSummary none, npv, after, batched, deferred, empty, bpftrace;
  double baseline = 0;  // median over both "none" phases
  double baseline_cpu_us = 0;
  std::optional<double> npv_cpu_change, batched_cpu_change, deferred_cpu_change, empty_cpu_change, bpftrace_cpu_change;
  // rate / baseline - 1
  std::optional<double> npv_change, batched_change, deferred_change, empty_change, bpftrace_change, drift;
  std::uint64_t emitted = 0, lost = 0, consumed = 0, flows = 0, established = 0, connections = 0;
  double consumer_ms_per_10k = 0, consumer_cpu_share = 0;  // medians over the npv runs
  double deferred_ms_per_10k = 0, batched_ms_per_10k = 0;  // medians over those runs
  double bpftrace_transitions_per_connection = 0;          // median
  std::vector<std::string> degraded;
};

Summary summarize(const Report& r) {
  Summary s;
  for (const PhaseRun& run : r.runs) {
    PhaseSummary& p = run.phase == Phase::kNone        ? s.none
                      : run.phase == Phase::kNpv         ? s.npv
                      : run.phase == Phase::kNoneAfter   ? s.after
                      : run.phase == Phase::kNpvBatched  ? s.batched
                      : run.phase == Phase::kNpvDeferred ? s.deferred
                      : run.phase == Phase::kEmptyHooks  ? s.empty
                                                         : s.bpftrace;
    p.runs.push_back(&run);
    p.rates.push_back(run.storm.rate());
    p.cpu_us.push_back(run.cpu_us_per_connection());
    p.unexpected += run.storm.unexpected;
    if (!p.first_errno) p.first_errno = run.storm.first_unexpected_errno;
    p.overflows += run.listen_overflows;
    p.max_foreign = std::max(p.max_foreign, run.foreign_cpu);
  }
  for (PhaseSummary* p : {&s.none, &s.npv, &s.after, &s.batched, &s.deferred, &s.empty, &s.bpftrace}) {
    p->median_rate = median(p->rates);
    p->median_cpu_us = median(p->cpu_us);
  }
  std::vector<double> both = s.none.rates;
  both.insert(both.end(), s.after.rates.begin(), s.after.rates.end());
  s.baseline = median(both);
  std::vector<double> both_cpu = s.none.cpu_us;
  both_cpu.insert(both_cpu.end(), s.after.cpu_us.begin(), s.after.cpu_us.end());
  s.baseline_cpu_us = median(both_cpu);
  const auto cpu_change = [&](const PhaseSummary& p) -> std::optional<double> {
    if (s.baseline_cpu_us <= 0 || p.cpu_us.empty()) return std::nullopt;
    return p.median_cpu_us / s.baseline_cpu_us - 1;
  };
  s.npv_cpu_change = cpu_change(s.npv);
  s.batched_cpu_change = cpu_change(s.batched);
  s.deferred_cpu_change = cpu_change(s.deferred);
  s.empty_cpu_change = cpu_change(s.empty);
  s.bpftrace_cpu_change = cpu_change(s.bpftrace);
  if (s.baseline > 0 && !s.npv.rates.empty()) s.npv_change = s.npv.median_rate / s.baseline - 1;
  if (s.baseline > 0 && !s.batched.rates.empty()) s.batched_change = s.batched.median_rate / s.baseline - 1;
  if (s.baseline > 0 && !s.deferred.rates.empty()) s.deferred_change = s.deferred.median_rate / s.baseline - 1;
  if (s.baseline > 0 && !s.empty.rates.empty()) s.empty_change = s.empty.median_rate / s.baseline - 1;
  if (s.baseline > 0 && !s.bpftrace.rates.empty()) s.bpftrace_change = s.bpftrace.median_rate / s.baseline - 1;
  if (s.none.median_rate > 0 && !s.after.rates.empty()) s.drift = s.after.median_rate / s.none.median_rate - 1;

  std::vector<double> per_10k, share, transitions;
  for (const PhaseRun* run : s.npv.runs) {
    s.emitted += run->counters.emitted;
    s.lost += run->counters.lost;
    s.consumed += run->tally.events;
    s.flows += run->tally.flows;
    s.established += run->tally.flows_established;
    s.connections += run->storm.attempts;
    if (run->storm.attempts) per_10k.push_back(static_cast<double>(run->tally.cpu_ns) / 1e6 * 1e4 /
                                               static_cast<double>(run->storm.attempts));
    if (run->storm.seconds > 0) share.push_back(static_cast<double>(run->tally.cpu_ns) / 1e9 / run->storm.seconds);
    for (const auto& d : run->degraded) {
      if (std::find(s.degraded.begin(), s.degraded.end(), d) == s.degraded.end()) s.degraded.push_back(d);
    }
  }
  const auto consumer_10k = [&](const PhaseSummary& p) {
    std::vector<double> v;
    for (const PhaseRun* run : p.runs) {
      s.lost += run->counters.lost;
      if (run->storm.attempts) v.push_back(static_cast<double>(run->tally.cpu_ns) / 1e6 * 1e4 /
                                           static_cast<double>(run->storm.attempts));
    }
    return median(v);
  };
  s.batched_ms_per_10k = consumer_10k(s.batched);
  s.deferred_ms_per_10k = consumer_10k(s.deferred);
  for (const PhaseRun* run : s.bpftrace.runs) {
    if (run->storm.attempts) transitions.push_back(static_cast<double>(run->bpftrace_transitions) /
                                                   static_cast<double>(run->storm.attempts));
  }
  s.consumer_ms_per_10k = median(per_10k);
  s.consumer_cpu_share = median(share);
  s.bpftrace_transitions_per_connection = median(transitions);
  return s;
}

void print_phase(std::ostream& out, const char* label, const PhaseSummary& p, const std::string& change,
                 const std::string& cpu_change) {
  if (p.rates.empty()) return;
  std::string runs;
  for (double r : p.rates) runs += (runs.empty() ? "" : " ") + digits(r);
  std::string errors = std::to_string(p.unexpected);
  if (p.first_errno) errors += std::string(" (") + std::strerror(p.first_errno) + ")";
  out << fmt::format("  {:<14}{:>9} {:>13}  {:>7.1f} {:>7}  {:>6} {:>8} {:>5.0f}%   {}\n", label, digits(p.median_rate),
                     change, p.median_cpu_us, cpu_change, errors, p.overflows, p.max_foreign * 100, runs);
}

const VariantStats* find_variant(const Report& r, const std::string& name, bool live) {
  for (const auto& v : r.variants)
    if (v.name == name && v.live == live) return &v;
  return nullptr;
}

// Sum of the programs' run time per operation of a variant, and that as a share of the storm's
// CPU capacity per operation (CPUs x wall time / operations).
std::pair<double, double> bpf_ns_per_operation(const VariantStats& v, int cpus) {
  std::uint64_t ns = 0;
  for (const auto& p : v.programs) ns += p.run_time_ns;
  if (!v.storm.attempts) return {0, 0};
  const double per_op = static_cast<double>(ns) / static_cast<double>(v.storm.attempts);
  const double capacity = v.storm.seconds * 1e9 * cpus / static_cast<double>(v.storm.attempts);
  return {per_op, capacity > 0 ? per_op / capacity : 0};
}

std::string opt_ns(const std::optional<double>& v) { return v ? fmt::format("{:.0f}", *v) : std::string("-"); }

}  // namespace

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::kNone: return "none";
    case Phase::kNpv: return "npv";
    case Phase::kNoneAfter: return "none-after";
    case Phase::kNpvBatched: return "npv-batched";
    case Phase::kNpvDeferred: return "npv-deferred";
    case Phase::kEmptyHooks: return "empty-hooks";
    case Phase::kBpftrace: return "bpftrace";
  }
  return "?";
}

namespace {

void print_variants(const Report& r, bool live, std::ostream& out) {
  for (const VariantStats& v : r.variants) {
    if (v.live != live) continue;
    out << fmt::format("  {} consumer, variant {}: {} ({} operations, {} unexpected); events {} emitted, {} lost, "
                       "{} consumed\n",
                       live ? "live" : "deferred", v.name, v.description, digits(static_cast<double>(v.storm.attempts)),
                       v.storm.unexpected, digits(static_cast<double>(v.counters.emitted)),
                       digits(static_cast<double>(v.counters.lost)), digits(static_cast<double>(v.events)));
    out << fmt::format("    {:<26}{:>10}{:>11}{:>11}{:>9}\n", "program", "hits", "emitting", "filtered", "ns/hit");
    for (const ProgramDelta& p : v.programs) {
      if (!p.hits) continue;
      out << fmt::format("    {:<26}{:>10}{:>11}{:>11}{:>9.0f}\n", p.name, digits(static_cast<double>(p.hits)),
                         digits(static_cast<double>(p.emitting)), digits(static_cast<double>(p.hits - p.emitting)),
                         p.ns_per_hit());
    }
  }
}

const ProgramFit* find_fit(const std::vector<ProgramFit>& fits, const std::string& name) {
  for (const auto& f : fits)
    if (f.name == name) return &f;
  return nullptr;
}

struct Worst {
  double emitting = 0, filtered = 0;
};
Worst worst_of(const std::vector<ProgramFit>& fits) {
  Worst w;
  for (const auto& f : fits) {
    if (f.emitting_ns) w.emitting = std::max(w.emitting, *f.emitting_ns);
    if (f.filtered_ns) w.filtered = std::max(w.filtered, *f.filtered_ns);
  }
  return w;
}

}  // namespace

void print_text(const Report& r, std::ostream& out) {
  const Summary s = summarize(r);
  const Options& o = r.options;
  out << fmt::format("npv observer benchmark: kernel {}, {} CPUs, {} connections per storm, {} rounds, {} client threads\n",
                     r.kernel, r.cpus, digits(static_cast<double>(o.connections)), o.rounds, o.threads);
  out << "command: " << r.command << "\n\n";

  out << "(a) connect storm: client pod -> server pod, blocking connect, server accepts and closes, client closes\n"
         "    with SO_LINGER 0 (RST: no TIME_WAIT); median of the rounds\n";
  out << fmt::format("  {:<14}{:>9} {:>13}  {:>7} {:>7}  {:>6} {:>8} {:>6}   {}\n", "phase", "conn/s", "vs baseline",
                     "CPU us", "vs base", "errors", "overflow", "other", "runs (conn/s)");
  const auto change = [&](const std::optional<double>& c) { return c ? percent(*c) : std::string(); };
  print_phase(out, "none", s.none, "", "");
  print_phase(out, "npv", s.npv, change(s.npv_change), change(s.npv_cpu_change));
  print_phase(out, "none (after)", s.after, s.drift ? "drift " + percent(*s.drift) : "", "");
  print_phase(out, "npv, batched", s.batched, change(s.batched_change), change(s.batched_cpu_change));
  print_phase(out, "npv, deferred", s.deferred, change(s.deferred_change), change(s.deferred_cpu_change));
  print_phase(out, "empty hooks", s.empty, change(s.empty_change), change(s.empty_cpu_change));
  print_phase(out, "bpftrace", s.bpftrace, change(s.bpftrace_change), change(s.bpftrace_cpu_change));
  out << fmt::format("  baseline: median of both none phases ({} conn/s, {:.1f} CPU us per connection).\n"
                     "  npv: Observer + consumer thread polling into a FlowTracker, as npv observe does (poll 100 ms:\n"
                     "  reads on that timer, woken earlier only when a ring buffer is a quarter full).\n"
                     "  npv, batched: the same consumer reads every 100 ms (poll 0 + sleep), ignoring early wakeups.\n"
                     "  npv, deferred: the consumer drains only after the storm (the kernel side alone).\n"
                     "  empty hooks: a do-nothing program on each of npv's hooks (the hooks' own cost, a floor).\n"
                     "  CPU us: this process' CPU time (storm threads with their softirq work and BPF programs,\n"
                     "  accept thread, consumer) per connection. other: the largest share of the machine that other\n"
                     "  processes used during a run of the phase (a loaded machine makes conn/s noisy).\n",
                     digits(s.baseline), s.baseline_cpu_us);
  if (s.npv_change) {
    out << fmt::format("  npv slowdown: {:.1f}% (goal <= {:.0f}%: {})", -*s.npv_change * 100, kMaxSlowdown * 100,
                       verdict(-*s.npv_change <= kMaxSlowdown));
    if (s.batched_change) out << fmt::format("; batched {:.1f}%", -*s.batched_change * 100);
    if (s.deferred_change) out << fmt::format("; kernel side alone (deferred) {:.1f}%", -*s.deferred_change * 100);
    out << "\n";
    if (s.npv_cpu_change) {
      out << fmt::format("  npv CPU cost per connection: {:+.1f}%", *s.npv_cpu_change * 100);
      if (s.batched_cpu_change) out << fmt::format("; batched {:+.1f}%", *s.batched_cpu_change * 100);
      if (s.deferred_cpu_change) out << fmt::format("; kernel side alone (deferred) {:+.1f}%", *s.deferred_cpu_change * 100);
      out << "\n";
    }
    if (s.empty_change && s.empty_cpu_change)
      out << fmt::format("  the hooks alone (empty programs): {:.1f}% slower, {:+.1f}% CPU per connection: the floor under\n"
                         "  any observer of these events on this machine\n",
                         -*s.empty_change * 100, *s.empty_cpu_change * 100);
    out << fmt::format("  npv events: {} emitted, {} consumed, {} lost in all npv phases (goal 0: {}); {} flows for {}\n"
                       "  connections, {} established (the observer sees the whole machine: other traffic adds)\n",
                       digits(static_cast<double>(s.emitted)), digits(static_cast<double>(s.consumed)),
                       digits(static_cast<double>(s.lost)), verdict(s.lost == 0), digits(static_cast<double>(s.flows)),
                       digits(static_cast<double>(s.connections)), digits(static_cast<double>(s.established)));
    out << fmt::format("  npv consumer thread CPU per 10k connections: {:.1f} ms as npv observe ({:.1f}% of one CPU "
                       "during the storm), {:.1f} ms batched, {:.1f} ms deferred (one drain)\n",
                       s.consumer_ms_per_10k, s.consumer_cpu_share * 100, s.batched_ms_per_10k, s.deferred_ms_per_10k);
    for (const auto& d : s.degraded) out << "  npv degraded: " << d << "\n";
  }
  out << "\n";

  if (!r.variants.empty()) {
    out << "(b) BPF run time per invocation (kernel.bpf_stats_enabled=1 during this part, then restored)\n";
    if (r.stats_floor_ns) {
      out << fmt::format("  measurement floor: an empty program reads {:.1f} ns/run under bpf_stats here (the clock\n"
                         "  reads around each run); \"net\" below subtracts it\n",
                         *r.stats_floor_ns);
    } else {
      out << "  measurement floor unknown: " << r.stats_floor_error << "\n";
    }
    print_variants(r, true, out);
    print_variants(r, false, out);
    const double floor = r.stats_floor_ns.value_or(0);
    out << "  per program, ns per hit. deferred (reader asleep): the variants' ns/hit fitted as a line in\n"
           "  the fraction e of hits that emitted; e=1 is an emitting hit, e=0 a filtered one (* extrapolated\n"
           "  from e <= 0.5 only). live (consumer polling, as npv observe): filtered as deferred, emitting =\n"
           "  (time - filtered hits x that) / emitting hits. net: minus the measurement floor.\n";
    out << fmt::format("    {:<26}{:>11}{:>11}  {:>9}{:>9}{:>9}  {:>9}{:>9}{:>9}\n", "program", "hits", "e range",
                       "filtered", "net", "", "emitting", "net", "live");
    for (const ProgramFit& f : r.fits_live) {
      if (!f.hits) continue;
      const ProgramFit* d = find_fit(r.fits_deferred, f.name);
      const auto net = [&](const std::optional<double>& v) {
        return v ? fmt::format("{:.0f}", std::max(*v - floor, 0.0)) : std::string("-");
      };
      if (!d) continue;
      const bool extrapolated = d->emitting_ns && d->max_fraction <= 0.5;
      out << fmt::format("    {:<26}{:>11}{:>11}  {:>9}{:>9}{:>9}  {:>9}{:>9}{:>9}\n", f.name,
                         digits(static_cast<double>(d->hits)), fmt::format("{:.2f}-{:.2f}", d->min_fraction, d->max_fraction),
                         opt_ns(d->filtered_ns), net(d->filtered_ns), extrapolated ? "*" : "", opt_ns(d->emitting_ns),
                         net(d->emitting_ns), opt_ns(f.emitting_ns));
    }
    const Worst live = worst_of(r.fits_live), deferred = worst_of(r.fits_deferred);
    out << fmt::format("  emitting hit, live consumer (as npv observe): worst {:.0f} ns (goal <= {:.0f}: {})\n",
                       live.emitting, kMaxEmittingNs, verdict(live.emitting <= kMaxEmittingNs));
    out << fmt::format("  emitting hit, reader asleep (deferred): worst {:.0f} ns, net {:.0f} (goal: {} raw, {} net)\n",
                       deferred.emitting, std::max(deferred.emitting - floor, 0.0),
                       verdict(deferred.emitting <= kMaxEmittingNs), verdict(deferred.emitting - floor <= kMaxEmittingNs));
    out << fmt::format("  filtered hit: worst {:.0f} ns, net {:.0f} (goal <= {:.0f}: {} raw, {} net)\n", deferred.filtered,
                       std::max(deferred.filtered - floor, 0.0), kMaxFilteredNs,
                       verdict(deferred.filtered <= kMaxFilteredNs), verdict(deferred.filtered - floor <= kMaxFilteredNs));
    for (bool is_live : {true, false}) {
      if (const VariantStats* accept = find_variant(r, "accept", is_live)) {
        const auto [ns, share] = bpf_ns_per_operation(*accept, r.cpus);
        out << fmt::format("  accept storm, {} consumer: the npv programs together take {:.0f} ns per connection = "
                           "{:.1f}% of the CPU time per connection (CPUs x wall / connections)\n",
                           is_live ? "live" : "deferred", ns, share * 100);
      }
    }
    out << "\n";
  }

  if (s.bpftrace.rates.empty() && r.bpftrace_error.empty()) return;
  out << "(c) peer baseline: bpftrace -e '" << "tracepoint:sock:inet_sock_set_state { @[args->newstate] = count(); }'\n";
  if (!r.bpftrace_error.empty()) out << "  bpftrace could not run: " << r.bpftrace_error << "\n";
  if (s.bpftrace_change) {
    out << fmt::format("  bpftrace: {} conn/s ({:+.1f}% vs baseline), CPU per connection {:+.1f}%; npv: {:+.1f}% / {:+.1f}%,\n"
                       "  npv batched: {:+.1f}% / {:+.1f}%, npv kernel side alone: {:+.1f}% / {:+.1f}%\n",
                       digits(s.bpftrace.median_rate), *s.bpftrace_change * 100, s.bpftrace_cpu_change.value_or(0) * 100,
                       s.npv_change.value_or(0) * 100, s.npv_cpu_change.value_or(0) * 100,
                       s.batched_change.value_or(0) * 100, s.batched_cpu_change.value_or(0) * 100,
                       s.deferred_change.value_or(0) * 100, s.deferred_cpu_change.value_or(0) * 100);
    out << fmt::format("  bpftrace counted {:.1f} state changes per connection (it was attached throughout)\n",
                       s.bpftrace_transitions_per_connection);
  }
  if (r.tracefs_mounted) out << "  tracefs was not mounted: mounted on /sys/kernel/tracing for bpftrace, unmounted on exit\n";
}

nlohmann::json to_json(const Report& r) {
  const Summary s = summarize(r);
  const auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  nlohmann::json runs = nlohmann::json::array();
  for (const PhaseRun& run : r.runs) {
    nlohmann::json j = {{"phase", phase_name(run.phase)},
                        {"connections", run.storm.attempts},
                        {"unexpected", run.storm.unexpected},
                        {"seconds", run.storm.seconds},
                        {"connections_per_s", run.storm.rate()},
                        {"listen_overflows", run.listen_overflows},
                        {"other_cpu_share", run.foreign_cpu},
                        {"cpu_us_per_connection", run.cpu_us_per_connection()}};
    if (run.phase == Phase::kNpv || run.phase == Phase::kNpvBatched || run.phase == Phase::kNpvDeferred) {
      j["events"] = {{"emitted", run.counters.emitted},
                     {"lost", run.counters.lost},
                     {"consumed", run.tally.events}};
      j["flows"] = run.tally.flows;
      j["flows_established"] = run.tally.flows_established;
      j["consumer_cpu_ns"] = run.tally.cpu_ns;
      j["degraded"] = run.degraded;
    }
    if (run.phase == Phase::kBpftrace) j["bpftrace_transitions"] = run.bpftrace_transitions;
    runs.push_back(std::move(j));
  }
  nlohmann::json variants = nlohmann::json::array();
  for (const auto& v : r.variants) variants.push_back(to_json(v));
  nlohmann::json fits_live = nlohmann::json::array(), fits_deferred = nlohmann::json::array();
  for (const auto& f : r.fits_live) fits_live.push_back(to_json(f));
  for (const auto& f : r.fits_deferred) fits_deferred.push_back(to_json(f));
  nlohmann::json bpf = {{"floor_ns_per_run", opt(r.stats_floor_ns)},
                        {"variants", variants},
                        {"programs_live", fits_live},
                        {"programs_deferred", fits_deferred}};
  for (bool live : {true, false}) {
    if (const VariantStats* accept = find_variant(r, "accept", live)) {
      const auto [ns, share] = bpf_ns_per_operation(*accept, r.cpus);
      bpf[live ? "accept_live" : "accept_deferred"] = {{"ns_per_connection", ns}, {"cpu_share", share}};
    }
  }
  return {{"command", r.command},
          {"kernel", r.kernel},
          {"cpus", r.cpus},
          {"connections", r.options.connections},
          {"rounds", r.options.rounds},
          {"threads", r.options.threads},
          {"summary",
           {{"none_connections_per_s", s.none.median_rate},
            {"npv_connections_per_s", s.npv.median_rate},
            {"none_after_connections_per_s", s.after.median_rate},
            {"bpftrace_connections_per_s", s.bpftrace.rates.empty() ? nlohmann::json() : nlohmann::json(s.bpftrace.median_rate)},
            {"baseline_connections_per_s", s.baseline},
            {"npv_deferred_connections_per_s", s.deferred.rates.empty() ? nlohmann::json() : nlohmann::json(s.deferred.median_rate)},
            {"baseline_cpu_us_per_connection", s.baseline_cpu_us},
            {"npv_cpu_us_per_connection", s.npv.median_cpu_us},
            {"npv_cpu_change", opt(s.npv_cpu_change)},
            {"npv_batched_cpu_change", opt(s.batched_cpu_change)},
            {"npv_deferred_cpu_change", opt(s.deferred_cpu_change)},
            {"empty_hooks_cpu_change", opt(s.empty_cpu_change)},
            {"bpftrace_cpu_change", opt(s.bpftrace_cpu_change)},
            {"npv_change", opt(s.npv_change)},
            {"npv_batched_connections_per_s", s.batched.rates.empty() ? nlohmann::json() : nlohmann::json(s.batched.median_rate)},
            {"npv_batched_change", opt(s.batched_change)},
            {"npv_deferred_change", opt(s.deferred_change)},
            {"empty_hooks_change", opt(s.empty_change)},
            {"bpftrace_change", opt(s.bpftrace_change)},
            {"drift", opt(s.drift)},
            {"events_emitted", s.emitted},
            {"events_lost", s.lost},
            {"events_consumed", s.consumed},
            {"consumer_cpu_ms_per_10k_connections", s.consumer_ms_per_10k},
            {"consumer_cpu_share", s.consumer_cpu_share},
            {"batched_consumer_cpu_ms_per_10k_connections", s.batched_ms_per_10k},
            {"deferred_consumer_cpu_ms_per_10k_connections", s.deferred_ms_per_10k},
            {"bpftrace_transitions_per_connection", s.bpftrace_transitions_per_connection}}},
          {"tracefs_mounted_by_bench", r.tracefs_mounted},
          {"bpftrace_error", r.bpftrace_error.empty() ? nlohmann::json() : nlohmann::json(r.bpftrace_error)},
          {"runs", runs},
          {"bpf_stats", bpf}};
}

}  // namespace npv::bench
