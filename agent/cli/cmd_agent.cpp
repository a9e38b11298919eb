// `npv agent`: the DaemonSet process. Watches the cluster through the Kubernetes API, observes
// this node's connections with eBPF, and reports flows the CNI failed to enforce (or dropped
// although allowed) as JSON lines, Kubernetes Events and metrics, until SIGTERM / Ctrl-C.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <iostream>

#include "cli/commands.hpp"
#include "npv/agent_loop.hpp"
#include "npv/duration.hpp"
#include "npv/http_endpoint.hpp"
#include "npv/kube_events.hpp"
#include "npv/kube_watch.hpp"
#include "npv/observer.hpp"
#include "npv/prometheus_text.hpp"

namespace npv::cli {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_agent_signal(int) { g_stop.store(true); }

struct AgentCliOptions {
  std::string kubeconfig, context;
  std::string node;
  std::string listen = "0.0.0.0:9990";
  std::string grace = "10s", window = "60s";
  bool no_events = false;
  std::string cgroup_root;
  std::size_t ring_kib = 4096;
};

// The API watcher's snapshots as the agent loop's ClusterSource.
class WatcherSource : public ClusterSource {
 public:
  explicit WatcherSource(const kube::ClusterWatcher& w) : watcher_(w) {}
  State latest() const override {
    auto snap = watcher_.snapshot();
    if (!snap) return {};
    return {std::shared_ptr<const ClusterState>(snap, &snap->state), snap->generation,
            static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(snap->built_at.time_since_epoch()).count())};
  }
  std::vector<WatchCounterSample> watch_counters() const override {
    std::vector<WatchCounterSample> out;
    for (auto r : kube::kAllResources) {
      auto s = watcher_.stats(r);
      out.push_back({kube::to_string(r), s.lists, s.watches, s.relists, s.errors, s.not_installed});
    }
    return out;
  }

 private:
  const kube::ClusterWatcher& watcher_;
};

// Findings as Kubernetes Events, through the recorder's queue (never blocks the loop).
class RecorderSink : public EventSink {
 public:
  RecorderSink(kube::EventRecorder& r, const kube::ClusterWatcher& w) : recorder_(r), watcher_(w) {}
  void post(const EventTarget& t, const EventText& text) override {
    kube::ObjectRef ref{t.kind, t.api_version, t.ns, t.name, ""};
    if (auto snap = watcher_.snapshot()) {
      if (auto known = snap->ref(t.kind, t.ns, t.name)) ref = *known;  // with its uid
    }
    const std::string_view type = text.reason == "EnforcementRestored" ? "Normal" : "Warning";
    recorder_.record(ref, type, text.reason, text.message);
  }

 private:
  kube::EventRecorder& recorder_;
  const kube::ClusterWatcher& watcher_;
};

Result<kube::KubeConfig> load_config(const AgentCliOptions& o) {
  if (!o.kubeconfig.empty()) return kube::load_kubeconfig(o.kubeconfig, o.context);
  if (!o.context.empty()) return make_error(Errc::kBadInput, "--context needs --kubeconfig");
  return kube::in_cluster_config();  // its error says to pass --kubeconfig outside a pod
}

std::uint32_t own_netns_inode() {
  struct stat st {};
  return ::stat("/proc/self/ns/net", &st) == 0 ? static_cast<std::uint32_t>(st.st_ino) : 0;
}

int run_agent(const AgentCliOptions& o) {
  // Usage first (exit 2), then the environment (exit 3).
  auto grace = parse_duration(o.grace);
  if (!grace) return report(Error{Errc::kBadInput, "--grace '" + o.grace + "': expected a duration like 10s, 500ms, 2m"});
  auto window = parse_duration(o.window);
  if (!window || window->count() == 0) {
    return report(Error{Errc::kBadInput, "--window '" + o.window + "': expected a positive duration like 60s"});
  }
  auto listen = ListenAddress::parse(o.listen);
  if (!listen) return report(listen.error());
  std::string node = o.node;
  if (node.empty()) {
    if (const char* env = std::getenv("NODE_NAME"); env && *env) node = env;
  }
  if (node.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    node = host;
  }
  auto config = load_config(o);
  if (!config) return report(config.error());
  auto client = kube::KubeClient::create(*config);
  if (!client) return report(client.error());

  ObserverOptions oo;
  oo.ring_buffer_bytes = o.ring_kib * 1024;
  oo.cgroup_root = o.cgroup_root;
  auto observer = Observer::start(oo);
  if (!observer) return report(observer.error());

  AgentMetrics metrics;
  metrics.hook_running[0] = observer->running(ObserverGroup::kTcp);
  metrics.hook_running[1] = observer->running(ObserverGroup::kDrops);
  metrics.hook_running[2] = observer->running(ObserverGroup::kUdp);

  kube::ClusterWatcher watcher(*client);
  WatcherSource source(watcher);
  std::optional<kube::EventRecorder> recorder;
  std::optional<RecorderSink> sink;
  if (!o.no_events) {
    kube::EventRecorderOptions ro;
    ro.host = node;
    recorder.emplace(*client, std::move(ro));
    sink.emplace(*recorder, watcher);
  }

  AgentOptions ao;
  ao.node = node;
  ao.grace = *grace;
  ao.window = *window;
  ao.host_netns = own_netns_inode();
  const Observer* obs = &*observer;
  ao.tracker.drop_reason_name = [obs](std::uint32_t v) { return obs->drop_reason_name(v); };
  AgentLoop loop(ao, source, metrics, std::cout, sink ? &*sink : nullptr);

  std::atomic<std::int64_t> heartbeat_ns{static_cast<std::int64_t>(monotonic_ns())};
  auto endpoint = HttpEndpoint::start(*listen, [&](const std::string& path) -> HttpResponse {
    if (path == "/metrics") {
      if (recorder) {
        auto s = recorder->stats();
        metrics.events_created = s.created;
        metrics.events_patched = s.patched;
        metrics.events_failed = s.failed;
        metrics.events_dropped = s.dropped;
      }
      return {200, std::string(PrometheusText::kContentType), metrics.render(source.watch_counters())};
    }
    if (path == "/healthz") {
      // Alive while the loop keeps turning (it ticks every 100 ms).
      const auto age_ns = static_cast<std::int64_t>(monotonic_ns()) - heartbeat_ns.load();
      if (age_ns > 10'000'000'000LL) return {503, "text/plain; charset=utf-8", "agent loop stalled\n"};
      return {200, "text/plain; charset=utf-8", "ok\n"};
    }
    if (path == "/readyz") {
      if (!metrics.synced) return {503, "text/plain; charset=utf-8", "waiting for the first full sync of the cluster\n"};
      return {200, "text/plain; charset=utf-8", "ok: verifying with cluster state generation " +
                                                    std::to_string(metrics.generation.load()) + "\n"};
    }
    return {404, "text/plain; charset=utf-8", "not found: try /metrics, /healthz or /readyz\n"};
  });
  if (!endpoint) return report(endpoint.error());

  struct sigaction sa {};
  sa.sa_handler = on_agent_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a scraper or API server hanging up is an error, not a crash

  watcher.start();
  spdlog::info("agent on node {}: API {} ({}), metrics and probes on {}:{}, grace {} ms, window {} ms{}", node,
               config->server, config->source, listen->host, endpoint->port(), grace->count(), window->count(),
               o.no_events ? ", Kubernetes Events off" : "");
  for (const auto& d : observer->degraded()) spdlog::warn("degraded: {}", d);
  bool said_synced = false;
  while (!g_stop.load()) {
    int n = observer->poll(std::chrono::milliseconds(100), [&](const npv_event& ev) { loop.on_event(ev); });
    if (n < 0) {
      spdlog::error("ring buffer poll failed: {}", std::strerror(-n));
      break;
    }
    loop.tick(monotonic_ns(), std::chrono::system_clock::now());
    metrics.lost_kernel = observer->counters().lost;
    heartbeat_ns = static_cast<std::int64_t>(monotonic_ns());
    if (!said_synced && loop.synced()) {
      spdlog::info("cluster synced (generation {}): verifying flows", loop.generation());
      said_synced = true;
    }
  }
  spdlog::info("stopping");
  watcher.stop();
  observer->poll(std::chrono::milliseconds(0), [&](const npv_event& ev) { loop.on_event(ev); });
  loop.finish(monotonic_ns(), std::chrono::system_clock::now());
  if (recorder && !recorder->flush(std::chrono::seconds(3))) spdlog::warn("some Kubernetes Events were not sent");
  return kExitOk;
}

}  // namespace

RunFn register_agent(CLI::App& app) {
  auto opt = std::make_shared<AgentCliOptions>();
  auto* sub = app.add_subcommand("agent", "Verify this node's traffic against the cluster's policies, continuously (the DaemonSet)");
  sub->footer(
      "Watches Namespaces, Pods, NetworkPolicies, Services and EndpointSlices through the Kubernetes API,\n"
      "observes every pod connection on this node with eBPF, and reports each flow whose outcome contradicts\n"
      "the policies: silent non-enforcement (denied, yet it got through) and unexpected drops (allowed, yet\n"
      "dropped), once per --window per (source, destination, port), as a JSON line on stdout and as a\n"
      "Kubernetes Event on the NetworkPolicy involved; a denied flow that was blocked and now passes is a\n"
      "drift alert at once. Nothing is judged before the first full sync (/readyz says so); a policy change\n"
      "gets --grace for the CNI to program it.\n"
      "Needs root with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (exit 3 without). deploy/ runs it as a DaemonSet.");
  sub->add_option("--kubeconfig", opt->kubeconfig, "Kubeconfig file (default: the pod's service account)")->check(CLI::ExistingFile);
  sub->add_option("--context", opt->context, "Context of the kubeconfig (default: its current-context)");
  sub->add_option("--node-name", opt->node, "This node's name, for reports (default: $NODE_NAME, else the hostname)");
  sub->add_option("--listen", opt->listen, "Address of /metrics, /healthz and /readyz")->capture_default_str();
  sub->add_option("--grace", opt->grace, "Time the CNI gets to program a policy change (10s, 500ms, 2m)")->capture_default_str();
  sub->add_option("--window", opt->window, "Findings of one (src, dst, port, kind) are reported once per window, with a count")
      ->capture_default_str();
  sub->add_flag("--no-events", opt->no_events, "Do not post Kubernetes Events (stdout and metrics only)");
  sub->add_option("--cgroup-root", opt->cgroup_root,
                  "The node's cgroup v2 mount, where the UDP hooks attach (default: the first cgroup2 mount; in a\n"
                  "container, mount the host's /sys/fs/cgroup and point here)");
  sub->add_option("--ring-kib", opt->ring_kib, "Ring buffer memory per hook group, KiB, split into one ring per CPU (each a power of two, at least 4)")->capture_default_str()->check(CLI::Range(4, 1 << 20));
  return [opt] { return run_agent(*opt); };
}

}  // namespace npv::cli
