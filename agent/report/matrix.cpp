#include "npv/matrix.hpp"

#include <algorithm>
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

nlohmann::json matrix_to_json(const ReachabilityMatrix& m, const ClusterState& cluster) {
  auto out = nlohmann::json::object();
  for (std::size_t k = 0; k < m.ports.size(); ++k) {
    auto by_src = nlohmann::json::object();
    for (PodId src = 0; src < m.pod_count; ++src) {
      auto dsts = nlohmann::json::array();
      // Pods are sorted by namespace then name, and "ns/name" strings sort the same way unless a
      // name contains a character below '/', so sort the strings to honour the contract.
      std::vector<std::string> names;
      for (PodId dst = 0; dst < m.pod_count; ++dst) {
        if (m.at(k, src, dst)) names.push_back(cluster.pods[dst].ref());
      }
      std::sort(names.begin(), names.end());
      for (auto& name : names) dsts.push_back(std::move(name));
      by_src[cluster.pods[src].ref()] = std::move(dsts);
    }
    out[m.ports[k].to_string()] = std::move(by_src);
  }
  return out;
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
      out += '\n';
    }
    for (PodId src = 0; src < n; ++src) {
      out += pad_left(std::to_string(src + 1), num_width) + " " + pad_right(cluster.pods[src].ref(), name_width) + "  ";
      for (PodId dst = 0; dst < n; ++dst) {
        out += m.at(k, src, dst) ? '.' : 'X';
        out += ' ';
      }
      out.back() = '\n';
    }
  }
  return out;
}

}  // namespace npv
