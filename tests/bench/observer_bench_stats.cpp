// Per-program BPF run time, split into emitting and filtered hits (observer_bench_stats.hpp).
#include "observer_bench_stats.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace npv::bench {

namespace {

const char* group_name(ObserverGroup g) {
  switch (g) {
    case ObserverGroup::kTcp: return "tcp";
    case ObserverGroup::kDrops: return "drops";
    case ObserverGroup::kUdp: return "udp";
  }
  return "?";
}

nlohmann::json optional_number(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

}  // namespace

std::optional<std::string> emitting_program(std::uint8_t event_type) {
  switch (event_type) {
    case NPV_EV_TCP_SYN_SENT: return "npv_tcp_retransmit_skb";
    case NPV_EV_TCP_ESTABLISHED:
    case NPV_EV_TCP_CLOSED:
    case NPV_EV_TCP_ACCEPTED: return "npv_inet_sock_set_state";
    case NPV_EV_TCP_RST_RECEIVED: return "npv_tcp_receive_reset";
    case NPV_EV_DROP: return "npv_kfree_skb";
    case NPV_EV_UDP_SENT: return "npv_udp_egress";
    case NPV_EV_UDP_DELIVERED: return "npv_udp_ingress";
    default: return std::nullopt;
  }
}

std::vector<ProgramDelta> program_deltas(const std::vector<ProgramStats>& before, const std::vector<ProgramStats>& after,
                                         const ConsumerTally& tally) {
  std::map<std::string, std::uint64_t> emits;
  for (std::size_t type = 0; type < tally.by_type.size(); ++type) {
    if (auto prog = emitting_program(static_cast<std::uint8_t>(type))) {
      emits[*prog] += tally.by_type[type];
    }
  }
  std::vector<ProgramDelta> out;
  for (const ProgramStats& a : after) {
    ProgramDelta d;
    d.name = a.name;
    d.group = a.group;
    d.hits = a.run_cnt;
    d.run_time_ns = a.run_time_ns;
    for (const ProgramStats& b : before) {
      if (b.name == a.name && b.group == a.group) {
        d.hits -= b.run_cnt;
        d.run_time_ns -= b.run_time_ns;
      }
    }
    // Host traffic may emit right at a snapshot's edge: never more emitting hits than hits.
    d.emitting = std::min(emits[a.name], d.hits);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<ProgramFit> fit_programs(const std::vector<VariantStats>& variants, bool live,
                                     const std::vector<ProgramFit>* filtered_from) {
  std::map<std::string, std::vector<const ProgramDelta*>> by_name;
  std::vector<std::string> order;
  for (const VariantStats& v : variants) {
    if (v.live != live) continue;
    for (const ProgramDelta& d : v.programs) {
      if (!by_name.contains(d.name)) order.push_back(d.name);
      by_name[d.name].push_back(&d);
    }
  }
  std::vector<ProgramFit> fits;
  for (const std::string& name : order) {
    ProgramFit f;
    f.name = name;
    std::uint64_t time = 0;
    std::vector<std::pair<double, double>> points;  // (e, ns per hit)
    for (const ProgramDelta* d : by_name[name]) {
      f.hits += d->hits;
      f.emitting += d->emitting;
      time += d->run_time_ns;
      if (d->hits < kMinHits) continue;
      points.emplace_back(static_cast<double>(d->emitting) / static_cast<double>(d->hits), d->ns_per_hit());
    }
    f.mean_ns = f.hits ? static_cast<double>(time) / static_cast<double>(f.hits) : 0;
    f.variants = static_cast<int>(points.size());
    if (points.empty()) {
      fits.push_back(f);
      continue;
    }
    f.min_fraction = std::min_element(points.begin(), points.end())->first;
    f.max_fraction = std::max_element(points.begin(), points.end())->first;
    const ProgramFit* known = nullptr;
    if (filtered_from) {
      for (const ProgramFit& k : *filtered_from)
        if (k.name == name && k.filtered_ns) known = &k;
    }
    if (known) {
      f.filtered_ns = known->filtered_ns;
      if (f.emitting > 0) {
        const double filtered_time = static_cast<double>(f.hits - f.emitting) * *f.filtered_ns;
        f.emitting_ns = (static_cast<double>(time) - filtered_time) / static_cast<double>(f.emitting);
      }
      fits.push_back(f);
      continue;
    }
    double mean_e = 0, mean_t = 0;
    for (auto [e, t] : points) mean_e += e, mean_t += t;
    mean_e /= static_cast<double>(points.size());
    mean_t /= static_cast<double>(points.size());
    constexpr double kSameFraction = 0.02;
    if (f.max_fraction - f.min_fraction < kSameFraction) {
      // One mix only: it pins down an end of the line only if it is (almost) pure.
      if (f.max_fraction < kSameFraction) f.filtered_ns = mean_t;
      if (f.min_fraction > 1 - kSameFraction) f.emitting_ns = mean_t;
    } else {
      double sxx = 0, sxy = 0;
      for (auto [e, t] : points) sxx += (e - mean_e) * (e - mean_e), sxy += (e - mean_e) * (t - mean_t);
      const double slope = sxy / sxx;
      f.filtered_ns = mean_t - slope * mean_e;
      f.emitting_ns = *f.filtered_ns + slope;
    }
    fits.push_back(f);
  }
  return fits;
}

Result<double> bpf_stats_floor_ns() {
  bpf_insn insns[2] = {};
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r0 = 0
  insns[0].dst_reg = BPF_REG_0;
  insns[1].code = BPF_JMP | BPF_EXIT;
  const int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "npvb_empty", "GPL", insns, 2, nullptr);
  if (fd < 0) return make_error(Errc::kEnvironment, std::string("load an empty program: ") + std::strerror(-fd), -fd);
  unsigned char packet[64] = {};
  bpf_test_run_opts run{};
  run.sz = sizeof(run);
  run.data_in = packet;
  run.data_size_in = sizeof(packet);
  run.repeat = 1'000'000;
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  int err = bpf_prog_test_run_opts(fd, &run);
  if (err == 0) err = bpf_obj_get_info_by_fd(fd, &info, &len);
  close(fd);
  if (err != 0) return make_error(Errc::kEnvironment, std::string("test run: ") + std::strerror(-err), -err);
  if (info.run_cnt == 0) return make_error(Errc::kEnvironment, "no run counted (kernel.bpf_stats_enabled is 0?)");
  return static_cast<double>(info.run_time_ns) / static_cast<double>(info.run_cnt);
}

nlohmann::json to_json(const VariantStats& v) {
  nlohmann::json programs = nlohmann::json::array();
  for (const ProgramDelta& d : v.programs) {
    programs.push_back({{"name", d.name},
                        {"group", group_name(d.group)},
                        {"hits", d.hits},
                        {"emitting_hits", d.emitting},
                        {"filtered_hits", d.hits - d.emitting},
                        {"run_time_ns", d.run_time_ns},
                        {"ns_per_hit", d.ns_per_hit()}});
  }
  return {{"name", v.name},
          {"consumer", v.live ? "live" : "deferred"},
          {"description", v.description},
          {"operations", v.storm.attempts},
          {"unexpected", v.storm.unexpected},
          {"events_consumed", v.events},
          {"counters", {{"emitted", v.counters.emitted}, {"lost", v.counters.lost}}},
          {"programs", programs}};
}

nlohmann::json to_json(const ProgramFit& f) {
  return {{"name", f.name},
          {"hits", f.hits},
          {"emitting_hits", f.emitting},
          {"mean_ns_per_hit", f.mean_ns},
          {"emitting_ns_per_hit", optional_number(f.emitting_ns)},
          {"filtered_ns_per_hit", optional_number(f.filtered_ns)},
          {"emitting_fraction_range", {f.min_fraction, f.max_fraction}},
          {"variants_fitted", f.variants}};
}

}  // namespace npv::bench
