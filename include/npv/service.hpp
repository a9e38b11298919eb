// Services (core/v1) and EndpointSlices (discovery.k8s.io/v1) in the cluster model.
//
// NetworkPolicies never name Services, but the agent needs them: a flow to a ClusterIP is
// translated (DNAT) to a backend pod before any policy applies, and the EndpointSlices say which
// pods back which Service port. Both are read from manifests (loader.hpp) and from the
// Kubernetes API (kube_watch.hpp), validated like the API server does for the fields used here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "npv/cidr.hpp"
#include "npv/port.hpp"
#include "npv/selector.hpp"

namespace npv {

struct ServicePort {
  std::string name;  // empty when the Service has a single unnamed port
  std::uint16_t port = 0;
  Protocol proto = Protocol::kTCP;
  // targetPort: a number, or the name of a container port of the backend pods. Defaults to
  // `port` when omitted, as Kubernetes does.
  std::uint16_t target_port = 0;     // 0 when target_port_name is set
  std::string target_port_name;      // empty for a numeric target port
  std::uint16_t node_port = 0;       // NodePort/LoadBalancer only, else 0
};

struct Service {
  std::string ns;
  std::string name;
  std::string type = "ClusterIP";  // ClusterIP, NodePort, LoadBalancer or ExternalName
  std::vector<IpAddr> cluster_ips;  // spec.clusterIPs (or spec.clusterIP); empty when headless
  bool headless = false;            // clusterIP: None
  // spec.selector; nullopt when omitted (EndpointSlices are then managed by someone else).
  std::optional<Labels> selector;
  std::vector<ServicePort> ports;
  std::string external_name;  // ExternalName services only
  std::string origin;

  std::string ref() const { return ns + "/" + name; }
};

enum class AddressType : std::uint8_t { kIPv4, kIPv6, kFQDN };
const char* to_string(AddressType t);  // "IPv4", "IPv6", "FQDN"

struct EndpointPort {
  std::string name;                 // matches ServicePort::name
  std::optional<std::uint16_t> port;  // nullopt: "all ports" (Kubernetes: a nil port)
  Protocol proto = Protocol::kTCP;
};

struct SliceEndpoint {
  std::vector<std::string> addresses;  // as written (IP text, or a DNS name for FQDN slices)
  std::vector<IpAddr> ips;             // the same addresses, parsed (IPv4/IPv6 slices only)
  // conditions.ready; a nil value means "unknown", which consumers treat as ready (API reference).
  bool ready = true;
  std::string target_pod;  // "ns/name" when targetRef is a Pod, else empty
  std::string node_name;
};

struct EndpointSlice {
  std::string ns;
  std::string name;
  std::string service_name;  // label kubernetes.io/service-name; empty when absent
  AddressType address_type = AddressType::kIPv4;
  std::vector<SliceEndpoint> endpoints;
  std::vector<EndpointPort> ports;  // empty: no ports defined
  std::string origin;

  std::string ref() const { return ns + "/" + name; }
};

inline constexpr std::string_view kServiceNameLabel = "kubernetes.io/service-name";

}  // namespace npv
