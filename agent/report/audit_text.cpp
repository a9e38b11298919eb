// The audit report for people: headline, CNI, counts, then the findings grouped by namespace.
#include <algorithm>
#include <cctype>

#include "npv/audit_report.hpp"

namespace npv {

namespace {

std::string plural(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string where(const ObjectRef& o) {
  SourceLocation loc = source_location(o.origin);
  if (loc.file.empty()) return o.display();
  return o.display() + " (" + loc.file + (loc.line ? ":" + std::to_string(loc.line) : "") + ")";
}

constexpr std::size_t kObjectsShown = 5;
constexpr const char* kIndent = "                         ";  // under the message column

}  // namespace

std::string audit_headline(const AuditSummary& s) {
  std::string out = plural(s.policies, "NetworkPolicy", "NetworkPolicies") + " found across " +
                    plural(s.policy_namespaces, "namespace", "namespaces");
  if (s.tier_policies > 0) out += ", and " + plural(s.tier_policies, "cluster-wide policy", "cluster-wide policies");
  return out;
}

bool audit_failed(const AuditReport& report, const AuditOutputOptions& options) {
  return options.fail_on && report.has_finding_at_least(*options.fail_on);
}

std::string audit_to_text(const AuditReport& report, const AuditOutputOptions& options) {
  const AuditSummary& s = report.summary;
  std::string out = audit_headline(s) + " (" + plural(s.namespaces, "namespace", "namespaces") + " and " +
                    plural(s.pods, "pod", "pods") + " in the input)\n";
  out += "CNI: " + report.cni.summary + "\n";
  out += "Findings: " + std::to_string(report.findings.size());
  for (int i = kSeverityCount - 1; i >= 0; --i) {
    out += (i == kSeverityCount - 1 ? " (" : ", ") + std::to_string(s.by_severity[i]) + " " + to_string(static_cast<Severity>(i));
  }
  out += ")\n";
  std::string group = "\x01";  // no namespace is named so
  for (const Finding& f : report.findings) {
    if (f.ns != group) {
      group = f.ns;
      out += "\n" + (f.ns.empty() ? std::string("cluster-wide") : "namespace " + f.ns) + "\n";
    }
    std::string sev = upper(to_string(f.severity));
    sev.resize(10, ' ');
    std::string id(f.check_id);
    id.resize(13, ' ');
    out += "  " + sev + id + f.message + "\n";
    for (std::size_t i = 0; i < f.objects.size() && i < kObjectsShown; ++i) {
      out += std::string(kIndent) + (i == 0 ? "at: " : "    ") + where(f.objects[i]) + "\n";
    }
    if (f.objects.size() > kObjectsShown) {
      out += std::string(kIndent) + "    ... and " + std::to_string(f.objects.size() - kObjectsShown) + " more\n";
    }
    out += std::string(kIndent) + "fix: " + f.remediation + "\n";
  }
  if (!report.notes.empty()) {
    out += "\n";
    for (const auto& n : report.notes) out += "note: " + n + "\n";
  }
  out += "\n";
  if (!options.fail_on) {
    out += "--fail-on never: the exit code ignores findings\n";
  } else {
    std::size_t failing = std::count_if(report.findings.begin(), report.findings.end(),
                                        [&](const Finding& f) { return f.severity >= *options.fail_on; });
    out += failing ? "FAILED: " + plural(failing, "finding", "findings") + " at or above " + to_string(*options.fail_on) + "\n"
                   : std::string("passed: no finding at or above ") + to_string(*options.fail_on) + "\n";
  }
  return out;
}

}  // namespace npv
