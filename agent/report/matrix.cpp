#include "npv/matrix.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace npv {

std::vector<PortProto> declared_ports(const ClusterState& cluster) {
  std::set<PortProto> ports;
  for (const auto& pod : cluster.pods) {
    for (const auto& p : pod.ports) ports.insert({p.port, p.proto});
  }
  return {ports.begin(), ports.end()};
}

ReachabilityMatrix compute_matrix(const PolicyEngine& engine, std::span<const PortProto> ports,
                                  const ProgressFn& progress) {
  const std::size_t n = engine.cluster().pods.size();
  ReachabilityMatrix m;
  m.ports.assign(ports.begin(), ports.end());
  m.pod_count = n;
  m.allowed.assign(ports.size(), std::vector<bool>(n * n, false));
  const std::size_t total = n * n * ports.size();
  std::size_t done = 0;
  for (PodId src = 0; src < n; ++src) {
    for (std::size_t k = 0; k < ports.size(); ++k) {
      auto& row = m.allowed[k];
      for (PodId dst = 0; dst < n; ++dst) {
        row[src * n + dst] = engine.allowed(Flow{Endpoint::of_pod(src), Endpoint::of_pod(dst), ports[k]});
      }
    }
    done += n * ports.size();
    if (progress) progress(done, total);
  }
  return m;
}

void write_matrix_json(std::ostream& out, const ReachabilityMatrix& m, const ClusterState& cluster) {
  // "ns/name" strings sort like (namespace, name) unless a name holds a character below '/', so
  // order the pods by their quoted strings once to honour the "sorted list" contract exactly.
  std::vector<std::string> quoted(m.pod_count);
  for (PodId p = 0; p < m.pod_count; ++p) quoted[p] = nlohmann::json(cluster.pods[p].ref()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::vector<PodId> order(m.pod_count);
  for (PodId p = 0; p < m.pod_count; ++p) order[p] = p;
  std::sort(order.begin(), order.end(), [&](PodId a, PodId b) { return cluster.pods[a].ref() < cluster.pods[b].ref(); });
  out << "{";
  std::string line;
  for (std::size_t k = 0; k < m.ports.size(); ++k) {
    out << (k ? ",\n  " : "\n  ") << '"' << m.ports[k].to_string() << "\": {";
    for (std::size_t i = 0; i < order.size(); ++i) {
      const PodId src = order[i];
      line.assign(i ? ",\n    " : "\n    ");
      line += quoted[src];
      line += ": [";
      bool first = true;
      for (PodId dst : order) {
        if (!m.at(k, src, dst)) continue;
        if (!first) line += ", ";
        line += quoted[dst];
        first = false;
      }
      line += ']';
      out << line;
    }
    out << (order.empty() ? "}" : "\n  }");
  }
  out << (m.ports.empty() ? "}\n" : "\n}\n");
}

std::string matrix_to_table(const ReachabilityMatrix& m, const ClusterState& cluster) {
  std::string out;
  const std::size_t n = m.pod_count;
  std::size_t name_width = 0;
  for (const auto& pod : cluster.pods) name_width = std::max(name_width, pod.ref().size());
  const std::size_t num_width = std::to_string(n).size();
  auto pad_left = [](std::string s, std::size_t w) { return std::string(w > s.size() ? w - s.size() : 0, ' ') + s; };
  auto pad_right = [](std::string s, std::size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
  const std::string row_prefix_blank(num_width + 1 + name_width, ' ');
  for (std::size_t k = 0; k < m.ports.size(); ++k) {
    if (k) out += '\n';
    out += m.ports[k].to_string() + "  (rows: from, columns: to; . allowed, X denied)\n";
    // Column numbers written vertically, one digit per line, so wide clusters stay aligned.
    for (std::size_t digit = 0; digit < num_width; ++digit) {
      out += row_prefix_blank + "  ";
      for (std::size_t dst = 0; dst < n; ++dst) {
        out += pad_left(std::to_string(dst + 1), num_width)[digit];
        out += ' ';
      }
      out.back() = '\n';
    }
    std::size_t allowed = 0;
    for (PodId src = 0; src < n; ++src) {
      out += pad_left(std::to_string(src + 1), num_width) + " " + pad_right(cluster.pods[src].ref(), name_width) + "  ";
      for (PodId dst = 0; dst < n; ++dst) {
        allowed += m.at(k, src, dst);
        out += m.at(k, src, dst) ? '.' : 'X';
        out += ' ';
      }
      out.back() = '\n';
    }
    out += std::to_string(allowed - n) + " of " + std::to_string(n * (n - 1)) +
           " pod pairs allowed (a pod reaching itself not counted)\n";
  }
  return out;
}

}  // namespace npv
