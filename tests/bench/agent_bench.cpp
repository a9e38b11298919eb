// npv_agent_bench: what `npv agent` costs on a node of a large cluster (issue 5).
//
//   build/tests/bench/npv_agent_bench [--pods 10000 --namespaces 1000 --policies 5000]
//                                     [--rates 0,2000,20000] [--seconds 15] [--denied-percent 10]
//
// Needs root (network namespaces, and the agent's eBPF); without it, exits 3.
//  1. The test API server (tests/support/fake_api_server, in this process, on 127.0.0.1) serves
//     the generated cluster (tests/support/random_cluster, as `npv_bench_gen` writes it) plus the
//     benchmark's own namespace "npv-bench": two lab pods, client and server (NetnsLab
//     namespaces "npvab-...", 10.213.80.0/24), and two policies that make every client -> server
//     flow a policy subject (agent_bench_load.hpp).
//  2. The real `npv agent` binary runs against it (--kubeconfig, --listen 127.0.0.1:PORT, Events
//     posted to the test server unless --no-events). Reported: time from spawn to /readyz 200
//     (first full LIST, snapshot, engine compiled), the agent's CPU time until then, and its
//     VmRSS / VmHWM right after.
//  3. Phases at fixed connection rates (0 = idle), each --seconds long: a paced connect from the
//     client to the server (--denied-percent of them to a port the policies deny, which connects
//     anyway: silent non-enforcement findings). Per phase: the agent's CPU from /proc/PID/stat
//     (utime + stime of every thread, % of one core), VmRSS / VmHWM, and from /metrics the flows
//     observed, judged, findings and events lost; "other" is the share of the machine other
//     processes (not this benchmark, not the agent) used meanwhile.
// The agent is stopped on every way out (SIGTERM, then SIGKILL; PR_SET_PDEATHSIG covers a crash
// of the benchmark), the lab is torn down; what a killed run left (namespaces, the kubeconfig and
// the agent's log in $TMPDIR) is removed by the next run. Timings are never test assertions: this binary is
// built with the project, never run by ctest.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <spdlog/spdlog.h>
#include <string>
#include <thread>
#include <vector>

#include "agent_bench_child.hpp"
#include "agent_bench_load.hpp"
#include "observer_bench_driver.hpp"

namespace npv::bench {
namespace {

using namespace std::chrono_literals;
constexpr char kPrefix[] = "npvab";
constexpr double kGoalRssMiB = 150;
constexpr double kGoalCpuPercent = 5;  // of one core, at 2,000 connections/s
constexpr double kGoalRate = 2000;

struct BenchOptions {
  GeneratedSize size;
  std::vector<double> rates{0, 2000, 20000};
  double seconds = 15;
  int threads = 2;
  unsigned denied_percent = 10;
  int quiet_wait_s = 30;
  bool no_events = false;
  bool thread_detail = false;
  std::string npv = NPV_BINARY;
};

struct Counters {
  double observed = 0, judged = 0, findings = 0, lost_kernel = 0, lost_user = 0;
  static Counters scrape(std::uint16_t port) {
    const std::string m = http_get(port, "/metrics").second;
    return {metric_sum(m, "npv_flows_observed_total"), metric_sum(m, "npv_flows_judged_total", "status=\"judged\""),
            metric_sum(m, "npv_findings_total"),
            metric_sum(m, "npv_events_lost_total", "stage=\"kernel_ring_buffer\""),
            metric_sum(m, "npv_events_lost_total", "stage=\"user_queue\"")};
  }
  Counters operator-(const Counters& o) const {
    return {observed - o.observed, judged - o.judged, findings - o.findings, lost_kernel - o.lost_kernel,
            lost_user - o.lost_user};
  }
};

struct PhaseResult {
  double target = 0;
  PacedResult traffic;
  double cpu_percent = 0, other_share = 0;
  double rss_mib = 0, hwm_mib = 0;
  Counters delta;
  std::vector<std::pair<std::string, double>> threads;  // "tid comm" -> % of a core, busiest first
};

double mib(std::uint64_t kib) { return static_cast<double>(kib) / 1024.0; }

// Removes the temporary files of earlier runs that were killed (their pid is gone).
void remove_stale_files(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    for (const std::string prefix : {"npv-agent-bench-kubeconfig-", "npv-agent-bench-agent-"}) {
      if (name.rfind(prefix, 0) != 0) continue;
      const int pid = std::atoi(name.c_str() + prefix.size());
      if (pid > 0 && !std::filesystem::exists("/proc/" + std::to_string(pid))) std::filesystem::remove(e.path(), ec);
    }
  }
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Per-thread CPU of the agent between two samples, busiest first (threads that used any).
std::vector<std::pair<std::string, double>> thread_cpu(const ProcSample& a, const ProcSample& b, pid_t pid) {
  std::vector<std::pair<std::string, double>> out;
  const double seconds = static_cast<double>(b.wall_ns - a.wall_ns) / 1e9;
  for (const auto& [tid, ticks] : b.thread_ticks) {
    auto before = a.thread_ticks.find(tid);
    const std::uint64_t used = ticks - (before == a.thread_ticks.end() ? 0 : before->second);
    if (used == 0) continue;
    const std::string name = std::to_string(tid) + (tid == pid ? " main " : " ") + b.thread_names.at(tid);
    out.emplace_back(name, 100.0 * static_cast<double>(used) / static_cast<double>(sysconf(_SC_CLK_TCK)) / seconds);
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  return out;
}

Result<PhaseResult> run_phase(double rate, const BenchOptions& opt, AgentChild& agent, std::uint16_t port,
                              const LabPod& client, const LabPod& server) {
  wait_for_quiet(0.05, std::chrono::seconds(opt.quiet_wait_s));
  PhaseResult p;
  p.target = rate;
  const Counters c0 = Counters::scrape(port);
  const auto s0 = ProcSample::take(agent.pid());
  const CpuSnapshot m0 = CpuSnapshot::take();
  p.traffic = run_paced(client, server.v4, {rate, opt.seconds, opt.threads, opt.denied_percent});
  const auto s1 = ProcSample::take(agent.pid());
  const CpuSnapshot m1 = CpuSnapshot::take();
  if (!s0 || !s1 || !agent.alive()) return make_error(Errc::kEnvironment, "the agent exited during the phase");
  p.cpu_percent = cpu_percent(*s0, *s1);
  p.other_share = std::max(0.0, foreign_cpu_share(m0, m1) - p.cpu_percent / 100.0 / static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN)));
  p.rss_mib = mib(s1->rss_kib);
  p.hwm_mib = mib(s1->hwm_kib);
  p.threads = thread_cpu(*s0, *s1, agent.pid());
  std::this_thread::sleep_for(1500ms);  // the tracker's settle time and the loop's 100 ms poll
  p.delta = Counters::scrape(port) - c0;
  return p;
}

void print_table(const std::vector<PhaseResult>& phases, bool thread_detail) {
  std::printf("\n%-7s %8s %9s %10s %8s %9s %9s %9s %8s %9s %6s\n", "phase", "target/s", "achieved", "agent CPU",
              "RSS MiB", "peak MiB", "observed", "judged", "findings", "lost k/u", "other");
  for (const auto& p : phases) {
    char name[16];
    std::snprintf(name, sizeof name, "%s", p.target == 0 ? "idle" : p.target < 10000 ? "low" : "high");
    std::printf("%-7s %8.0f %9.0f %9.2f%% %8.1f %9.1f %9.0f %9.0f %8.0f %4.0f/%-4.0f %5.0f%%\n", name, p.target,
                p.traffic.rate(), p.cpu_percent, p.rss_mib, p.hwm_mib, p.delta.observed, p.delta.judged,
                p.delta.findings, p.delta.lost_kernel, p.delta.lost_user, 100 * p.other_share);
  }
  for (const auto& p : phases) {
    if (p.target > 0) {
      const double cpu_us = p.traffic.attempts ? p.cpu_percent / 100.0 * p.traffic.seconds * 1e6 /
                                                     static_cast<double>(p.traffic.attempts)
                                               : 0;
      std::printf("  %.0f/s: %llu connections (%llu to the denied port), %llu failed%s%s, worst lag behind schedule "
                  "%.1f ms; agent CPU %.2f us per connection (idle share included)\n",
                  p.target, static_cast<unsigned long long>(p.traffic.attempts),
                  static_cast<unsigned long long>(p.traffic.to_denied_port),
                  static_cast<unsigned long long>(p.traffic.failed), p.traffic.first_errno ? ": " : "",
                  p.traffic.first_errno ? std::strerror(p.traffic.first_errno) : "", p.traffic.max_lag_ms, cpu_us);
    }
    if (!thread_detail) continue;
    std::printf("  %.0f/s, agent threads (tid, %% of a core):", p.target);
    for (const auto& [name, pct] : p.threads) std::printf(" [%s %.2f%%]", name.c_str(), pct);
    std::printf("\n");
  }
}

int run(int argc, char** argv) {
  BenchOptions opt;
  CLI::App app{"npv_agent_bench: CPU and memory of `npv agent` on a large cluster at fixed connection rates",
               "npv_agent_bench"};
  app.add_option("--pods", opt.size.pods, "generated pods")->capture_default_str();
  app.add_option("--namespaces", opt.size.namespaces, "generated namespaces")->capture_default_str();
  app.add_option("--policies", opt.size.policies, "generated NetworkPolicies")->capture_default_str();
  app.add_option("--seed", opt.size.seed, "generator seed")->capture_default_str();
  app.add_option("--rates", opt.rates, "connection rates of the phases, per second (0: idle)")->delimiter(',');
  app.add_option("--seconds", opt.seconds, "length of each phase")->check(CLI::Range(1.0, 3600.0))->capture_default_str();
  app.add_option("--threads", opt.threads, "client threads making the connections")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--denied-percent", opt.denied_percent, "share of connections to the port the policies deny")
      ->check(CLI::Range(0, 100))->capture_default_str();
  app.add_option("--quiet-wait", opt.quiet_wait_s, "before each phase, wait up to this long until other processes use < 5% of the CPUs")
      ->check(CLI::Range(0, 3600))->capture_default_str();
  app.add_flag("--no-events", opt.no_events, "run the agent with --no-events (default: it posts Events to the test server)");
  app.add_flag("--thread-detail", opt.thread_detail, "print the agent's CPU per thread for each phase");
  app.add_option("--npv", opt.npv, "the npv binary")->check(CLI::ExistingFile)->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitBadInput;
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "npv_agent_bench: needs root (network namespaces and the agent's eBPF)\n");
    return kExitEnvironment;
  }
  spdlog::set_level(spdlog::level::warn);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens, also into a file
  install_signal_handlers();
  std::printf("machine: %ld CPUs, load average %s (at start)\n", sysconf(_SC_NPROCESSORS_ONLN), load_average().c_str());

  // The lab: client and server pods, a listener on the allowed and on the denied port.
  if (auto stale = NetnsLab::cleanup_stale(kPrefix); !stale) {
    std::fprintf(stderr, "npv_agent_bench: %s\n", stale.error().message.c_str());
    return stale.error().exit_code();
  }
  auto lab = NetnsLab::create(kPrefix);
  if (!lab) return std::fprintf(stderr, "npv_agent_bench: lab: %s\n", lab.error().message.c_str()), lab.error().exit_code();
  auto client = lab->add_pod("npv-bench/client", *IpAddr::parse("10.213.80.2"));
  auto server = client ? lab->add_pod("npv-bench/server", *IpAddr::parse("10.213.80.3")) : client;
  if (!client || !server) {
    const Error& e = client ? server.error() : client.error();
    std::fprintf(stderr, "npv_agent_bench: lab pods: %s\n", e.message.c_str());
    return e.exit_code();
  }
  std::unique_ptr<AcceptServer> listeners[2];
  for (int i = 0; i < 2; ++i) {
    auto started = AcceptServer::start(*server, i == 0 ? kAllowedPort : kDeniedPort);
    if (!started) {
      std::fprintf(stderr, "npv_agent_bench: listener: %s\n", started.error().message.c_str());
      return started.error().exit_code();
    }
    listeners[i] = std::move(*started);
  }

  // The test API server and its cluster.
  test::FakeApiServer api;
  const std::uint64_t load0 = monotonic_ns();
  const LoadedCounts loaded = load_generated(api, opt.size);
  load_lab_objects(api, *client, *server);
  std::printf("test API server %s: %zu namespaces, %zu pods (%zu with IPs), %zu NetworkPolicies generated (seed %llu, "
              "%.1f MiB as a JSON List), + namespace %s with 2 lab pods and 2 policies; loaded in %.2f s\n",
              api.url().c_str(), loaded.namespaces, loaded.pods, loaded.pods_with_ip, loaded.policies,
              static_cast<unsigned long long>(opt.size.seed), mib(loaded.json_bytes / 1024), kLabNamespace,
              static_cast<double>(monotonic_ns() - load0) / 1e9);

  const auto tmp = std::filesystem::temp_directory_path();
  remove_stale_files(tmp);
  const auto kubeconfig = tmp / ("npv-agent-bench-kubeconfig-" + std::to_string(getpid()));
  const auto log = tmp / ("npv-agent-bench-agent-" + std::to_string(getpid()) + ".log");
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\n"
                            << "clusters: [{name: bench, cluster: {server: \"" << api.url() << "\"}}]\n"
                            << "users: [{name: bench, user: {token: bench}}]\n"
                            << "contexts: [{name: bench, context: {cluster: bench, user: bench}}]\n"
                            << "current-context: bench\n";
  struct Cleanup {  // the temporary files, on every way out
    std::filesystem::path a, b;
    bool keep_log = false;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove(a, ec);
      if (!keep_log) std::filesystem::remove(b, ec);
    }
  } cleanup{kubeconfig, log};

  const std::uint16_t port = free_port();
  std::vector<std::string> args = {"--kubeconfig", kubeconfig.string(), "--node-name", "bench-node",
                                   "--listen", "127.0.0.1:" + std::to_string(port)};
  if (opt.no_events) args.push_back("--no-events");
  const std::uint64_t spawned = monotonic_ns();
  auto agent = AgentChild::spawn(opt.npv, args, log.string());
  if (!agent) return std::fprintf(stderr, "npv_agent_bench: %s\n", agent.error().message.c_str()), agent.error().exit_code();
  std::printf("agent: %s agent %s (pid %d, log %s)\n", opt.npv.c_str(), [&] {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
    return s;
  }().c_str(), (*agent)->pid(), log.c_str());
  const auto fail = [&](const std::string& what) {
    cleanup.keep_log = true;
    std::fprintf(stderr, "npv_agent_bench: %s (the agent's log: %s)\n", what.c_str(), log.c_str());
    return kExitEnvironment;
  };

  // Ready: every resource listed, the first snapshot built and compiled.
  std::optional<ProcSample> at_sync;
  while (http_get(port, "/readyz").first != 200) {
    if (!(*agent)->alive()) return fail("the agent exited before it was ready");
    if (g_interrupted || monotonic_ns() - spawned > 300'000'000'000ULL) return fail("the agent was not ready within 300 s");
    std::this_thread::sleep_for(10ms);
  }
  const double sync_s = static_cast<double>(monotonic_ns() - spawned) / 1e9;
  at_sync = ProcSample::take((*agent)->pid());
  if (!at_sync) return fail("cannot read /proc of the agent");
  std::printf("first sync: /readyz 200 after %.2f s; agent CPU until then %.2f s; VmRSS %.1f MiB, VmHWM %.1f MiB\n",
              sync_s, static_cast<double>(at_sync->cpu_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK)),
              mib(at_sync->rss_kib), mib(at_sync->hwm_kib));

  // Warm-up (not reported): a second of traffic, and proof that the flows are judged.
  std::this_thread::sleep_for(2s);
  const Counters w0 = Counters::scrape(port);
  run_paced(*client, server->v4, {500, 1, opt.threads, opt.denied_percent});
  std::this_thread::sleep_for(1500ms);
  const Counters warm = Counters::scrape(port) - w0;
  std::printf("warm-up: 500 connections, %.0f flows observed, %.0f judged, %.0f findings\n", warm.observed, warm.judged,
              warm.findings);
  if (warm.judged < 450) return fail("the warm-up's flows were not judged: the benchmark would not measure the judge path");

  std::vector<PhaseResult> phases;
  for (double rate : opt.rates) {
    if (g_interrupted) break;
    auto p = run_phase(rate, opt, **agent, port, *client, *server);
    if (!p) return fail(p.error().message);
    std::fprintf(stderr, "phase %.0f/s: achieved %.0f/s, agent CPU %.2f%% of a core\n", rate, p->traffic.rate(),
                 p->cpu_percent);
    phases.push_back(std::move(*p));
  }
  const auto last = ProcSample::take((*agent)->pid());
  const int status = (*agent)->stop();  // writes the open finding windows on the way out
  const std::uint64_t finding_lines = (*agent)->finding_lines(), drift_lines = (*agent)->drift_lines();
  for (auto& l : listeners) l.reset();
  if (auto destroyed = lab->destroy(); !destroyed)
    std::fprintf(stderr, "npv_agent_bench: lab teardown: %s\n", destroyed.error().message.c_str());
  if (g_interrupted) return std::fprintf(stderr, "npv_agent_bench: interrupted\n"), 130;

  print_table(phases, opt.thread_detail);
  std::printf("agent: %llu finding lines, %llu drift lines on stdout, %zu Events on the test server; exit status %d\n",
              static_cast<unsigned long long>(finding_lines), static_cast<unsigned long long>(drift_lines),
              api.events().size(), status);
  const double peak = last ? mib(last->hwm_kib) : 0;
  std::printf("goal RSS < %.0f MiB: peak (VmHWM) %.1f MiB: %s\n", kGoalRssMiB, peak, peak < kGoalRssMiB ? "met" : "NOT met");
  for (const auto& p : phases) {
    if (p.target != kGoalRate) continue;
    std::printf("goal < %.0f%% of a core at %.0f conn/s: %.2f%% (achieved %.0f/s): %s\n", kGoalCpuPercent, kGoalRate,
                p.cpu_percent, p.traffic.rate(), p.cpu_percent < kGoalCpuPercent ? "met" : "NOT met");
  }
  std::printf("load average %s (at end)\n", load_average().c_str());
  return 0;
}

}  // namespace
}  // namespace npv::bench

int main(int argc, char** argv) { return npv::bench::run(argc, argv); }
