// Helpers for the npv audit tests: audit YAML text, pick findings by check ID.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "npv/audit.hpp"
#include "support/manifest_builder.hpp"

namespace npv::test {

// Audits `yaml` (documents separated by ---), failing the test on a load error.
inline AuditReport audit_yaml(std::string_view yaml) {
  auto cluster = load_yaml(yaml);
  EXPECT_TRUE(cluster) << cluster.error().message << "\n" << yaml;
  if (!cluster) return {};
  return run_audit(std::move(*cluster));
}

// The findings of one check.
inline std::vector<Finding> findings(const AuditReport& report, std::string_view id) {
  std::vector<Finding> out;
  for (const auto& f : report.findings) {
    if (f.check_id == id) out.push_back(f);
  }
  return out;
}

// A NetworkPolicy document; `spec` is the YAML body under "spec:", indented by two spaces.
inline std::string netpol_yaml(const std::string& ns, const std::string& name, const std::string& spec) {
  return "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name +
         ", namespace: " + ns + "}\nspec:\n" + spec;
}

inline std::string default_deny(const std::string& ns, const std::string& types = "[Ingress, Egress]") {
  return netpol_yaml(ns, "default-deny", "  podSelector: {}\n  policyTypes: " + types + "\n");
}

// production/web (app=web, port http 80) and production/db (app=db, port postgres 5432).
inline std::string two_pods() {
  return pod_yaml("production", "web", "{app: web}", "10.0.0.1", "[{name: http, containerPort: 80}]") +
         pod_yaml("production", "db", "{app: db}", "10.0.0.2", "[{name: postgres, containerPort: 5432}]");
}

}  // namespace npv::test
