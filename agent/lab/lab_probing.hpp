// Running the lab's probes: TCP connection attempts and UDP datagrams between lab pods, many at
// once, with what each prober saw.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "lab/lab_plan.hpp"
#include "npv/netns_lab.hpp"
#include "npv/verifier.hpp"

namespace npv::lab {

// A UDP listener and the lock that serialises probes to it: its received() count tells whether
// one probe's datagram arrived only while no other probe sends to it.
struct UdpSlot {
  explicit UdpSlot(UdpReceiver r) : receiver(std::move(r)) {}
  UdpReceiver receiver;
  std::mutex mu;
};
// Keyed by (host index in LabPlan::hosts, UDP port).
using UdpSlots = std::map<std::pair<std::size_t, std::uint16_t>, std::unique_ptr<UdpSlot>>;

struct ProbeResult {
  ProbeOutcome outcome = ProbeOutcome::kTimeout;
  std::uint16_t src_port = 0;  // 0: unknown (a UDP send the source's own dataplane refused)
};

// The prober's outcome of one TCP attempt.
ProbeOutcome classify(const ConnectResult& result);

struct ProbeRun {
  std::chrono::milliseconds timeout{300};
  unsigned parallel = 32;
  // Called on the calling thread about once a second while probes run: (done, total).
  std::function<void(std::size_t, std::size_t)> progress;
};

// Runs plan.probes on `parallel` worker threads; `pods[i]` is the lab pod of plan.hosts[i].
// Stops early (returning an Error "interrupted") when `interrupted` becomes true, and on the
// first probe that cannot run at all (its namespace is gone, ...). results[i] is probe i's.
Result<std::vector<ProbeResult>> run_probes(const LabPlan& plan, const std::vector<LabPod>& pods, UdpSlots& udp,
                                            const ProbeRun& run, const std::atomic<bool>& interrupted);

}  // namespace npv::lab
