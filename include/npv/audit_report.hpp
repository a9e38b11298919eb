// Renderers of an AuditReport (audit.hpp): a text report for people, JSON (schema "npv.audit/v1",
// documented in the README), and SARIF 2.1.0 for code-scanning tools.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "npv/audit.hpp"

namespace npv {

struct AuditOutputOptions {
  std::optional<Severity> fail_on = Severity::kHigh;  // std::nullopt: --fail-on never
  std::vector<std::string> inputs;                    // the --cluster paths (SARIF's fallback location)
  std::string tool_version = "0";
};

// "7 NetworkPolicies found across 1 namespace".
std::string audit_headline(const AuditSummary& summary);
// True when the report has a finding at or above options.fail_on.
bool audit_failed(const AuditReport& report, const AuditOutputOptions& options);

std::string audit_to_text(const AuditReport& report, const AuditOutputOptions& options);
nlohmann::json audit_to_json(const AuditReport& report, const AuditOutputOptions& options);
nlohmann::json audit_to_sarif(const AuditReport& report, const AuditOutputOptions& options);

// A SARIF artifactLocation.uri for a file path: relative paths stay relative (percent-encoded),
// absolute ones become file:// URIs.
std::string sarif_uri(const std::string& path);

}  // namespace npv
