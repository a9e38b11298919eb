// The eBPF flow observer: loads npv's BPF programs (bpf/) and delivers their events.
//
// Three independent hook groups, each its own BPF object with its own ring buffers (one per CPU)
// and counters:
//   tcp    tp_btf/inet_sock_set_state, tcp_retransmit_skb, tcp_receive_reset,
//          inet_sk_error_report: TCP attempts and outcomes
//   drops  tp_btf/kfree_skb: packets dropped by netfilter / tc (policy datapaths)
//   udp    cgroup_skb egress + ingress on the cgroup v2 root: UDP sent / delivered, deduplicated
// Events are struct npv_event (include/npv/abi/flow_event.h, which defines the direction of
// saddr/daddr for each event type).
//
// A group that cannot load or attach on this kernel is left out and named in degraded(); the
// others run. A group that runs with less than it should (no inet_sk_error_report tracepoint; a
// kernel before 6.3: UDP events carry no netns) is named there too.
// start() fails (Errc::kEnvironment, exit code 3) only when nothing can run.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "npv/abi/flow_event.h"
#include "npv/error.hpp"

namespace npv {

struct ObserverOptions {
  // Ring buffer memory of each group, split evenly over its per-CPU rings: each ring gets the
  // largest power of two not above its share, and at least one page (4096 bytes, the minimum the
  // kernel accepts). 4 MiB on 2 CPUs: two rings of 2 MiB; on 64 CPUs, 64 KiB each (a busy node
  // with many CPUs may want more: watch ObserverCounters::lost).
  std::size_t ring_buffer_bytes = 1 << 22;
  // UDP: at most one UDP_SENT / UDP_DELIVERED per 5-tuple and direction per interval.
  std::chrono::milliseconds udp_dedup{1000};
  bool tcp = true;
  bool drops = true;
  bool udp = true;
  // The cgroup v2 mount the UDP programs attach to (at its root); empty: the first cgroup2 entry
  // of /proc/self/mounts. In a container, mount the host's /sys/fs/cgroup and name it here.
  std::string cgroup_root;
};

enum class ObserverGroup { kTcp, kDrops, kUdp };

// Sums over all CPUs of the kernel-side counters (enum npv_counter); they only grow.
// Every hook hit that passed the in-kernel filter is exactly one of emitted or lost.
struct ObserverCounters {
  std::uint64_t emitted = 0;   // events written to a ring buffer
  std::uint64_t lost = 0;      // ring buffer full: event dropped (and counted) in the kernel
};

// The kernel's run statistics of one loaded BPF program (struct bpf_prog_info). They only grow
// while the sysctl kernel.bpf_stats_enabled is 1 (off by default: timing every run has a cost).
struct ProgramStats {
  ObserverGroup group = ObserverGroup::kTcp;
  std::string name;               // the program's function name in bpf/, e.g. "npv_kfree_skb"
  std::uint64_t run_cnt = 0;      // invocations
  std::uint64_t run_time_ns = 0;  // total time spent in the program
};

// Owns every kernel object it creates (BPF objects, links, ring buffers); destroying or
// moving-from it detaches and frees them. Not thread-safe: use one Observer from one thread
// (counters(), program_stats() and drop_reason_name() may be called between polls).
class Observer {
 public:
  // Opens, configures, loads and attaches the enabled groups. Logs each degraded group once.
  static Result<Observer> start(const ObserverOptions& options = {});

  Observer(Observer&&) noexcept;
  Observer& operator=(Observer&&) noexcept;
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;
  ~Observer();

  // Waits `timeout`, then calls on_event for each event available (from all groups), on the
  // calling thread. The kernel does not wake the reader per event (that would cost more than
  // the hooks themselves): the wait ends early only when a ring buffer is a quarter full, or on
  // a signal. So an event is delivered at most `timeout` (plus the time on_event takes) after
  // it happened, and a caller that polls in a loop with timeout T sees every event within T.
  // timeout 0: no wait, only what is there now; negative: wait until a ring buffer fills up.
  // Each poll reads every ring, then delivers what it read in ts_ns order (the rings of
  // different CPUs and groups are merged), so the events of one flow arrive in the order they
  // happened unless a poll boundary falls between them.
  // Returns the number of events delivered, or a negative errno. An exception thrown by on_event
  // stops the poll and propagates (the event that threw counts as delivered); the events after
  // it are delivered first by the next poll.
  int poll(std::chrono::milliseconds timeout, const std::function<void(const npv_event&)>& on_event);

  // Total over the running groups, or of one group (zeros if it is not running).
  ObserverCounters counters() const;
  ObserverCounters counters(ObserverGroup group) const;

  bool running(ObserverGroup group) const;
  // One entry per loaded program of the running groups (a program whose info the kernel does not
  // give is left out), in group then object order.
  std::vector<ProgramStats> program_stats() const;
  // One line per group that was enabled but could not run, e.g.
  // "udp: cgroup_skb attach failed: Operation not permitted", and per partial degradation of a
  // running group. Empty on a fully capable machine. Each line was logged once (warn) by start().
  const std::vector<std::string>& degraded() const;

  // The name of an enum skb_drop_reason value on the running kernel, without the
  // SKB_DROP_REASON_ prefix ("NETFILTER_DROP"); "UNKNOWN(<n>)" if the kernel has no such value.
  std::string drop_reason_name(std::uint32_t value) const;

 private:
  struct Impl;
  explicit Observer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace npv
