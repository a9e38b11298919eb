// The audit report as SARIF 2.1.0 (OASIS), for code-scanning tools such as GitHub code scanning.
//
// One run; tool.driver.rules lists every check (id, name, descriptions, help, default level,
// security-severity); each finding is a result whose primary location is its first object that
// was read from a file (physical: artifact URI and, for multi-document YAML, the document's line;
// logical: the Kubernetes object), the other objects being related locations. A finding none of
// whose objects has a file points at the first --cluster input.
#include <cctype>
#include <cstdio>

#include "npv/audit_report.hpp"

namespace npv {

using nlohmann::json;

namespace {

const char* level_of(Severity s) {
  switch (s) {
    case Severity::kCritical:
    case Severity::kHigh: return "error";
    case Severity::kMedium: return "warning";
    case Severity::kLow:
    case Severity::kInfo: return "note";
  }
  return "none";
}

// GitHub code scanning reads a rule's "security-severity" (0.0-10.0) into its own levels.
const char* security_severity(Severity s) {
  switch (s) {
    case Severity::kCritical: return "9.5";
    case Severity::kHigh: return "8.0";
    case Severity::kMedium: return "5.5";
    case Severity::kLow: return "3.0";
    case Severity::kInfo: return "1.0";
  }
  return "0.0";
}

json logical(const ObjectRef& o) {
  std::string fq = (o.ns.empty() ? "" : o.ns + "/") + o.kind + "/" + o.name;
  json l = {{"name", o.name}, {"fullyQualifiedName", fq}, {"kind", "resource"}};
  return l;
}

json physical(const std::string& file, int line) {
  json p = {{"artifactLocation", {{"uri", sarif_uri(file)}}}};
  if (line > 0) p["region"] = {{"startLine", line}};
  return p;
}

json location(const ObjectRef& o, const std::string& fallback_file) {
  SourceLocation loc = source_location(o.origin);
  json l = {{"logicalLocations", json::array({logical(o)})}};
  if (!loc.file.empty()) l["physicalLocation"] = physical(loc.file, loc.line);
  else if (!fallback_file.empty()) l["physicalLocation"] = physical(fallback_file, 0);
  l["message"] = {{"text", o.display()}};
  return l;
}

}  // namespace

std::string sarif_uri(const std::string& path) {
  std::string out = path.starts_with('/') ? "file://" : "";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

json audit_to_sarif(const AuditReport& report, const AuditOutputOptions& options) {
  json rules = json::array();
  for (const CheckInfo& c : audit_checks()) {
    rules.push_back({{"id", c.id},
                     {"name", c.name},
                     {"shortDescription", {{"text", c.title}}},
                     {"fullDescription", {{"text", c.description}}},
                     {"help", {{"text", c.remediation}}},
                     {"defaultConfiguration", {{"level", level_of(c.severity)}}},
                     {"properties",
                      {{"security-severity", security_severity(c.severity)},
                       {"severity", to_string(c.severity)},
                       {"tags", {"security", "kubernetes", "networkpolicy"}}}}});
  }
  const std::string fallback = options.inputs.empty() ? std::string() : options.inputs.front();
  json results = json::array();
  for (const Finding& f : report.findings) {
    std::size_t rule_index = 0;
    for (const CheckInfo& c : audit_checks()) {
      if (c.id == f.check_id) break;
      ++rule_index;
    }
    // Primary: the first object read from a file, else the first object, else the input.
    std::size_t primary = f.objects.size();
    for (std::size_t i = 0; i < f.objects.size() && primary == f.objects.size(); ++i) {
      if (!source_location(f.objects[i].origin).file.empty()) primary = i;
    }
    if (primary == f.objects.size() && !f.objects.empty()) primary = 0;
    json locations = json::array();
    json related = json::array();
    if (primary < f.objects.size()) {
      locations.push_back(location(f.objects[primary], fallback));
      for (std::size_t i = 0; i < f.objects.size(); ++i) {
        if (i == primary) continue;
        json r = location(f.objects[i], "");
        r["id"] = related.size();
        related.push_back(std::move(r));
      }
    } else if (!fallback.empty()) {
      locations.push_back({{"physicalLocation", physical(fallback, 0)}});
    }
    json result = {{"ruleId", f.check_id},
                   {"ruleIndex", rule_index},
                   {"level", level_of(f.severity)},
                   {"message", {{"text", f.message}}},
                   {"locations", std::move(locations)}};
    if (!related.empty()) result["relatedLocations"] = std::move(related);
    std::string key = std::string(f.check_id) + "|" + f.ns + "|" + (f.objects.empty() ? "" : f.objects.front().display());
    result["partialFingerprints"] = {{"npvFinding/v1", key}};
    json props = {{"severity", to_string(f.severity)}};
    if (!f.ns.empty()) props["namespace"] = f.ns;
    if (f.risk) props["riskScore"] = f.risk->score();
    result["properties"] = std::move(props);
    results.push_back(std::move(result));
  }
  json driver = {{"name", "npv"},
                 {"version", options.tool_version},
                 {"semanticVersion", options.tool_version},
                 {"rules", std::move(rules)}};
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", json::array({{{"tool", {{"driver", std::move(driver)}}},
                                 {"results", std::move(results)},
                                 {"columnKind", "unicodeCodePoints"}}})}};
}

}  // namespace npv
