// The lab's topology and probe list, computed from a ClusterState before anything is created.
// Pure functions: no kernel object, no clock.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "npv/lab_runner.hpp"
#include "npv/netns_lab.hpp"

namespace npv::lab {

// One network namespace of the lab: a pod of the cluster or an external peer.
struct LabHost {
  std::string name;          // "ns/name" (a pod) or "external/<ip>"
  std::optional<PodId> pod;  // in LabPlan::cluster; nullopt for an external
  // The addresses probes use (the pod's own, or the external's); at least one is set.
  std::optional<IpAddr> v4, v6;
  // The IPv4 address NetnsLab gives eth0: *v4, or a lab-internal one from lab_cidr for a host
  // that has only IPv6 (never probed, never in the cluster).
  IpAddr lab_v4;
  std::vector<PortProto> ports;  // listeners: declared container ports (or the external's), unique, sorted
};

// `ip route add <dst> dev eth0` inside host `host`: on-link routes between the pods' subnet and
// an external whose IP lies outside any prefix the pods can share with it.
struct ExtraRoute {
  std::size_t host = 0;
  std::string dst;  // CIDR, e.g. "192.0.2.10/32"
};

// One probe: a connection attempt (TCP) or datagram (UDP) from hosts[src] to hosts[dst].
struct ProbeSpec {
  std::size_t src = 0, dst = 0;  // indexes into LabPlan::hosts; src is always a pod
  IpAddr src_ip, dst_ip;         // same family
  PortProto port;                // TCP or UDP
};

struct LabPlan {
  ClusterState cluster;  // lab_cluster(): every lab pod has an IP
  std::vector<LabHost> hosts;  // pods (cluster order), then externals (by IP)
  LabOptions lab_options;      // on-link prefixes covering every host
  std::vector<ExtraRoute> routes;
  std::vector<ProbeSpec> probes;  // every ordered pair of distinct pods x port x shared family,
                                  // then every pod x external port
  std::vector<std::string> notes;  // what is left out and why (hostNetwork pods, SCTP ports)
  std::size_t listeners() const;
};

// kBadInput as lab_cluster(), and when there is nothing to probe.
Result<LabPlan> plan_lab(const ClusterState& cluster, const LabRunOptions& options);

// The longest prefix (at most max_prefix) that puts every address of `addrs` (one family, not
// empty) on one link, avoiding one whose all-zeros or all-ones host address is one of them
// (IPv4: the kernel treats the latter as broadcast). nullopt when only /0 would do.
std::optional<int> shared_prefix(const std::vector<IpAddr>& addrs, int max_prefix);

}  // namespace npv::lab
