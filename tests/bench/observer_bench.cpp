// npv_observer_bench: what the eBPF flow observer costs the traffic it watches.
//
//   build/tests/bench/npv_observer_bench --connections 20000 --rounds 3 [--threads N] [--json]
//
// Needs root (network namespaces, eBPF); without it, exits 3. Builds a lab of two pods (client,
// server) with NetnsLab (namespaces "npvb-..."), and only ever sends traffic between them.
//  (a) connect storm: --connections TCP connections from the client to a listener on the server
//      that accepts and closes, over --threads client threads (blocking connect, close with
//      SO_LINGER 0: a RST, so no TIME_WAIT piles up and every round finds the same port space).
//      Each round runs: none (no observer), npv (Observer + a consumer thread polling into a
//      FlowTracker, as `npv observe` does: reads every 100 ms, or earlier when a ring buffer is a
//      quarter full), none again (drift), npv-batched (the consumer reads every 100 ms and never
//      waits on the ring buffers, so early wakeups are ignored), npv-deferred (the consumer drains
//      only after the storm: the in-kernel cost alone), empty-hooks (a do-nothing program on each
//      of npv's hooks, empty_hooks.bpf.c: what the hooks cost before any work), bpftrace (part c).
//      Medians over --rounds are reported, with events lost and the consumer thread's CPU time.
//  (b) BPF run time per hook invocation: kernel.bpf_stats_enabled=1 (restored on exit) during
//      four storm variants, with a live and with a deferred consumer; see observer_bench_stats.hpp
//      for the split into emitting and filtered hits.
//  (c) peer baseline: the same storm under `bpftrace -e 'tracepoint:sock:inet_sock_set_state
//      { @[args->newstate] = count(); }'` (a child process). tracepoint: probes need tracefs: if
//      /sys/kernel/tracing is not mounted, the benchmark mounts it and unmounts it on exit.
//
// Timings are never test assertions: this binary is built with the project, never run by ctest.
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <string>
#include <thread>
#include <vector>

#include "empty_hooks.hpp"
#include "npv/netns_lab.hpp"
#include "npv/observer.hpp"
#include "observer_bench_driver.hpp"
#include "observer_bench_report.hpp"
#include "observer_bench_stats.hpp"

namespace npv::bench {
namespace {

constexpr char kPrefix[] = "npvb";
constexpr std::uint16_t kTcpPort = 8080;       // listener: accepts and closes
constexpr std::uint16_t kClosedPort = 8081;    // nobody listens: refused
constexpr std::uint16_t kTeardownPort = 8082;  // HeldConnections
constexpr std::uint16_t kUdpPort = 5353;       // UdpReceiver
constexpr std::uint16_t kUdpDropPort = 5354;   // dropped by nftables in the server pod
constexpr double kQuietShare = 0.05;  // "quiet": other processes use < 5% of the machine
constexpr std::chrono::milliseconds kBatchInterval{100};  // npv-batched: read every 100 ms
constexpr char kBpftraceProgram[] = "tracepoint:sock:inet_sock_set_state { @[args->newstate] = count(); }";

struct Lab {
  NetnsLab lab;
  LabPod client, server;
  std::unique_ptr<AcceptServer> listener;
};

Result<Lab> make_lab() {
  if (auto stale = NetnsLab::cleanup_stale(kPrefix); !stale) return std::unexpected(stale.error());
  auto lab = NetnsLab::create(kPrefix);
  if (!lab) return std::unexpected(lab.error());
  auto client = lab->add_pod("bench/client", *IpAddr::parse("10.254.77.2"));
  if (!client) return std::unexpected(client.error());
  auto server = lab->add_pod("bench/server", *IpAddr::parse("10.254.77.3"));
  if (!server) return std::unexpected(server.error());
  auto listener = AcceptServer::start(*server, kTcpPort);
  if (!listener) return std::unexpected(listener.error());
  return Lab{std::move(*lab), std::move(*client), std::move(*server), std::move(*listener)};
}

// A ring buffer that holds every event of a storm of n operations (a deferred consumer reads
// them only afterwards): at most 3 events of 80 bytes (record header included) per operation, x2.
std::size_t ring_for(std::uint64_t n) { return std::max<std::size_t>(std::size_t{1} << 22, n * 3 * 80 * 2); }

// One timed storm, with the watcher of `phase` set up before and torn down after the clock.
Result<PhaseRun> run_phase(Phase phase, const Lab& lab, const Options& opt) {
  std::optional<Observer> observer;
  std::optional<Consumer> consumer;
  std::optional<BpftraceChild> bpftrace;
  std::optional<EmptyHooks> empty_hooks;
  PhaseRun run;
  run.phase = phase;
  if (phase == Phase::kNpv || phase == Phase::kNpvBatched || phase == Phase::kNpvDeferred) {
    ObserverOptions options;
    if (phase == Phase::kNpvDeferred) options.ring_buffer_bytes = ring_for(opt.connections);
    auto started = Observer::start(options);
    if (!started) return std::unexpected(started.error());
    observer.emplace(std::move(*started));
    run.degraded = observer->degraded();
    consumer.emplace(*observer, phase == Phase::kNpvBatched ? kBatchInterval : std::chrono::milliseconds(0));
    if (phase != Phase::kNpvDeferred) consumer->start();
  } else if (phase == Phase::kEmptyHooks) {
    auto attached = EmptyHooks::attach();
    if (!attached) return std::unexpected(attached.error());
    empty_hooks.emplace(std::move(*attached));
  } else if (phase == Phase::kBpftrace) {
    auto started = BpftraceChild::start(kBpftraceProgram, std::chrono::seconds(60));
    if (!started) return std::unexpected(started.error());
    bpftrace.emplace(std::move(*started));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the consumer / child settle
  // Other processes make conn/s noisy (see the "other" column): start when the machine is quiet.
  wait_for_quiet(kQuietShare, std::chrono::seconds(opt.quiet_wait_s));

  const std::uint64_t overflows = listen_overflows(lab.server);
  const CpuSnapshot before = CpuSnapshot::take();
  run.storm = run_storm(StormKind::kAccept, lab.client, lab.server.v4, kTcpPort, 0, opt.connections, opt.threads);
  const CpuSnapshot after = CpuSnapshot::take();
  run.foreign_cpu = foreign_cpu_share(before, after);
  run.self_cpu_ns = after.self_ns - before.self_ns;
  run.listen_overflows = listen_overflows(lab.server) - overflows;

  if (consumer) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // late server-side closes
    if (phase == Phase::kNpvDeferred) consumer->start();  // drains what the storm left
    run.tally = consumer->stop();
    run.counters = observer->counters();
  }
  if (bpftrace) {
    auto out = bpftrace->stop();
    if (!out) return std::unexpected(out.error());
    run.bpftrace_transitions = bpftrace_map_total(*out);
  }
  return run;
}

// Part (b), one mode: one Observer, four variants (observer_bench_stats.hpp).
Result<void> run_variants(const Lab& lab, const Options& opt, bool live, std::vector<VariantStats>& out) {
  ObserverOptions options;
  if (!live) options.ring_buffer_bytes = ring_for(opt.connections);
  auto started = Observer::start(options);
  if (!started) return std::unexpected(started.error());
  Observer& observer = *started;
  Consumer consumer(observer);

  const auto measure = [&](const char* name, const char* description, const auto& body) {
    VariantStats v;
    v.live = live;
    v.name = name;
    v.description = description;
    const auto before = observer.program_stats();
    const ObserverCounters c0 = observer.counters();
    if (live) consumer.start();
    v.storm = body();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // late closes, final ACKs
    const auto after = observer.program_stats();
    if (!live) consumer.start();  // drains after the snapshot: its reads are not hook hits
    const ConsumerTally tally = consumer.stop();
    const ObserverCounters c1 = observer.counters();
    v.programs = program_deltas(before, after, tally);
    v.counters = {c1.emitted - c0.emitted, c1.lost - c0.lost};
    v.events = tally.events;
    out.push_back(std::move(v));
  };
  const std::uint64_t n = opt.connections;
  measure("accept", "connect + accept + RST close (the storm of part a)",
          [&] { return run_storm(StormKind::kAccept, lab.client, lab.server.v4, kTcpPort, 0, n, opt.threads); });
  if (g_interrupted) return {};
  measure("refused", "connect to a closed port: RST, ECONNREFUSED",
          [&] { return run_storm(StormKind::kRefused, lab.client, lab.server.v4, kClosedPort, 0, n, opt.threads); });
  if (g_interrupted) return {};
  measure("udp", "a fresh socket sends 1 datagram delivered + 1 dropped by nftables", [&] {
    return run_storm(StormKind::kUdp, lab.client, lab.server.v4, kUdpPort, kUdpDropPort, n / 2, opt.threads);
  });
  if (g_interrupted) return {};
  // Teardown: the connections are set up (consumer running) before the variant starts.
  consumer.start();
  auto held = HeldConnections::open(lab.client, lab.server, kTeardownPort, opt.teardown);
  consumer.stop();
  if (!held) return std::unexpected(held.error());
  measure("teardown", "close held connections (FIN both ways): only filtered TCP state changes",
          [&] { return held->close_all(); });
  return {};
}

// Part (b): bpf_stats on (restored on return), the floor, then both modes.
Result<void> run_bpf_stats(const Lab& lab, const Options& opt, Report& report) {
  auto stats_on = SysctlGuard::set("/proc/sys/kernel/bpf_stats_enabled", "1");
  if (!stats_on) return std::unexpected(stats_on.error());
  if (auto floor = bpf_stats_floor_ns()) {
    report.stats_floor_ns = *floor;
  } else {
    report.stats_floor_error = floor.error().message;
  }
  auto receiver = udp_listen(lab.server, kUdpPort);
  if (!receiver) return std::unexpected(receiver.error());
  const std::string drop_rule = "table inet npvb { chain input { type filter hook input priority 0; policy accept; "
                                "udp dport " + std::to_string(kUdpDropPort) + " drop; }; }";
  if (auto applied = apply_nft(lab.server, drop_rule); !applied) return std::unexpected(applied.error());
  for (bool live : {true, false}) {
    if (auto done = run_variants(lab, opt, live, report.variants); !done) return done;
    if (g_interrupted) break;
  }
  report.fits_deferred = fit_programs(report.variants, false);
  report.fits_live = fit_programs(report.variants, true, &report.fits_deferred);
  return {};
}

std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

int run(int argc, char** argv) {
  Options opt;
  CLI::App app{"npv_observer_bench: cost of npv's eBPF flow observer on a TCP connect storm", "npv_observer_bench"};
  app.add_option("--connections", opt.connections, "connections per storm")->check(CLI::Range(100, 10'000'000));
  app.add_option("--rounds", opt.rounds, "rounds of (none, npv, none-after, npv-batched, npv-deferred, empty-hooks, bpftrace); medians are reported")
      ->check(CLI::Range(1, 100));
  app.add_option("--threads", opt.threads, "client threads (default: number of online CPUs)")->check(CLI::Range(1, 64));
  app.add_option("--teardown", opt.teardown, "held connections closed in the teardown variant of part (b)")
      ->check(CLI::Range(100, 20'000));
  app.add_option("--quiet-wait", opt.quiet_wait_s,
                 "before each timed storm, wait up to this many seconds until other processes use < 5% of the CPUs")
      ->check(CLI::Range(0, 3600));
  app.add_flag("--json", opt.json, "machine-readable output (JSON on stdout)");
  app.add_flag("--no-bpftrace", opt.no_bpftrace, "skip part (c)");
  app.add_flag("--no-bpf-stats", opt.no_bpf_stats, "skip part (b)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitBadInput;
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "npv_observer_bench: needs root (network namespaces and eBPF)\n");
    return kExitEnvironment;
  }
  spdlog::set_level(spdlog::level::warn);
  if (opt.threads == 0) opt.threads = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  // The teardown variant holds two descriptors per connection.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
    const auto fit = static_cast<std::uint64_t>(files.rlim_cur > 400 ? (files.rlim_cur - 200) / 2 : 100);
    opt.teardown = std::min(opt.teardown, fit);
  }
  install_signal_handlers();

  Report report;
  report.command = command_line(argc, argv);
  report.options = opt;
  utsname u{};
  uname(&u);
  report.kernel = u.release;
  report.cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));

  auto lab = make_lab();
  if (!lab) {
    std::fprintf(stderr, "npv_observer_bench: lab: %s\n", lab.error().message.c_str());
    return lab.error().exit_code();
  }
  std::optional<TracefsGuard> tracefs;
  if (!opt.no_bpftrace) {
    if (auto t = TracefsGuard::ensure()) {
      tracefs.emplace(std::move(*t));
      report.tracefs_mounted = tracefs->mounted_by_us();
    } else {
      report.bpftrace_error = t.error().message;
    }
  }

  // Warm-up (not reported): first-use costs of the lab, the listener and the port allocator.
  run_storm(StormKind::kAccept, lab->client, lab->server.v4, kTcpPort, 0, std::min<std::uint64_t>(opt.connections, 5000),
            opt.threads);
  for (int round = 0; round < opt.rounds && !g_interrupted; ++round) {
    for (Phase phase :
         {Phase::kNone, Phase::kNpv, Phase::kNoneAfter, Phase::kNpvBatched, Phase::kNpvDeferred, Phase::kEmptyHooks,
          Phase::kBpftrace}) {
      if (g_interrupted) break;
      if (phase == Phase::kBpftrace && (opt.no_bpftrace || !report.bpftrace_error.empty())) continue;
      auto r = run_phase(phase, *lab, opt);
      if (!r) {
        if (phase == Phase::kBpftrace) {
          report.bpftrace_error = r.error().message;
          continue;
        }
        std::fprintf(stderr, "npv_observer_bench: %s: %s\n", phase_name(phase), r.error().message.c_str());
        return r.error().exit_code();
      }
      if (!opt.json) std::fprintf(stderr, "round %d %-10s %8.0f conn/s\n", round + 1, phase_name(phase), r->storm.rate());
      report.runs.push_back(std::move(*r));
    }
  }
  tracefs.reset();

  if (!opt.no_bpf_stats && !g_interrupted) {
    if (auto done = run_bpf_stats(*lab, opt, report); !done) {
      std::fprintf(stderr, "npv_observer_bench: bpf stats: %s\n", done.error().message.c_str());
      return done.error().exit_code();
    }
  }
  if (auto destroyed = lab->lab.destroy(); !destroyed)
    std::fprintf(stderr, "npv_observer_bench: lab teardown: %s\n", destroyed.error().message.c_str());
  if (g_interrupted) {
    std::fprintf(stderr, "npv_observer_bench: interrupted\n");
    return 130;
  }
  if (opt.json) {
    std::cout << to_json(report).dump(2) << "\n";
  } else {
    print_text(report, std::cout);
  }
  return 0;
}

}  // namespace
}  // namespace npv::bench

int main(int argc, char** argv) { return npv::bench::run(argc, argv); }
