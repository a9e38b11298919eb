// The reachability truth table: for every ordered pod pair and port, whether policy allows it.
#pragma once

#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "npv/policy_engine.hpp"

namespace npv {

struct ReachabilityMatrix {
  std::vector<PortProto> ports;
  std::size_t pod_count = 0;
  // allowed[k][src * pod_count + dst]: ports[k] from pod src to pod dst is allowed.
  std::vector<std::vector<bool>> allowed;

  bool at(std::size_t port_index, PodId src, PodId dst) const {
    return allowed[port_index][static_cast<std::size_t>(src) * pod_count + dst];
  }
};

// Every port/protocol that some pod declares in its containers, sorted.
std::vector<PortProto> declared_ports(const ClusterState& cluster);

// Called after each source pod with (done, total) verdict counts; may be empty.
using ProgressFn = std::function<void(std::size_t done, std::size_t total)>;

ReachabilityMatrix compute_matrix(const PolicyEngine& engine, std::span<const PortProto> ports,
                                  const ProgressFn& progress = {});

// {"80/TCP": {"ns/src": ["ns/dst", ...], ...}, ...}: every pod is a key of every port, its value
// the sorted list of destinations allowed on that port (the pod itself included: R1). Streamed,
// one source pod per line, so memory stays at the matrix's bits however large the output.
void write_matrix_json(std::ostream& out, const ReachabilityMatrix& m, const ClusterState& cluster);

// One grid per port: rows are sources, columns destinations (numbered like the rows);
// "." allowed, "X" denied.
std::string matrix_to_table(const ReachabilityMatrix& m, const ClusterState& cluster);

}  // namespace npv
