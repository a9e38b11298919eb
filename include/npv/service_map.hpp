// Service IPs to the pods behind them, for judging flows the observer saw towards a ClusterIP.
//
// A pod that connects to a Service's ClusterIP is translated (DNAT, by kube-proxy or the CNI) to
// one backend pod before any NetworkPolicy applies, so the verdict is the backend's. Rules (each
// branch in service_map.cpp names its rule):
//  S1. Key. (ClusterIP, port, protocol) of every Service of type ClusterIP, NodePort or
//      LoadBalancer with cluster IPs (headless and ExternalName Services have none).
//  S2. Backends from EndpointSlices: slices labelled kubernetes.io/service-name = the Service,
//      in its namespace, of the ClusterIP's address family; the slice port named like the Service
//      port (both empty for a single unnamed port) gives the backend port; endpoints whose ready
//      condition is false are left out (an unset condition counts as ready, as the API says).
//  S3. Without any EndpointSlice for the Service (manifests often carry none): the pods its
//      selector matches in its namespace that have an IP of the family, at targetPort (a number,
//      or the named container port of each pod; a pod without that port is no backend).
//  S4. A Service without a selector and without slices has no backends: the flow cannot be
//      judged (its backends are managed elsewhere).
//
// Immutable after construction; refers to nothing in the ClusterState.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "npv/model.hpp"

namespace npv {

struct ServiceBackend {
  IpAddr ip;
  std::uint16_t port = 0;
  bool operator==(const ServiceBackend&) const = default;
};

struct ServiceTarget {
  std::string service;  // "ns/name"
  std::vector<ServiceBackend> backends;  // sorted, unique; empty: none known (S4)
};

class ServiceMap {
 public:
  explicit ServiceMap(const ClusterState& cluster);
  // The Service at ip:port/proto, or null when ip:port is no Service's.
  const ServiceTarget* find(const IpAddr& ip, std::uint16_t port, Protocol proto) const;
  std::size_t size() const { return targets_.size(); }

 private:
  struct Key {
    IpAddr ip;
    std::uint16_t port;
    Protocol proto;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  std::unordered_map<Key, ServiceTarget, KeyHash> targets_;
};

}  // namespace npv
