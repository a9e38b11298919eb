// Parsers for the cluster-wide policy tiers (tier_policy.hpp): AdminNetworkPolicy and
// BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1) and ClusterNetworkPolicy
// (policy.networking.k8s.io/v1alpha2), with the validation their CRDs perform. Internal to
// agent/model: errors are thrown as FieldError (object_parser.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "npv/tier_policy.hpp"

namespace npv::detail {

TierPolicy parse_admin_network_policy(const nlohmann::json& obj);
TierPolicy parse_baseline_admin_network_policy(const nlohmann::json& obj);
TierPolicy parse_cluster_network_policy(const nlohmann::json& obj);

// Notes on parts of a policy npv cannot evaluate (nodes and domainNames peers), one per rule:
// "AdminNetworkPolicy/x: spec.egress[1] (name): nodes peer matches no flow (npv has no Node objects)".
std::vector<std::string> tier_policy_notes(const TierPolicy& policy);

}  // namespace npv::detail
