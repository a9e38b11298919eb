#include "support/manifest_writer.hpp"

namespace npv::test {

using nlohmann::json;

namespace {

json selector_json(const LabelSelector& s) {
  json expressions = json::array();
  for (const auto& r : s.requirements()) {
    json e{{"key", r.key}, {"operator", to_string(r.op)}};
    if (!r.values.empty()) e["values"] = r.values;
    expressions.push_back(std::move(e));
  }
  json out = json::object();
  if (!expressions.empty()) out["matchExpressions"] = std::move(expressions);
  return out;
}

json peer_json(const PolicyPeer& p) {
  json out = json::object();
  if (p.pod_selector) out["podSelector"] = selector_json(*p.pod_selector);
  if (p.namespace_selector) out["namespaceSelector"] = selector_json(*p.namespace_selector);
  if (p.ip_block) {
    json block{{"cidr", p.ip_block->cidr.to_string()}};
    if (!p.ip_block->except.empty()) {
      block["except"] = json::array();
      for (const auto& e : p.ip_block->except) block["except"].push_back(e.to_string());
    }
    out["ipBlock"] = std::move(block);
  }
  return out;
}

json port_json(const PolicyPort& p) {
  json out{{"protocol", to_string(p.proto)}};
  switch (p.kind) {
    case PolicyPort::Kind::kAllPorts: break;
    case PolicyPort::Kind::kNumber:
      out["port"] = p.port;
      if (p.end_port != p.port) out["endPort"] = p.end_port;
      break;
    case PolicyPort::Kind::kNamed: out["port"] = p.name; break;
  }
  return out;
}

json rules_json(const std::vector<PolicyRule>& rules, const char* peers_key) {
  json out = json::array();
  for (const auto& r : rules) {
    json rule = json::object();
    if (!r.peers.empty()) {
      rule[peers_key] = json::array();
      for (const auto& p : r.peers) rule[peers_key].push_back(peer_json(p));
    }
    if (!r.ports.empty()) {
      rule["ports"] = json::array();
      for (const auto& p : r.ports) rule["ports"].push_back(port_json(p));
    }
    out.push_back(std::move(rule));
  }
  return out;
}

// A tier policy in its own API generation's shape (tier_policy.hpp has the mapping).
json tier_peer_json(const TierPeer& p) {
  switch (p.kind) {
    case TierPeer::Kind::kNamespaces: return {{"namespaces", selector_json(p.namespace_selector)}};
    case TierPeer::Kind::kPods:
      return {{"pods", {{"namespaceSelector", selector_json(p.namespace_selector)}, {"podSelector", selector_json(p.pod_selector)}}}};
    case TierPeer::Kind::kNodes: return {{"nodes", selector_json(p.node_selector)}};
    case TierPeer::Kind::kNetworks: {
      json list = json::array();
      for (const auto& c : p.networks) list.push_back(c.to_string());
      return {{"networks", std::move(list)}};
    }
    case TierPeer::Kind::kDomainNames: return {{"domainNames", p.domain_names}};
  }
  return json::object();
}

json tier_port_json(const TierPort& p, bool v1alpha2) {
  if (p.kind == TierPort::Kind::kNamed) return v1alpha2 ? json{{"destinationNamedPort", p.name}} : json{{"namedPort", p.name}};
  const bool range = p.end_port != p.port;
  if (v1alpha2) {
    const char* proto = p.proto == Protocol::kTCP ? "tcp" : p.proto == Protocol::kUDP ? "udp" : "sctp";
    json port = range ? json{{"range", {{"start", p.port}, {"end", p.end_port}}}} : json{{"number", p.port}};
    return {{proto, {{"destinationPort", std::move(port)}}}};
  }
  if (range) return {{"portRange", {{"protocol", to_string(p.proto)}, {"start", p.port}, {"end", p.end_port}}}};
  return {{"portNumber", {{"protocol", to_string(p.proto)}, {"port", p.port}}}};
}

json tier_policy_json(const TierPolicy& pol) {
  const bool v2 = pol.api == TierApi::kClusterNetworkPolicy;
  json spec = json::object();
  if (pol.subject.pod_selector.requirements().empty()) {
    spec["subject"] = {{"namespaces", selector_json(pol.subject.namespace_selector)}};
  } else {
    spec["subject"] = {{"pods", {{"namespaceSelector", selector_json(pol.subject.namespace_selector)},
                                 {"podSelector", selector_json(pol.subject.pod_selector)}}}};
  }
  if (pol.api != TierApi::kBaselineAdminNetworkPolicy) spec["priority"] = pol.priority;
  if (v2) spec["tier"] = pol.tier == TierKind::kAdmin ? "Admin" : "Baseline";
  for (int d = 0; d < 2; ++d) {
    const auto& rules = d == 0 ? pol.ingress : pol.egress;
    if (rules.empty()) continue;
    json list = json::array();
    for (const auto& r : rules) {
      json rule{{"action", r.action == TierAction::kAllow ? (v2 ? "Accept" : "Allow") : to_string(r.action)}};
      if (!r.name.empty()) rule["name"] = r.name;
      json peers = json::array();
      for (const auto& p : r.peers) peers.push_back(tier_peer_json(p));
      rule[d == 0 ? "from" : "to"] = std::move(peers);
      if (!r.ports.empty()) {
        json ports = json::array();
        for (const auto& p : r.ports) ports.push_back(tier_port_json(p, v2));
        rule[v2 ? "protocols" : "ports"] = std::move(ports);
      }
      list.push_back(std::move(rule));
    }
    spec[d == 0 ? "ingress" : "egress"] = std::move(list);
  }
  return {{"apiVersion", v2 ? "policy.networking.k8s.io/v1alpha2" : "policy.networking.k8s.io/v1alpha1"},
          {"kind", to_string(pol.api)},
          {"metadata", {{"name", pol.name}}},
          {"spec", std::move(spec)}};
}

}  // namespace

json cluster_to_manifests(const ClusterState& cluster) {
  json items = json::array();
  for (const auto& ns : cluster.namespaces) {
    if (!ns.declared) continue;
    items.push_back({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns.name}, {"labels", ns.labels}}}});
  }
  for (const auto& pod : cluster.pods) {
    json ports = json::array();
    for (const auto& p : pod.ports) {
      json port{{"containerPort", p.port}, {"protocol", to_string(p.proto)}};
      if (!p.name.empty()) port["name"] = p.name;
      ports.push_back(std::move(port));
    }
    json obj{{"apiVersion", "v1"},
             {"kind", "Pod"},
             {"metadata", {{"name", pod.name}, {"namespace", pod.ns}, {"labels", pod.labels}}},
             {"spec", {{"containers", json::array({{{"name", "main"}, {"ports", std::move(ports)}}})}}}};
    if (!pod.ips.empty()) {
      json ips = json::array();
      for (const auto& ip : pod.ips) ips.push_back({{"ip", ip.to_string()}});
      obj["status"] = {{"podIP", pod.ips[0].to_string()}, {"podIPs", std::move(ips)}};
    }
    items.push_back(std::move(obj));
  }
  for (const auto& pol : cluster.policies) {
    json types = json::array();
    if (pol.affects_ingress) types.push_back("Ingress");
    if (pol.affects_egress) types.push_back("Egress");
    json spec{{"podSelector", selector_json(pol.pod_selector)}, {"policyTypes", std::move(types)}};
    if (!pol.ingress.empty()) spec["ingress"] = rules_json(pol.ingress, "from");
    if (!pol.egress.empty()) spec["egress"] = rules_json(pol.egress, "to");
    items.push_back({{"apiVersion", "networking.k8s.io/v1"},
                     {"kind", "NetworkPolicy"},
                     {"metadata", {{"name", pol.name}, {"namespace", pol.ns}}},
                     {"spec", std::move(spec)}});
  }
  for (const auto& pol : cluster.tier_policies) items.push_back(tier_policy_json(pol));
  return {{"apiVersion", "v1"}, {"kind", "List"}, {"items", std::move(items)}};
}

}  // namespace npv::test
