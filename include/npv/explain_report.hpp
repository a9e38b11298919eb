// Renders a PolicyEngine explanation for people (text) and scripts (JSON).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "npv/policy_engine.hpp"

namespace npv {

// "ns/name", "10.0.0.1", or "ns/name (10.0.0.1)" when both are known.
std::string endpoint_name(const ClusterState& cluster, const Endpoint& e);

// Schema (README "npv explain"): {from, to, port, allowed, self, egress, ingress}; each direction
// {governed, isolated, isolating_policies: ["ns/name"], allowed, allowed_by: [{policy, rule}]}.
nlohmann::json explanation_to_json(const ClusterState& cluster, const Flow& flow, const Explanation& e);
std::string explanation_to_text(const ClusterState& cluster, const Flow& flow, const Explanation& e);

}  // namespace npv
