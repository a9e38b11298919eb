// The moving parts of npv_observer_bench (observer_bench.cpp): traffic storms between two lab
// pods, the consumer that drains the Observer as `npv observe` does, the bpftrace peer, and the
// guards that put the machine back as it was (sysctl, tracefs mount).
//
// Traffic only ever flows between the namespaces of the benchmark's own NetnsLab.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "npv/error.hpp"
#include "npv/flow_tracker.hpp"
#include "npv/netns_lab.hpp"
#include "npv/observer.hpp"
#include "npv/unique_fd.hpp"

namespace npv::bench {

// Set by SIGINT/SIGTERM: storms stop early, main() cleans up and exits.
extern std::atomic<bool> g_interrupted;
void install_signal_handlers();

std::uint64_t monotonic_ns();
std::uint64_t thread_cpu_ns();  // CLOCK_THREAD_CPUTIME_ID of the calling thread

// ---- storms -------------------------------------------------------------------------------------

struct StormResult {
  std::uint64_t attempts = 0;  // operations started (connections, or sockets for UDP)
  std::uint64_t as_expected = 0;
  std::uint64_t unexpected = 0;  // failed, or succeeded where a failure was expected
  int first_unexpected_errno = 0;
  double seconds = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(attempts) / seconds : 0; }
};

enum class StormKind {
  kAccept,   // connect (blocking) to a listener, then close with SO_LINGER {1, 0} (RST, no TIME_WAIT)
  kRefused,  // connect to a port nobody listens on: the server's RST refuses it (ECONNREFUSED)
  kUdp,      // a fresh UDP socket sends one datagram to `port` and one to `port2`, then closes
};

// `count` operations from `client` to dst over `threads` threads (each setns()es into the client
// pod once, then loops; work is handed out one operation at a time). The clock runs from the
// moment every thread is ready until the last one is done.
StormResult run_storm(StormKind kind, const LabPod& client, const IpAddr& dst, std::uint16_t port,
                      std::uint16_t port2, std::uint64_t count, int threads);

// A TCP listener in the server pod that accepts and closes, on a thread of its own (a blocking
// accept4 loop). Unlike npv::tcp_listen (backlog SOMAXCONN, 4096) it raises the pod's
// net.core.somaxconn and listens with a backlog of 65535: a storm that gets ahead of the accept
// thread (other load on the machine) must not overflow the accept queue, since every dropped SYN
// stalls its connect() for the 1 s SYN retransmission and ruins the rate.
class AcceptServer {
 public:
  static Result<std::unique_ptr<AcceptServer>> start(const LabPod& server, std::uint16_t port);
  ~AcceptServer();  // shuts the listener down (wakes accept4) and joins
  std::uint64_t accepted() const { return accepted_.load(); }

 private:
  AcceptServer() = default;
  UniqueFd listener_;
  std::atomic<std::uint64_t> accepted_{0};
  std::thread thread_;
};

// `count` established connections held open at both ends (client fds, accepted server fds), on a
// listener of its own on `port` of the server pod. close_all() closes every client socket (FIN),
// then every server socket: the teardown's state changes are the only TCP hook hits.
class HeldConnections {
 public:
  static Result<HeldConnections> open(const LabPod& client, const LabPod& server, std::uint16_t port,
                                      std::uint64_t count);
  StormResult close_all();
  std::size_t size() const { return clients_.size(); }

 private:
  std::vector<UniqueFd> clients_, servers_;
};

// Reads TcpExtListenOverflows + TcpExtListenDrops inside the pod's namespace (0 if unreadable).
std::uint64_t listen_overflows(const LabPod& pod);

// ---- the consumer -------------------------------------------------------------------------------

struct ConsumerTally {
  std::uint64_t events = 0;
  std::array<std::uint64_t, 9> by_type{};  // index: enum npv_event_type (0: unknown)
  std::uint64_t flows = 0;
  std::uint64_t flows_established = 0;
  std::uint64_t flows_refused = 0;
  std::uint64_t cpu_ns = 0;  // CPU time of the consumer thread, start to end of stop()
  int poll_error = 0;        // negative errno of a failed poll, else 0
};

// Polls an Observer on a thread of its own into a FlowTracker and renders every completed flow as
// `npv observe` does (flow_to_text; the line is discarded). The Observer must not be used by
// anyone else between start() and stop().
//
// batch_interval 0: poll(100 ms) in a loop like `npv observe`: it reads every 100 ms, or as soon
// as a ring buffer is a quarter full (the BPF programs then force a wakeup). Otherwise it never
// waits on the ring buffers: poll(0), then sleeps the interval (early wakeups are ignored).
class Consumer {
 public:
  explicit Consumer(Observer& observer, std::chrono::milliseconds batch_interval = std::chrono::milliseconds(0));
  ~Consumer();
  void start();
  // Asks the thread to stop, lets it drain the ring buffers (until a 50 ms poll finds nothing)
  // and flush the tracker, joins it and returns what it saw since start().
  ConsumerTally stop();

 private:
  void run();
  Observer& observer_;
  std::chrono::milliseconds batch_interval_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  ConsumerTally tally_;
};

// ---- the bpftrace peer --------------------------------------------------------------------------

// bpftrace running a program, as a child process whose stdout is kept. stop() sends SIGINT (the
// program prints its maps and exits) and returns stdout.
class BpftraceChild {
 public:
  // Starts `bpftrace -e program` and waits (up to `timeout`) until it printed "Attaching", then
  // one more second for the attach itself. kEnvironment with bpftrace's stderr if it exits.
  static Result<BpftraceChild> start(const std::string& program, std::chrono::milliseconds timeout);
  BpftraceChild(BpftraceChild&&) noexcept;
  BpftraceChild& operator=(BpftraceChild&&) = delete;
  ~BpftraceChild();  // kills it if still running
  Result<std::string> stop();

 private:
  BpftraceChild() = default;
  pid_t pid_ = -1;
  UniqueFd out_, err_;
  std::string out_text_, err_text_;
};

// Sum of the values of every "@...: N" line of bpftrace's printed maps.
std::uint64_t bpftrace_map_total(const std::string& output);

// ---- putting the machine back -------------------------------------------------------------------

// Sets a sysctl (/proc/sys/...) and restores its old value when destroyed (or on restore()).
class SysctlGuard {
 public:
  static Result<SysctlGuard> set(std::string path, const std::string& value);
  SysctlGuard(SysctlGuard&&) noexcept;
  SysctlGuard& operator=(SysctlGuard&&) = delete;
  ~SysctlGuard();
  void restore();
  const std::string& old_value() const { return old_; }

 private:
  SysctlGuard() = default;
  std::string path_, old_;
  bool active_ = false;
};

// Mounts tracefs on /sys/kernel/tracing if it is not there (bpftrace's tracepoint: probes need
// it); unmounts it when destroyed, only if it mounted it.
class TracefsGuard {
 public:
  static Result<TracefsGuard> ensure();
  TracefsGuard(TracefsGuard&&) noexcept;
  TracefsGuard& operator=(TracefsGuard&&) = delete;
  ~TracefsGuard();
  bool mounted_by_us() const { return mounted_; }

 private:
  TracefsGuard() = default;
  bool mounted_ = false;
};

// Machine-wide CPU use between two snapshots, to flag phases disturbed by other processes.
struct CpuSnapshot {
  std::uint64_t busy_ticks = 0, total_ticks = 0;  // /proc/stat, all CPUs (busy: not idle/iowait)
  std::uint64_t self_ns = 0;                      // this process (RUSAGE_SELF user + system)
  std::uint64_t wall_ns = 0;
  static CpuSnapshot take();
};
// Share of the machine's CPU capacity (0..1) used by anything but this process between a and b
// (softirq time included in "this process", since it mostly serves the storm's packets).
double foreign_cpu_share(const CpuSnapshot& a, const CpuSnapshot& b);

// Waits until other processes use less than `max_share` of the machine over a 250 ms window, for
// at most `limit`. Returns the share of the last window (the caller goes ahead either way).
double wait_for_quiet(double max_share, std::chrono::seconds limit);

}  // namespace npv::bench
