// The moving parts of npv_agent_bench (agent_bench.cpp) that deal with the `npv agent` process:
// spawning it (killed with the benchmark, whatever way the benchmark ends), reading its CPU time
// and memory from /proc, and scraping its HTTP endpoints.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "npv/error.hpp"

#include "support/loopback_http.hpp"

namespace npv::bench {

// `npv agent ARGS...` as a child process. stdout (the JSON lines) is read on a thread of its own
// and counted; stderr (spdlog) goes to `log_path`. The child gets PR_SET_PDEATHSIG(SIGKILL), so
// it dies with the benchmark even when the benchmark is killed or crashes.
class AgentChild {
 public:
  static Result<std::unique_ptr<AgentChild>> spawn(const std::string& binary, const std::vector<std::string>& args,
                                  const std::string& log_path);
  AgentChild(const AgentChild&) = delete;
  AgentChild& operator=(const AgentChild&) = delete;
  ~AgentChild();  // stop()

  pid_t pid() const { return pid_; }
  bool alive();  // false once it exited (reaps it)
  // SIGTERM; after `timeout`, SIGKILL. Returns the exit status (128 + signal when killed).
  // Idempotent.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // JSON lines the agent wrote, and how many of them were findings / drift alerts.
  std::uint64_t lines() const { return lines_.load(); }
  std::uint64_t finding_lines() const { return findings_.load(); }
  std::uint64_t drift_lines() const { return drifts_.load(); }

 private:
  AgentChild() = default;
  void read_stdout(int fd);

  pid_t pid_ = -1;
  int status_ = 0;
  std::thread reader_;
  std::atomic<std::uint64_t> lines_{0}, findings_{0}, drifts_{0};
};

// CPU time and memory of a process, from /proc/PID/stat, /proc/PID/status and its tasks.
struct ProcSample {
  std::uint64_t wall_ns = 0;                  // CLOCK_MONOTONIC when taken
  std::uint64_t cpu_ticks = 0;                // utime + stime of all threads (clock ticks)
  std::uint64_t rss_kib = 0, hwm_kib = 0;     // VmRSS, VmHWM
  std::map<int, std::uint64_t> thread_ticks;  // tid -> utime + stime of that thread
  std::map<int, std::string> thread_names;    // tid -> comm
  static std::optional<ProcSample> take(pid_t pid);
};

// CPU used between a and b, as a percentage of one core.
double cpu_percent(const ProcSample& a, const ProcSample& b);

using test::free_port;  // support/loopback_http.hpp
using test::http_get;

// The sum of every sample of a Prometheus family whose labels contain `label_filter`
// (e.g. family "npv_flows_judged_total", filter `status="judged"`; empty: every sample).
double metric_sum(const std::string& text, const std::string& family, const std::string& label_filter = "");

}  // namespace npv::bench
