// Service IPs to backends (service_map.hpp): rules S1-S4.
#include "npv/service_map.hpp"

#include <algorithm>
#include <map>
#include <tuple>

namespace npv {

namespace {

bool is_v4(const IpAddr& ip) { return ip.family == 4; }

}  // namespace

std::size_t ServiceMap::KeyHash::operator()(const Key& k) const noexcept {
  std::size_t h = 1469598103934665603ULL;
  h = (h ^ k.ip.family) * 1099511628211ULL;
  for (auto b : k.ip.bytes) h = (h ^ b) * 1099511628211ULL;
  h = (h ^ k.port) * 1099511628211ULL;
  return (h ^ static_cast<std::size_t>(k.proto)) * 1099511628211ULL;
}

ServiceMap::ServiceMap(const ClusterState& cluster) {
  // Slices by (namespace, service name).
  std::map<std::pair<std::string, std::string>, std::vector<const EndpointSlice*>> slices;
  for (const auto& s : cluster.endpoint_slices) {
    if (!s.service_name.empty()) slices[{s.ns, s.service_name}].push_back(&s);
  }

  for (const Service& svc : cluster.services) {
    if (svc.headless || svc.cluster_ips.empty()) continue;  // S1
    const auto found = slices.find({svc.ns, svc.name});
    for (const IpAddr& cip : svc.cluster_ips) {
      const bool v4 = is_v4(cip);
      for (const ServicePort& sp : svc.ports) {
        ServiceTarget target;
        target.service = svc.ref();
        if (found != slices.end()) {  // S2
          for (const EndpointSlice* slice : found->second) {
            if (slice->address_type != (v4 ? AddressType::kIPv4 : AddressType::kIPv6)) continue;
            std::optional<std::uint16_t> port;
            for (const EndpointPort& ep : slice->ports) {
              if (ep.name == sp.name && ep.proto == sp.proto) port = ep.port;
            }
            if (!port) continue;
            for (const SliceEndpoint& e : slice->endpoints) {
              if (!e.ready) continue;
              for (const IpAddr& ip : e.ips) target.backends.push_back({ip, *port});
            }
          }
        } else if (svc.selector) {  // S3
          for (const Pod& pod : cluster.pods) {
            if (pod.ns != svc.ns || pod.kind != "Pod") continue;
            // A Service selector is equality-based: every key with that value.
            const bool selected = std::ranges::all_of(*svc.selector, [&](const auto& kv) {
              auto it = pod.labels.find(kv.first);
              return it != pod.labels.end() && it->second == kv.second;
            });
            if (!selected) continue;
            std::optional<std::uint16_t> port;
            if (sp.target_port_name.empty()) {
              port = sp.target_port;
            } else {
              port = pod.named_port(sp.target_port_name, sp.proto);
            }
            if (!port) continue;
            for (const IpAddr& ip : pod.ips) {
              if (is_v4(ip) == v4) target.backends.push_back({ip, *port});
            }
          }
        }  // S4: neither: no backends
        std::sort(target.backends.begin(), target.backends.end(), [](const auto& a, const auto& b) {
          return std::tie(a.ip, a.port) < std::tie(b.ip, b.port);
        });
        target.backends.erase(std::unique(target.backends.begin(), target.backends.end()), target.backends.end());
        targets_.insert_or_assign(Key{cip, sp.port, sp.proto}, std::move(target));
      }
    }
  }
}

const ServiceTarget* ServiceMap::find(const IpAddr& ip, std::uint16_t port, Protocol proto) const {
  auto it = targets_.find(Key{ip, port, proto});
  return it == targets_.end() ? nullptr : &it->second;
}

}  // namespace npv
