#include <algorithm>
#include <set>
#include <tuple>

#include "npv/model.hpp"

namespace npv {

std::optional<std::uint16_t> Pod::named_port(std::string_view port_name, Protocol proto) const {
  for (const auto& p : ports) {
    if (p.proto == proto && p.name == port_name) return p.port;
  }
  return std::nullopt;
}

bool IpBlock::contains(const IpAddr& ip) const {
  if (!cidr.contains(ip)) return false;
  for (const auto& e : except) {
    if (e.contains(ip)) return false;
  }
  return true;
}

void ClusterState::finalize() {
  std::set<std::string, std::less<>> known;
  for (const auto& ns : namespaces) known.insert(ns.name);
  auto ensure = [&](const std::string& name) {
    if (known.insert(name).second) {
      Namespace ns;
      ns.name = name;
      ns.origin = "(implicit)";
      namespaces.push_back(std::move(ns));
    }
  };
  for (const auto& pod : pods) ensure(pod.ns);
  for (const auto& pol : policies) ensure(pol.ns);
  for (auto& ns : namespaces) ns.labels[std::string(kNamespaceNameLabel)] = ns.name;

  std::sort(namespaces.begin(), namespaces.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::sort(pods.begin(), pods.end(),
            [](const auto& a, const auto& b) { return std::tie(a.ns, a.name) < std::tie(b.ns, b.name); });
  std::sort(policies.begin(), policies.end(),
            [](const auto& a, const auto& b) { return std::tie(a.ns, a.name) < std::tie(b.ns, b.name); });
  std::sort(tier_policies.begin(), tier_policies.end(), [](const auto& a, const auto& b) {
    return std::tie(a.tier, a.priority, a.api, a.name) < std::tie(b.tier, b.priority, b.api, b.name);
  });
  std::sort(services.begin(), services.end(),
            [](const auto& a, const auto& b) { return std::tie(a.ns, a.name) < std::tie(b.ns, b.name); });
  std::sort(endpoint_slices.begin(), endpoint_slices.end(),
            [](const auto& a, const auto& b) { return std::tie(a.ns, a.name) < std::tie(b.ns, b.name); });

  namespace_by_name_.clear();
  for (NamespaceId i = 0; i < namespaces.size(); ++i) namespace_by_name_[namespaces[i].name] = i;
  pod_by_ref_.clear();
  pod_by_ip_.clear();
  pod_namespace_.assign(pods.size(), 0);
  for (PodId i = 0; i < pods.size(); ++i) {
    pod_by_ref_[pods[i].ref()] = i;
    pod_namespace_[i] = namespace_by_name_.at(pods[i].ns);
    // hostNetwork pods share the node's IP; an IP identifies them only if nothing else has it.
    if (pods[i].host_network) continue;
    for (const auto& ip : pods[i].ips) pod_by_ip_.emplace(ip, i);
  }
}

std::optional<PodId> ClusterState::find_pod(std::string_view ref) const {
  auto it = pod_by_ref_.find(std::string(ref));
  if (it == pod_by_ref_.end()) return std::nullopt;
  return it->second;
}

std::optional<PodId> ClusterState::find_pod_by_ip(const IpAddr& ip) const {
  auto it = pod_by_ip_.find(ip);
  if (it == pod_by_ip_.end()) return std::nullopt;
  return it->second;
}

std::size_t ClusterState::IpHash::operator()(const IpAddr& ip) const noexcept {
  std::uint64_t h = 1469598103934665603ULL ^ ip.family;  // FNV-1a over the address bytes
  for (auto b : ip.bytes) h = (h ^ b) * 1099511628211ULL;
  return static_cast<std::size_t>(h);
}

std::optional<NamespaceId> ClusterState::find_namespace(std::string_view name) const {
  auto it = namespace_by_name_.find(std::string(name));
  if (it == namespace_by_name_.end()) return std::nullopt;
  return it->second;
}

}  // namespace npv
