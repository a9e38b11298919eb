// Renderers of ObservedFlow (flow_tracker.hpp): the stable JSON schema and the one-line text form.
#include <string>

#include "npv/flow_tracker.hpp"

namespace npv {

namespace {

// "ns/name" when `pod` names a pod of `cluster`, else nullopt.
std::optional<std::string> pod_name(const ClusterState* cluster, const std::optional<PodId>& pod) {
  if (cluster == nullptr || !pod || *pod >= cluster->pods.size()) return std::nullopt;
  return cluster->pods[*pod].ref();
}

nlohmann::json pod_json(const ClusterState* cluster, const std::optional<PodId>& pod) {
  auto name = pod_name(cluster, pod);
  return name ? nlohmann::json(*name) : nlohmann::json(nullptr);
}

// "10.0.0.1:40000", "[fd00::1]:40000".
std::string ip_port(const IpAddr& ip, std::uint16_t port) {
  std::string out = ip.family == 6 ? "[" + ip.to_string() + "]" : ip.to_string();
  return out + ":" + std::to_string(port);
}

// "prod/web (10.0.0.1:40000)", or the address alone for an IP that is no pod.
std::string endpoint(const ClusterState* cluster, const std::optional<PodId>& pod, std::string address) {
  auto name = pod_name(cluster, pod);
  return name ? *name + " (" + address + ")" : address;
}

}  // namespace

nlohmann::json flow_to_json(const ObservedFlow& flow, const ClusterState* cluster) {
  nlohmann::json j;
  j["src"] = flow.src.to_string();
  j["src_port"] = flow.src_port;
  j["dst"] = flow.dst.to_string();
  j["port"] = PortProto{flow.dst_port, flow.proto}.to_string();
  j["protocol"] = to_string(flow.proto);
  j["outcome"] = to_string(flow.outcome);
  j["drop_reason"] = flow.drop_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(flow.drop_reason);
  j["src_pod"] = pod_json(cluster, flow.src_pod);
  j["dst_pod"] = pod_json(cluster, flow.dst_pod);
  j["client_seen"] = flow.client_seen;
  j["server_seen"] = flow.server_seen;
  return j;
}

std::string flow_to_text(const ObservedFlow& flow, const ClusterState* cluster) {
  std::string out = endpoint(cluster, flow.src_pod, ip_port(flow.src, flow.src_port)) + " -> " +
                    endpoint(cluster, flow.dst_pod, flow.dst.to_string()) + " " +
                    PortProto{flow.dst_port, flow.proto}.to_string() + " " + to_string(flow.outcome);
  if (!flow.drop_reason.empty()) out += " (drop: " + flow.drop_reason + ")";
  if (!flow.client_seen) out += flow.server_seen ? " [server only]" : " [drop only]";
  return out;
}

}  // namespace npv
