#include "npv/explain_report.hpp"

namespace npv {

namespace {

const char* dir_word(Direction d) { return d == Direction::kIngress ? "ingress" : "egress"; }

nlohmann::json endpoint_json(const ClusterState& cluster, const Endpoint& e) {
  nlohmann::json j;
  j["pod"] = e.pod ? nlohmann::json(cluster.pods[*e.pod].ref()) : nlohmann::json(nullptr);
  j["ip"] = e.ip ? nlohmann::json(e.ip->to_string()) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json direction_json(const ClusterState& cluster, const DirectionVerdict& v) {
  nlohmann::json j;
  j["governed"] = v.governed;
  j["isolated"] = v.isolated();
  j["allowed"] = v.allowed();
  auto iso = nlohmann::json::array();
  for (auto id : v.isolating) iso.push_back(cluster.policies[id].ref());
  j["isolating_policies"] = std::move(iso);
  auto by = nlohmann::json::array();
  for (const auto& r : v.allowed_by) by.push_back({{"policy", cluster.policies[r.policy].ref()}, {"rule", r.rule}});
  j["allowed_by"] = std::move(by);
  return j;
}

void direction_text(std::string& out, const ClusterState& cluster, const Flow& flow, Direction dir,
                    const DirectionVerdict& v) {
  const Endpoint& subject = dir == Direction::kEgress ? flow.src : flow.dst;
  const Endpoint& peer = dir == Direction::kEgress ? flow.dst : flow.src;
  out += std::string(dir_word(dir)) + (dir == Direction::kEgress ? " from " : " to ") +
         endpoint_name(cluster, subject) + ":\n";
  if (!v.governed) {
    out += "  allowed: not a cluster pod, so no NetworkPolicy applies to its " + std::string(dir_word(dir)) + "\n";
    return;
  }
  if (!v.isolated()) {
    out += "  allowed: not isolated, no NetworkPolicy selects this pod for " + std::string(dir_word(dir)) + "\n";
    return;
  }
  out += "  isolated by: ";
  for (std::size_t i = 0; i < v.isolating.size(); ++i) {
    out += (i ? ", " : "") + cluster.policies[v.isolating[i]].ref();
  }
  out += '\n';
  if (v.allowed_by.empty()) {
    out += "  DENIED: no " + std::string(dir_word(dir)) + " rule of these policies matches " +
           endpoint_name(cluster, peer) + " on " + flow.port.to_string() + "\n";
    return;
  }
  out += "  allowed by: ";
  for (std::size_t i = 0; i < v.allowed_by.size(); ++i) {
    const auto& r = v.allowed_by[i];
    out += (i ? ", " : "") + cluster.policies[r.policy].ref() + " " + dir_word(dir) + "[" + std::to_string(r.rule) + "]";
  }
  out += '\n';
}

}  // namespace

std::string endpoint_name(const ClusterState& cluster, const Endpoint& e) {
  if (e.pod && e.ip) return cluster.pods[*e.pod].ref() + " (" + e.ip->to_string() + ")";
  if (e.pod) return cluster.pods[*e.pod].ref();
  return e.ip ? e.ip->to_string() : "?";
}

nlohmann::json explanation_to_json(const ClusterState& cluster, const Flow& flow, const Explanation& e) {
  nlohmann::json j;
  j["from"] = endpoint_json(cluster, flow.src);
  j["to"] = endpoint_json(cluster, flow.dst);
  j["port"] = flow.port.to_string();
  j["allowed"] = e.allowed();
  j["self"] = e.self;
  j["egress"] = direction_json(cluster, e.egress);
  j["ingress"] = direction_json(cluster, e.ingress);
  return j;
}

std::string explanation_to_text(const ClusterState& cluster, const Flow& flow, const Explanation& e) {
  std::string out = endpoint_name(cluster, flow.src) + " -> " + endpoint_name(cluster, flow.dst) + " on " +
                    flow.port.to_string() + ": " + (e.allowed() ? "ALLOWED" : "DENIED") + "\n";
  if (e.self) {
    out += "  a pod can always reach itself (NetworkPolicy does not apply to pod-to-self traffic)\n";
    return out;
  }
  direction_text(out, cluster, flow, Direction::kEgress, e.egress);
  direction_text(out, cluster, flow, Direction::kIngress, e.ingress);
  return out;
}

}  // namespace npv
