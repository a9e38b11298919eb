#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "npv/flow_tracker.hpp"
#include "npv/observer.hpp"

namespace npv::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true); }

struct ObserveOptions {
  std::vector<std::string> cluster_paths;
  std::string output = "table";
  double duration_s = 0;  // 0: until Ctrl-C
  std::size_t ring_kib = 4096;
  bool no_tcp = false, no_drops = false, no_udp = false;
};

void print_flows(const std::vector<ObservedFlow>& flows, const ClusterState* cluster, const ObserveOptions& opt,
                 const nlohmann::json& degraded) {
  for (const auto& f : flows) {
    if (opt.output == "json") {
      auto j = flow_to_json(f, cluster);
      j["degraded"] = degraded;
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      std::cout << flow_to_text(f, cluster) << '\n';
    }
  }
  std::cout.flush();
}

void print_summary(const Observer& observer, const FlowTracker& tracker) {
  auto line = [&](const char* name, ObserverGroup g) {
    if (!observer.running(g)) {
      std::fprintf(stderr, "npv: observe: %-5s not running\n", name);
      return;
    }
    auto c = observer.counters(g);
    std::fprintf(stderr, "npv: observe: %-5s events %llu, lost %llu (ring buffer full)\n", name,
                 static_cast<unsigned long long>(c.emitted), static_cast<unsigned long long>(c.lost));
  };
  line("tcp", ObserverGroup::kTcp);
  line("drops", ObserverGroup::kDrops);
  line("udp", ObserverGroup::kUdp);
  auto s = tracker.stats();
  std::fprintf(stderr, "npv: observe: flows %llu, events %llu, evicted %llu, unmatched drops %llu\n",
               static_cast<unsigned long long>(s.flows_emitted), static_cast<unsigned long long>(s.events),
               static_cast<unsigned long long>(s.evicted), static_cast<unsigned long long>(s.unmatched_drops));
  for (const auto& d : observer.degraded()) std::fprintf(stderr, "npv: observe: degraded: %s\n", d.c_str());
}

int run_observe(const ObserveOptions& opt) {
  std::optional<ClusterState> cluster;
  if (!opt.cluster_paths.empty()) {
    ClusterOptions co{opt.cluster_paths};
    auto loaded = co.load();
    if (!loaded) return report(loaded.error());
    cluster = std::move(*loaded);
  }
  ObserverOptions oo;
  oo.ring_buffer_bytes = opt.ring_kib * 1024;
  oo.tcp = !opt.no_tcp;
  oo.drops = !opt.no_drops;
  oo.udp = !opt.no_udp;
  auto observer = Observer::start(oo);
  if (!observer) return report(observer.error());

  nlohmann::json degraded = nlohmann::json::array();
  for (const auto& d : observer->degraded()) degraded.push_back(d.substr(0, d.find(':')));

  TrackerOptions to;
  const Observer* obs = &*observer;
  to.drop_reason_name = [obs](std::uint32_t v) { return obs->drop_reason_name(v); };
  const ClusterState* model = cluster ? &*cluster : nullptr;
  FlowTracker tracker(model, to);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  if (opt.duration_s > 0) {
    spdlog::info("observing for {:g} s (Ctrl-C stops earlier)", opt.duration_s);
  } else {
    spdlog::info("observing; Ctrl-C to stop");
  }

  const std::uint64_t deadline =
      opt.duration_s > 0 ? monotonic_ns() + static_cast<std::uint64_t>(opt.duration_s * 1e9) : UINT64_MAX;
  while (!g_stop.load() && monotonic_ns() < deadline) {
    int n = observer->poll(std::chrono::milliseconds(100), [&](const npv_event& ev) { tracker.on_event(ev); });
    if (n < 0 && n != -EINTR) {
      spdlog::error("ring buffer poll failed: {}", std::strerror(-n));
      break;
    }
    print_flows(tracker.take_completed(monotonic_ns()), model, opt, degraded);
  }
  // Drain what the kernel already wrote, then everything still pending.
  observer->poll(std::chrono::milliseconds(0), [&](const npv_event& ev) { tracker.on_event(ev); });
  print_flows(tracker.flush(), model, opt, degraded);
  print_summary(*observer, tracker);
  return kExitOk;
}

}  // namespace

RunFn register_observe(CLI::App& app) {
  auto opt = std::make_shared<ObserveOptions>();
  auto* sub = app.add_subcommand("observe", "Stream every TCP/UDP connection attempt on this machine and how it ended (eBPF)");
  sub->footer(
      "Needs root (BPF). Each completed flow is printed once: TCP established, refused (RST),\n"
      "unreachable (ICMP error, e.g. nftables reject), timeout (no answer; with the kernel drop reason\n"
      "when a netfilter/tc drop was seen); UDP delivered, dropped, not_delivered. Ctrl-C stops and\n"
      "prints event and loss counters to stderr. With --cluster, IPs are attributed to pods.\n"
      "JSON (-o json): one object per line: src, src_port, dst, port, protocol, outcome, drop_reason,\n"
      "src_pod, dst_pod, client_seen, server_seen, degraded (hook groups that lost some or all of\n"
      "their hooks on this kernel; stderr says what).");
  sub->add_option("-c,--cluster", opt->cluster_paths, "Manifests for pod attribution (as for 'npv matrix'); optional")
      ->type_name("PATH");
  sub->add_option("-o,--output", opt->output, "Output format")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  sub->add_option("-d,--duration", opt->duration_s, "Stop after this many seconds (default: until Ctrl-C)")
      ->check(CLI::PositiveNumber)
      ->type_name("SECONDS");
  sub->add_option("--ring-buffer-kib", opt->ring_kib, "Ring buffer memory per hook group, KiB, split into one ring per CPU (each a power of two, at least 4)")
      ->check(CLI::Range(4, 1 << 20))
      ->capture_default_str();
  sub->add_flag("--no-tcp", opt->no_tcp, "Do not load the TCP state hooks");
  sub->add_flag("--no-drops", opt->no_drops, "Do not load the kfree_skb drop hook");
  sub->add_flag("--no-udp", opt->no_udp, "Do not load the cgroup_skb UDP hooks");
  return [opt] { return run_observe(*opt); };
}

}  // namespace npv::cli
