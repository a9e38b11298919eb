// The lab runner: `npv lab` end to end on this machine.
//
// A ClusterState becomes a miniature cluster (NetnsLab: one network namespace per pod on a
// bridge, with the pod's own IPs), a listener on every declared container port, a dataplane
// (nft_dataplane.hpp: none, enforcing or a fault mode), real probes between every ordered pair
// of pods on every port of the destination, and the eBPF observer watching them. Each probe goes
// through the verifier (verifier.hpp) against the PolicyEngine's verdict; the result is a
// LabReport for the sinks. One path: the same model, engine, observer, tracker and verifier as
// every other mode.
//
// Lab traffic never leaves the lab: pod addresses (e.g. 10.244.1.10) exist only inside the lab's
// namespaces, which have only link routes; "external" peers are lab namespaces too.
#pragma once

#include <atomic>
#include <chrono>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "npv/cidr.hpp"
#include "npv/error.hpp"
#include "npv/model.hpp"
#include "npv/nft_dataplane.hpp"
#include "npv/port.hpp"
#include "npv/verifier.hpp"

namespace npv {

// A peer outside the cluster that policies name in an ipBlock, played by a lab host with this
// IP and a listener on `port`. Every pod probes it.
struct External {
  IpAddr ip;
  PortProto port;
};

// Parses "IP:PORT/PROTO": "203.0.113.7:443/TCP", "[2001:db8::7]:53/UDP" (protocol optional: TCP).
std::expected<External, std::string> parse_external(std::string_view text);

// Where pods without an IP get one, and where the lab lives: private space, never routed out.
inline constexpr std::string_view kDefaultLabCidr = "10.213.0.0/16";

struct LabRunOptions {
  DataplaneOptions dataplane;
  std::vector<External> externals;
  // IPv4 block for pods and workload templates without status.podIP (and for the lab-internal
  // IPv4 address an IPv6-only pod or external needs). Hosts are taken in order, skipping used ones.
  std::string lab_cidr{kDefaultLabCidr};
  std::chrono::milliseconds probe_timeout{300};  // per TCP connect / UDP delivery wait
  unsigned parallel = 32;                        // concurrent probes (0 is treated as 1)
  std::string prefix = "npvlab";                 // NetnsLab name prefix (1-16 of [A-Za-z0-9_.-])
};

// The cluster the lab runs: `cluster` where every pod without an IP (a workload template, or a
// pod not yet scheduled) got the next free address of options.lab_cidr, finalized. Pod ids are
// those of `cluster`. Deterministic; run_lab uses exactly this, so callers render its report
// against it. kBadInput for a bad lab_cidr, a pod or external IP that cannot be a lab host
// (loopback, multicast, unspecified, broadcast), two pods or externals with one IP, or
// lab_cidr running out of addresses.
Result<ClusterState> lab_cluster(const ClusterState& cluster, const LabRunOptions& options);

// Builds the lab, probes, verifies and tears everything down again, on success, on error and
// when `interrupted` becomes true (checked between setup steps and between probes; the run then
// returns an Error with the message "interrupted" after teardown). Removes leftovers of crashed
// runs with the same prefix first. Progress goes to spdlog (info) from the calling thread only.
//
// Errors: kBadInput (see lab_cluster; nothing to probe), kEnvironment (not root, eBPF cannot
// run, `ip`/`nft` missing: returned before anything is created), or a failure while building
// the lab. hostNetwork pods are not lab hosts (they are the node); SCTP ports are not probed.
// The report's probes are sorted by source, destination, port; summary timings and dataplane
// name are filled.
Result<LabReport> run_lab(const ClusterState& cluster, const LabRunOptions& options,
                          const std::atomic<bool>& interrupted);

}  // namespace npv
