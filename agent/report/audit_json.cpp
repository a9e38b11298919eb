// The audit report as JSON, schema "npv.audit/v1" (README: "npv audit", JSON). Additive changes
// keep the version; a removed or retyped field bumps it.
#include "npv/audit_report.hpp"

namespace npv {

using nlohmann::json;

namespace {

json or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json object_json(const ObjectRef& o) {
  SourceLocation loc = source_location(o.origin);
  return {{"kind", o.kind},
          {"namespace", or_null(o.ns)},
          {"name", o.name},
          {"field", or_null(o.field)},
          {"file", or_null(loc.file)},
          {"line", loc.line ? json(loc.line) : json(nullptr)}};
}

json factor_json(const RiskFactor& f) { return {{"factor", f.value}, {"reason", f.reason}}; }

}  // namespace

json audit_to_json(const AuditReport& report, const AuditOutputOptions& options) {
  const AuditSummary& s = report.summary;
  json counts = {{"total", report.findings.size()}};
  for (int i = 0; i < kSeverityCount; ++i) counts[to_string(static_cast<Severity>(i))] = s.by_severity[i];
  json summary = {{"headline", audit_headline(s)},
                  {"policies", s.policies},
                  {"policy_namespaces", s.policy_namespaces},
                  {"tier_policies", s.tier_policies},
                  {"namespaces", s.namespaces},
                  {"pods", s.pods},
                  {"findings", std::move(counts)},
                  {"fail_on", options.fail_on ? to_string(*options.fail_on) : "never"},
                  {"failed", audit_failed(report, options)}};

  json components = json::array();
  for (const auto& c : report.cni.components) {
    components.push_back({{"name", c.name},
                          {"enforcement", to_string(c.enforcement)},
                          {"evidence", c.evidence},
                          {"object", object_json(c.object)}});
  }
  json cni = {{"detected", !report.cni.components.empty()},
              {"enforcement", to_string(report.cni.enforcement)},
              {"summary", report.cni.summary},
              {"node_agents", report.cni.node_agents},
              {"components", std::move(components)}};

  json findings = json::array();
  for (const Finding& f : report.findings) {
    const CheckInfo* check = find_check(f.check_id);
    json objects = json::array();
    for (const auto& o : f.objects) objects.push_back(object_json(o));
    json j = {{"id", f.check_id},
              {"check", check ? check->name : ""},
              {"severity", to_string(f.severity)},
              {"namespace", or_null(f.ns)},
              {"message", f.message},
              {"remediation", f.remediation},
              {"objects", std::move(objects)}};
    if (f.risk) {
      j["risk"] = {{"score", f.risk->score()},
                   {"source", factor_json(f.risk->source)},
                   {"destination", factor_json(f.risk->destination)},
                   {"ports", factor_json(f.risk->ports)}};
    }
    findings.push_back(std::move(j));
  }
  return {{"schema", "npv.audit/v1"},
          {"summary", std::move(summary)},
          {"cni", std::move(cni)},
          {"findings", std::move(findings)},
          {"notes", report.notes}};
}

}  // namespace npv
