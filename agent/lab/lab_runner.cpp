// run_lab: plan → observer → lab setup → dataplane → probes → observed flows → verifier.
//
// Lifecycle: every kernel object lives in a Session whose members are destroyed in reverse order
// (observer thread, listeners, the NetnsLab), so returning from any point, on success, error or
// interrupt, tears the whole lab down. A crash skips that; the next run's cleanup_stale() (or
// `npv lab --cleanup`) removes the leftovers.
#include "npv/lab_runner.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "lab/lab_observation.hpp"
#include "lab/lab_plan.hpp"
#include "lab/lab_probing.hpp"
#include "npv/netns_lab.hpp"
#include "npv/observer.hpp"

namespace npv {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kSettle{100};        // the tracker's quiet time before it emits a flow
constexpr milliseconds kObserveSlack{1000};  // extra wait for the last flows after probing

milliseconds since(Clock::time_point t) { return std::chrono::duration_cast<milliseconds>(Clock::now() - t); }

Error interrupted_error() { return Error{Errc::kEnvironment, "interrupted", 0}; }

// Everything a running lab holds; members are destroyed bottom-up.
struct Session {
  std::optional<NetnsLab> lab;
  std::vector<LabPod> pods;  // by LabPlan::hosts index
  std::vector<TcpListener> tcp;
  lab::UdpSlots udp;
  std::unique_ptr<lab::FlowCollector> collector;

  // Removes everything now; logs what could not be removed.
  void teardown() {
    collector.reset();
    udp.clear();
    tcp.clear();
    pods.clear();
    if (lab) {
      if (auto done = lab->destroy(); !done) {
        spdlog::error("lab teardown: {} ('npv lab --cleanup' removes what is left)", done.error().message);
      }
      lab.reset();
    }
  }
  ~Session() { teardown(); }
};

// The machine can run a lab: root, and the helper programs.
Result<void> check_environment(const LabRunOptions& options) {
  if (geteuid() != 0) {
    return make_error(Errc::kEnvironment,
                      "npv lab needs root: it creates network namespaces and loads eBPF programs (run it with sudo)",
                      EPERM);
  }
  std::vector<std::vector<std::string>> tools = {{"ip", "-V"}};
  if (options.dataplane.mode != Dataplane::kNone) tools.push_back({"nft", "--version"});
  for (const auto& argv : tools) {
    if (auto ran = run_checked(argv); !ran) {
      return make_error(Errc::kEnvironment, "npv lab needs `" + argv[0] + "` (Debian: apt install " +
                                                (argv[0] == "ip" ? "iproute2" : "nftables") + "): " + ran.error().message);
    }
  }
  return {};
}

// Namespaces, addresses, routes, listeners and the dataplane's rulesets.
Result<void> build_lab(const lab::LabPlan& plan, const LabRunOptions& options,
                       const std::map<PodId, std::string>& rulesets, Session& s, const std::atomic<bool>& interrupted) {
  auto created = NetnsLab::create(options.prefix, plan.lab_options);
  if (!created) return std::unexpected(created.error());
  s.lab.emplace(std::move(*created));
  spdlog::debug("lab {}: IPv4 /{}, IPv6 /{}", s.lab->id(), plan.lab_options.v4_prefix, plan.lab_options.v6_prefix);
  std::map<PodId, std::size_t> host_of_pod;
  for (std::size_t i = 0; i < plan.hosts.size(); ++i) {
    if (interrupted.load()) return std::unexpected(interrupted_error());
    const auto& host = plan.hosts[i];
    auto pod = s.lab->add_pod(host.name, host.lab_v4, host.v6);
    if (!pod) return std::unexpected(pod.error());
    s.pods.push_back(*pod);
    if (host.pod) host_of_pod[*host.pod] = i;
  }
  for (const auto& route : plan.routes) {
    auto added = run_checked({"ip", "-n", s.pods[route.host].netns, "route", "add", route.dst, "dev", "eth0"});
    if (!added) return std::unexpected(added.error());
  }
  for (std::size_t i = 0; i < plan.hosts.size(); ++i) {
    for (const auto& port : plan.hosts[i].ports) {
      if (port.proto == Protocol::kTCP) {
        auto l = tcp_listen(s.pods[i], port.port);
        if (!l) return std::unexpected(l.error());
        s.tcp.push_back(std::move(*l));
      } else if (port.proto == Protocol::kUDP) {
        auto l = udp_listen(s.pods[i], port.port);
        if (!l) return std::unexpected(l.error());
        s.udp.emplace(std::pair{i, port.port}, std::make_unique<lab::UdpSlot>(std::move(*l)));
      }
    }
  }
  for (const auto& [pod, ruleset] : rulesets) {
    if (interrupted.load()) return std::unexpected(interrupted_error());
    auto host = host_of_pod.find(pod);
    if (host == host_of_pod.end()) continue;  // not a lab host (hostNetwork)
    if (auto applied = apply_nft(s.pods[host->second], ruleset); !applied) {
      Error e = applied.error();
      e.message = "dataplane " + std::string(to_string(options.dataplane.mode)) + ", pod " +
                  plan.hosts[host->second].name + ": " + e.message;
      return std::unexpected(std::move(e));
    }
  }
  return {};
}

lab::FlowKey key_of(const lab::ProbeSpec& p, const lab::ProbeResult& r) {
  return {p.src_ip, r.src_port, p.dst_ip, p.port.port, p.port.proto};
}

}  // namespace

Result<LabReport> run_lab(const ClusterState& cluster, const LabRunOptions& options,
                          const std::atomic<bool>& interrupted) {
  const auto start = Clock::now();
  auto planned = lab::plan_lab(cluster, options);
  if (!planned) return std::unexpected(planned.error());
  const lab::LabPlan& plan = *planned;
  if (auto ok = check_environment(options); !ok) return std::unexpected(ok.error());
  for (const auto& note : plan.notes) spdlog::info("lab: {}", note);
  const auto rulesets = compile_nft(plan.cluster, options.dataplane);

  // Observation starts before anything is created, so a machine without eBPF fails early.
  auto observer = Observer::start();
  if (!observer) return std::unexpected(observer.error());
  if (interrupted.load()) return std::unexpected(interrupted_error());
  if (auto stale = NetnsLab::cleanup_stale(options.prefix); !stale) {
    spdlog::warn("lab: removing leftovers of earlier runs: {}", stale.error().message);
  } else if (*stale > 0) {
    spdlog::info("lab: removed {} network namespace(s) left by an earlier run", *stale);
  }

  LabReport report;
  report.summary.dataplane = to_string(options.dataplane.mode);
  Session session;
  const std::size_t externals = std::count_if(plan.hosts.begin(), plan.hosts.end(), [](const auto& h) { return !h.pod; });
  spdlog::info("lab: {} pods, {} external peers, {} listeners, dataplane {}", plan.hosts.size() - externals, externals,
               plan.listeners(), report.summary.dataplane);
  if (auto built = build_lab(plan, options, rulesets, session, interrupted); !built) {
    return std::unexpected(interrupted.load() ? interrupted_error() : built.error());
  }
  std::set<std::uint32_t> lab_netns;
  for (const auto& pod : session.pods) lab_netns.insert(pod.netns_inode);
  TrackerOptions tracker;
  tracker.settle = kSettle;
  const milliseconds udp_timeout = std::max(options.probe_timeout, milliseconds(100));
  tracker.udp_timeout = udp_timeout;
  tracker.tcp_attempt_timeout = options.probe_timeout + kObserveSlack;
  session.collector = std::make_unique<lab::FlowCollector>(std::move(*observer), &plan.cluster, std::move(lab_netns), tracker);
  if (interrupted.load()) return std::unexpected(interrupted_error());
  report.summary.setup = since(start);

  // Probing, then the observer's view of every probe.
  const auto probing_start = Clock::now();
  const unsigned parallel = std::max(1u, options.parallel);
  spdlog::info("lab: probing {} flows ({} in parallel, timeout {} ms)", plan.probes.size(), parallel,
               options.probe_timeout.count());
  lab::ProbeRun run{options.probe_timeout, parallel, [](std::size_t done, std::size_t total) {
                      spdlog::info("lab: probed {}/{}", done, total);
                    }};
  auto results = lab::run_probes(plan, session.pods, session.udp, run, interrupted);
  if (!results) return std::unexpected(interrupted.load() ? interrupted_error() : results.error());
  std::vector<lab::FlowKey> keys;
  for (std::size_t i = 0; i < plan.probes.size(); ++i) keys.push_back(key_of(plan.probes[i], (*results)[i]));
  const milliseconds observe_wait = kSettle + udp_timeout + kObserveSlack;
  const auto observe_deadline = Clock::now() + observe_wait;
  while (!session.collector->wait_for(keys, milliseconds(50))) {
    if (interrupted.load()) return std::unexpected(interrupted_error());
    if (Clock::now() >= observe_deadline) {
      spdlog::debug("lab: the observer has not reported every probe after {} ms", observe_wait.count());
      break;
    }
  }
  session.collector->stop();
  if (!session.collector->poll_error().empty()) spdlog::warn("lab: observer: {}", session.collector->poll_error());
  if (const auto lost = session.collector->observer().counters().lost; lost > 0) {
    spdlog::warn("lab: the observer lost {} events (ring buffer full); affected probes show as observer disagreements",
                 lost);
  }
  for (std::size_t i = 0; i < plan.probes.size(); ++i) {
    const auto& p = plan.probes[i];
    const auto& r = (*results)[i];
    ProbeRecord record;
    record.flow = Flow{Endpoint{plan.hosts[p.src].pod, p.src_ip}, Endpoint{plan.hosts[p.dst].pod, p.dst_ip}, p.port};
    record.src_port = r.src_port;
    record.prober = r.outcome;
    record.observed = session.collector->take(keys[i]);
    if (record.src_port == 0 && record.observed) record.src_port = record.observed->src_port;
    report.probes.push_back(std::move(record));
  }
  report.summary.probing = since(probing_start);

  const auto teardown_start = Clock::now();
  session.teardown();
  report.summary.teardown = since(teardown_start);

  // plan.probes is already in (source, destination, port) order, so the records are too.
  PolicyEngine engine(plan.cluster);
  for (auto& record : report.probes) verify(engine, record);
  summarize(report);
  spdlog::info("lab: setup {} ms, probing {} ms, teardown {} ms", report.summary.setup.count(),
               report.summary.probing.count(), report.summary.teardown.count());
  return report;
}

}  // namespace npv
