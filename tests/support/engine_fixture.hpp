// Test helpers for the NetworkPolicy engine tests (tests/unit/policy_engine_*_test.cpp): a
// NetworkPolicy manifest builder and a cluster loaded from YAML together with its engine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "npv/policy_engine.hpp"

namespace npv::test {

// A NetworkPolicy manifest; `spec` is the spec as YAML flow text, e.g. "{podSelector: {}}".
std::string policy_yaml(const std::string& ns, const std::string& name, const std::string& spec);

// "80/TCP" as a PortProto; a parse error fails the test.
PortProto port_of(std::string_view text);

// A cluster loaded from YAML, and the engine over it. Not copyable or movable: the engine refers
// to the ClusterState member. A load error or an unknown pod fails the test.
class Cluster {
 public:
  explicit Cluster(std::string_view yaml) : state_(load(yaml)), engine_(state_) {}
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  const ClusterState& state() const { return state_; }
  const PolicyEngine& engine() const { return engine_; }

  // "ns/name" is a pod of the cluster (no IP given); anything else is an IP address.
  Endpoint ep(std::string_view text) const;
  // A pod together with the IP the flow uses.
  Endpoint ep(std::string_view pod, std::string_view ip) const;
  Flow flow(const Endpoint& src, const Endpoint& dst, std::string_view port) const { return {src, dst, port_of(port)}; }

  // The verdict; also checks that the fast path and the explanation agree.
  bool allowed(const Endpoint& src, const Endpoint& dst, std::string_view port) const;
  bool allowed(std::string_view src, std::string_view dst, std::string_view port) const {
    return allowed(ep(src), ep(dst), port);
  }

  // Index of the policy "ns/name" in state().policies.
  std::uint32_t policy(std::string_view ref) const;

 private:
  static ClusterState load(std::string_view yaml);

  ClusterState state_;
  PolicyEngine engine_;
};

}  // namespace npv::test
