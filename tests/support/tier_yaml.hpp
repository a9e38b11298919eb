// Test helpers: manifests of the cluster-wide tier kinds (tier_policy.hpp).
#pragma once

#include <string>

namespace npv::test {

// An AdminNetworkPolicy (v1alpha1); `spec_rest` is YAML flow text of the spec's other members,
// e.g. "subject: {namespaces: {}}, ingress: [...]".
inline std::string anp_yaml(const std::string& name, int priority, const std::string& spec_rest) {
  return "---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: " + name +
         "}\nspec: {priority: " + std::to_string(priority) + ", " + spec_rest + "}\n";
}

// The BaselineAdminNetworkPolicy "default" (v1alpha1).
inline std::string banp_yaml(const std::string& spec) {
  return "---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: "
         "default}\nspec: {" + spec + "}\n";
}

// A ClusterNetworkPolicy (v1alpha2) in tier "Admin" or "Baseline".
inline std::string cnp_yaml(const std::string& name, const std::string& tier, int priority, const std::string& spec_rest) {
  return "---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: " + name +
         "}\nspec: {tier: " + tier + ", priority: " + std::to_string(priority) + ", " + spec_rest + "}\n";
}

}  // namespace npv::test
