// Renders a PolicyEngine explanation for people (text) and scripts (JSON).
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "npv/policy_engine.hpp"

namespace npv {

// "ns/name", "10.0.0.1", or "ns/name (10.0.0.1)" when both are known.
std::string endpoint_name(const ClusterState& cluster, const Endpoint& e);

// Schema (README "npv explain"): {from, to, port, allowed, self, egress, ingress}; each direction
// {governed, isolated, isolating_policies: ["ns/name"], allowed, allowed_by: [{policy, rule}],
//  decided_by: "none"|"admin"|"networkpolicy"|"baseline"|"default", admin_rule, baseline_rule,
//  same_priority_conflicts: [tier rule]}, a tier rule being {tier: "admin"|"baseline", kind,
//  policy, priority, rule, rule_name, action: "Allow"|"Deny"|"Pass"} (null when none matched).
// The policies that decided a flow, as the findings and reports list them, sorted: for an allowed
// flow, the NetworkPolicies whose rules allow it, or the admin/baseline policy whose Allow rule
// decided ("AdminNetworkPolicy/name"); for a denied flow, the policies of each denying direction
// (isolating NetworkPolicies, or the Deny rule's tier policy). Empty for pod-to-self and when
// nothing decided (neither end isolated).
std::vector<std::string> deciding_policies(const ClusterState& cluster, const Explanation& e, bool flow_allowed);
// One line per deciding rule: "prod/db-in ingress[0]", "AdminNetworkPolicy/x (admin tier, priority
// 5) ingress[0]: Deny"; empty for a direction nothing decided.
std::vector<std::string> deciding_rules(const ClusterState& cluster, Direction dir, const DirectionVerdict& v);

nlohmann::json explanation_to_json(const ClusterState& cluster, const Flow& flow, const Explanation& e);
std::string explanation_to_text(const ClusterState& cluster, const Flow& flow, const Explanation& e);

}  // namespace npv
