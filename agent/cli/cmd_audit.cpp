#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "npv/audit.hpp"
#include "npv/audit_report.hpp"

namespace npv::cli {

namespace {

struct AuditOptions {
  ClusterOptions cluster;
  std::string output = "text";
  std::string fail_on = "high";
};

int run_audit_command(const AuditOptions& opt) {
  AuditOutputOptions out;
  out.inputs = opt.cluster.paths;
  out.tool_version = NPV_VERSION;
  out.fail_on = opt.fail_on == "never" ? std::nullopt : parse_severity(opt.fail_on);
  auto cluster = opt.cluster.load();
  if (!cluster) return report(cluster.error());
  AuditReport result = run_audit(std::move(*cluster));
  const auto dump = [](const nlohmann::json& j) { return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace); };
  if (opt.output == "json") {
    std::cout << dump(audit_to_json(result, out)) << '\n';
  } else if (opt.output == "sarif") {
    std::cout << dump(audit_to_sarif(result, out)) << '\n';
  } else {
    std::cout << audit_to_text(result, out);
  }
  return audit_failed(result, out) ? kExitFindings : kExitOk;
}

std::string checks_footer() {
  std::string text =
      "Checks (README 'npv audit' explains each, with its remediation):\n";
  for (const CheckInfo& c : audit_checks()) {
    std::string sev = to_string(c.severity);
    sev.resize(10, ' ');
    text += "  " + std::string(c.id) + "  " + sev + std::string(c.title) + "\n";
  }
  text +=
      "  (NPV-AUD-004 is medium when only 53/TCP is blocked; NPV-AUD-020's severity follows its risk score.)\n"
      "Exit code: 1 when a finding is at or above --fail-on, else 0; 2 on bad input or usage.\n"
      "Example: npv audit --cluster examples/three-tier-broken -o sarif > npv.sarif";
  return text;
}

}  // namespace

RunFn register_audit(CLI::App& app) {
  auto opt = std::make_shared<AuditOptions>();
  auto* sub = app.add_subcommand("audit", "Static posture checks on the NetworkPolicies, before any traffic");
  sub->footer(checks_footer());
  opt->cluster.add_to(*sub);
  sub->add_option("-o,--output", opt->output, "Output format: text, json (schema npv.audit/v1), sarif (SARIF 2.1.0)")
      ->check(CLI::IsMember({"text", "json", "sarif"}))
      ->capture_default_str();
  sub->add_option("--fail-on", opt->fail_on, "Exit 1 when a finding has this severity or a higher one; never: always 0")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical", "never"}))
      ->type_name("SEVERITY")
      ->capture_default_str();
  return [opt] { return run_audit_command(*opt); };
}

}  // namespace npv::cli
