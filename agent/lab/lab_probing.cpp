#include "lab/lab_probing.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <optional>
#include <thread>

namespace npv::lab {

ProbeOutcome classify(const ConnectResult& result) {
  if (result.connected) return ProbeOutcome::kConnected;
  if (result.icmp) return ProbeOutcome::kUnreachable;  // an ICMP error answered the SYN
  switch (result.error) {
    case ECONNREFUSED: return ProbeOutcome::kRefused;  // a RST
    case ETIMEDOUT:
    case 0: return ProbeOutcome::kTimeout;  // no answer within our timeout
    default: return ProbeOutcome::kUnreachable;  // EHOSTUNREACH, ENETUNREACH, EACCES, EPERM, ...
  }
}

namespace {

Result<ProbeResult> probe_tcp(const LabPod& from, const ProbeSpec& p, std::chrono::milliseconds timeout) {
  auto r = tcp_connect(from, p.dst_ip, p.port.port, timeout);
  if (!r) return std::unexpected(r.error());
  return ProbeResult{classify(*r), r->local_port};
}

// One datagram; received when the destination's listener counts it within `timeout`. Probes to
// one listener take turns (slot.mu), so its count is this probe's alone.
Result<ProbeResult> probe_udp(const LabPod& from, const ProbeSpec& p, UdpSlot& slot, std::chrono::milliseconds timeout) {
  std::lock_guard lock(slot.mu);
  const std::size_t before = slot.receiver.received();
  auto sent = udp_send(from, p.dst_ip, p.port.port, 1);
  if (!sent) {
    // sendto() failed: the source's own egress filter refused it (EPERM) or it had no route.
    if (sent.error().code == Errc::kIo) return ProbeResult{ProbeOutcome::kNotReceived, 0};
    return std::unexpected(sent.error());
  }
  const bool got = slot.receiver.wait_received(before + 1, timeout);
  return ProbeResult{got ? ProbeOutcome::kReceived : ProbeOutcome::kNotReceived, *sent};
}

}  // namespace

Result<std::vector<ProbeResult>> run_probes(const LabPlan& plan, const std::vector<LabPod>& pods, UdpSlots& udp,
                                            const ProbeRun& run, const std::atomic<bool>& interrupted) {
  const std::size_t total = plan.probes.size();
  std::vector<ProbeResult> results(total);
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::condition_variable changed;
  std::size_t done = 0;         // guarded by mu
  std::optional<Error> failure;  // guarded by mu
  std::atomic<bool> stop{false};

  auto worker = [&] {
    for (;;) {
      if (stop.load() || interrupted.load()) return;
      const std::size_t i = next.fetch_add(1);
      if (i >= total) return;
      const ProbeSpec& p = plan.probes[i];
      const LabPod& from = pods[p.src];
      Result<ProbeResult> r = ProbeResult{};
      if (p.port.proto == Protocol::kUDP) {
        auto slot = udp.find({p.dst, p.port.port});
        r = slot == udp.end() ? make_error(Errc::kBadInput, "no UDP listener for " + plan.hosts[p.dst].name)
                              : probe_udp(from, p, *slot->second, run.timeout);
      } else {
        r = probe_tcp(from, p, run.timeout);
      }
      std::lock_guard lock(mu);
      if (r) {
        results[i] = *r;
        ++done;
      } else {
        if (!failure) failure = r.error();
        stop.store(true);
      }
      changed.notify_all();
    }
  };

  const unsigned n_workers = static_cast<unsigned>(std::clamp<std::size_t>(run.parallel, 1, total));
  std::vector<std::thread> workers;
  workers.reserve(n_workers);
  for (unsigned w = 0; w < n_workers; ++w) workers.emplace_back(worker);
  {
    std::unique_lock lock(mu);
    auto last_report = std::chrono::steady_clock::now();
    while (done < total && !failure && !interrupted.load()) {
      changed.wait_for(lock, std::chrono::milliseconds(100));
      const auto now = std::chrono::steady_clock::now();
      if (run.progress && done < total && !failure && now - last_report >= std::chrono::seconds(1)) {
        last_report = now;
        run.progress(done, total);
      }
    }
  }
  stop.store(true);
  for (auto& t : workers) t.join();
  if (interrupted.load()) return make_error(Errc::kEnvironment, "interrupted");
  if (failure) return std::unexpected(std::move(*failure));
  return results;
}

}  // namespace npv::lab
