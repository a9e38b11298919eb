// Renderers of ObservedFlow (flow_tracker.hpp): the stable JSON schema and the one-line text form.
#include <charconv>
#include <optional>
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

// Appends the address as IpAddr::to_string() writes it; IPv4 without inet_ntop's sprintf, which
// was most of the cost of rendering a flow.
void append_ip(std::string& out, const IpAddr& ip) {
  if (ip.family != 4) {
    out += ip.to_string();
    return;
  }
  char buf[16];  // "255.255.255.255"
  char* p = buf;
  for (int i = 0; i < 4; ++i) {
    const unsigned byte = ip.bytes[i];
    if (i > 0) *p++ = '.';
    if (byte >= 100) *p++ = static_cast<char>('0' + byte / 100);
    if (byte >= 10) *p++ = static_cast<char>('0' + byte / 10 % 10);
    *p++ = static_cast<char>('0' + byte % 10);
  }
  out.append(buf, p);
}

void append_number(std::string& out, unsigned value) {
  char buf[16];
  out.append(buf, std::to_chars(buf, buf + sizeof(buf), value).ptr);
}

// "prod/web (10.0.0.1:40000)", or the address alone for an IP that is no pod; IPv6 in brackets
// when a port follows ("[fd00::1]:40000").
void append_endpoint(std::string& out, const ClusterState* cluster, const std::optional<PodId>& pod,
                     const IpAddr& ip, std::optional<std::uint16_t> port) {
  auto name = pod_name(cluster, pod);
  if (name) {
    out += *name;
    out += " (";
  }
  const bool bracket = port && ip.family == 6;
  if (bracket) out += '[';
  append_ip(out, ip);
  if (bracket) out += ']';
  if (port) {
    out += ':';
    append_number(out, *port);
  }
  if (name) out += ')';
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
  std::string out;
  out.reserve(96);
  append_endpoint(out, cluster, flow.src_pod, flow.src, flow.src_port);
  out += " -> ";
  append_endpoint(out, cluster, flow.dst_pod, flow.dst, std::nullopt);
  out += ' ';
  append_number(out, flow.dst_port);  // PortProto::to_string(): "8080/TCP"
  out += '/';
  out += to_string(flow.proto);
  out += ' ';
  out += to_string(flow.outcome);
  if (!flow.drop_reason.empty()) {
    out += " (drop: ";
    out += flow.drop_reason;
    out += ')';
  }
  if (!flow.client_seen) out += flow.server_seen ? " [server only]" : " [drop only]";
  return out;
}

}  // namespace npv
