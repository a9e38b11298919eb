// The lab report's text and JSON sinks (verifier.hpp), and the helpers every sink shares
// (lab_report_format.hpp). The HTML sink is in lab_report_html.cpp.
#include <algorithm>
#include <cstdio>
#include <set>

#include "npv/explain_report.hpp"
#include "npv/verifier.hpp"
#include "report/lab_report_format.hpp"

namespace npv {

namespace lab_report {

namespace {

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

void add_rules(std::vector<std::string>& out, const ClusterState& cluster, const DirectionVerdict& v, Direction dir) {
  for (auto& rule : deciding_rules(cluster, dir, v)) out.push_back(std::move(rule));
}

void add_denial(std::vector<std::string>& out, const ClusterState& cluster, const DirectionVerdict& v,
                const char* dir) {
  if (v.allowed()) return;
  if (v.decided_by() == DecidingTier::kAdmin || v.decided_by() == DecidingTier::kBaseline) {
    const TierRuleRef& rule = v.decided_by() == DecidingTier::kAdmin ? *v.admin : *v.baseline;
    out.push_back(std::string(dir) + " denied by " + cluster.tier_policies[rule.policy].ref() + " (" +
                  to_string(cluster.tier_policies[rule.policy].tier) + " tier)");
    return;
  }
  std::vector<std::string> refs;
  for (std::uint32_t id : v.isolating) refs.push_back(cluster.policies[id].ref());
  out.push_back(std::string(dir) + " isolated by " + join(refs, ", "));
}

}  // namespace

std::string name(const ClusterState& cluster, const Endpoint& e) {
  return endpoint_name(cluster, e.pod ? Endpoint::of_pod(*e.pod) : e);
}

std::vector<std::string> policies(const ClusterState& cluster, const ProbeRecord& r) {
  return deciding_policies(cluster, r.explanation, r.expected_allowed);
}

std::vector<std::string> deciding(const ClusterState& cluster, const ProbeRecord& r) {
  if (!r.expected_allowed) return policies(cluster, r);
  std::vector<std::string> items;
  if (!r.explanation.self) {
    add_rules(items, cluster, r.explanation.egress, Direction::kEgress);
    add_rules(items, cluster, r.explanation.ingress, Direction::kIngress);
  }
  return items;
}

std::string deciding_text(const ClusterState& cluster, const ProbeRecord& r) {
  const auto items = deciding(cluster, r);
  return items.empty() ? "-" : join(items, ", ");
}

std::string expected_short(const ProbeRecord& r) {
  const Explanation& e = r.explanation;
  if (r.expected_allowed) {
    if (e.self) return "allow (pod to itself)";
    auto by = [&](DecidingTier t) { return e.egress.decided_by() == t || e.ingress.decided_by() == t; };
    if (by(DecidingTier::kAdmin)) return "allow (admin tier)";
    if (by(DecidingTier::kBaseline)) return "allow (baseline tier)";
    return e.egress.allowed_by.empty() && e.ingress.allowed_by.empty() ? "allow (not isolated)" : "allow";
  }
  const bool egress = !e.egress.allowed(), ingress = !e.ingress.allowed();
  auto tier_of = [](const DirectionVerdict& v) -> const char* {
    return v.decided_by() == DecidingTier::kAdmin ? "admin tier" : v.decided_by() == DecidingTier::kBaseline ? "baseline tier" : nullptr;
  };
  if (egress && tier_of(e.egress)) return std::string("deny (egress, ") + tier_of(e.egress) + ")";
  if (ingress && tier_of(e.ingress)) return std::string("deny (ingress, ") + tier_of(e.ingress) + ")";
  if (egress && ingress) return "deny (egress+ingress isolated)";
  if (egress) return "deny (egress isolated)";
  if (ingress) return "deny (ingress isolated)";
  return "deny";
}

std::string expected_text(const ClusterState& cluster, const ProbeRecord& r) {
  const Explanation& e = r.explanation;
  std::vector<std::string> why;
  if (r.expected_allowed) {
    if (e.self) return "allow (pod to itself)";
    add_rules(why, cluster, e.egress, Direction::kEgress);
    add_rules(why, cluster, e.ingress, Direction::kIngress);
    return why.empty() ? "allow (no policy isolates either end)" : "allow (" + join(why, ", ") + ")";
  }
  add_denial(why, cluster, e.egress, "egress");
  add_denial(why, cluster, e.ingress, "ingress");
  return why.empty() ? "deny" : "deny (" + join(why, "; ") + ")";
}

std::string observed_text(const ProbeRecord& r) {
  std::string out;
  if (r.observed) {
    out = to_string(r.observed->outcome);
    if (!r.observed->drop_reason.empty()) out += ", drop " + r.observed->drop_reason;
    if (reached(r.observed->outcome) != reached(r.prober)) out += std::string(" (prober: ") + to_string(r.prober) + ")";
  } else {
    out = std::string("no observer event (prober: ") + to_string(r.prober) + ")";
  }
  return out;
}

std::string duration_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms < 100) return std::to_string(ms) + " ms";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

std::string summary_line(const LabSummary& s) {
  std::string out = "dataplane " + (s.dataplane.empty() ? std::string("(unknown)") : s.dataplane) + ": " +
                    plural(s.probes, "flow", "flows") + " probed, " + std::to_string(s.agree) + " agree, " +
                    std::to_string(s.silent_non_enforcement) + " silent non-enforcement, " +
                    plural(s.unexpected_drop, "unexpected drop", "unexpected drops") + ", " +
                    plural(s.observer_disagreement, "observer disagreement", "observer disagreements") +
                    " (setup " + duration_text(s.setup) + ", probing " + duration_text(s.probing);
  if (s.teardown.count() > 0) out += ", teardown " + duration_text(s.teardown);
  return out + ")";
}

Verdict verdict(const LabSummary& s) {
  if (s.probes == 0) return Verdict::kNothingProbed;
  if (s.silent_non_enforcement + s.unexpected_drop > 0) return Verdict::kFailed;
  if (s.observer_disagreement > 0) return Verdict::kInconclusive;
  return Verdict::kEnforced;
}

std::string verdict_line(const LabSummary& s) {
  switch (verdict(s)) {
    case Verdict::kNothingProbed:
      return "NOTHING PROBED: no flows to verify.";
    case Verdict::kEnforced:
      return "CNI enforces all " + plural(s.probes, "probed flow.", "probed flows.");
    case Verdict::kFailed: {
      std::string out = "CNI FAILED: " + std::to_string(s.silent_non_enforcement) + " silent non-enforcement, " +
                        plural(s.unexpected_drop, "unexpected drop", "unexpected drops") + " in " +
                        plural(s.probes, "probed flow", "probed flows");
      if (s.observer_disagreement > 0) {
        out += " (and " + plural(s.observer_disagreement, "observer disagreement", "observer disagreements") + ")";
      }
      return out + ".";
    }
    case Verdict::kInconclusive:
      return "INCONCLUSIVE: no policy violation in " + plural(s.probes, "probed flow", "probed flows") + ", but " +
             plural(s.observer_disagreement, "observer disagreement leaves", "observer disagreements leave") +
             " it unproven.";
  }
  return {};
}

std::vector<std::pair<std::size_t, FindingKind>> findings(const LabReport& report) {
  std::vector<std::pair<std::size_t, FindingKind>> out;
  for (FindingKind kind : {FindingKind::kSilentNonEnforcement, FindingKind::kUnexpectedDrop,
                           FindingKind::kObserverDisagreement}) {
    for (std::size_t i = 0; i < report.probes.size(); ++i) {
      if (has_finding(report.probes[i], kind)) out.emplace_back(i, kind);
    }
  }
  return out;
}

}  // namespace lab_report

namespace {

// Left-aligned columns two spaces apart; the last column is not padded.
std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line.append(width[c] - row[c].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

nlohmann::json nullable(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

nlohmann::json observed_json(const ProbeRecord& r) {
  return r.observed ? nlohmann::json(to_string(r.observed->outcome)) : nlohmann::json(nullptr);
}

nlohmann::json drop_reason_json(const ProbeRecord& r) {
  return r.observed ? nullable(r.observed->drop_reason) : nlohmann::json(nullptr);
}

}  // namespace

std::string report_to_text(const LabReport& report, const ClusterState& cluster) {
  std::string out = lab_report::summary_line(report.summary) + "\n";
  const auto found = lab_report::findings(report);
  if (!found.empty()) {
    std::vector<std::vector<std::string>> rows{{"KIND", "FROM", "TO", "PORT", "EXPECTED", "OBSERVED", "POLICIES"}};
    for (const auto& [i, kind] : found) {
      const ProbeRecord& r = report.probes[i];
      rows.push_back({to_string(kind), lab_report::name(cluster, r.flow.src), lab_report::name(cluster, r.flow.dst),
                      r.flow.port.to_string(), lab_report::expected_short(r), lab_report::observed_text(r),
                      lab_report::deciding_text(cluster, r)});
    }
    out += "\n" + format_table(rows) + "\n";
  }
  return out + lab_report::verdict_line(report.summary) + "\n";
}

nlohmann::json report_to_json(const LabReport& report, const ClusterState& cluster) {
  const LabSummary& s = report.summary;
  nlohmann::json j;
  j["dataplane"] = s.dataplane;
  j["summary"] = {
      {"probes", s.probes},
      {"agree", s.agree},
      {"silent_non_enforcement", s.silent_non_enforcement},
      {"unexpected_drop", s.unexpected_drop},
      {"observer_disagreement", s.observer_disagreement},
      {"setup_ms", s.setup.count()},
      {"probing_ms", s.probing.count()},
      {"teardown_ms", s.teardown.count()},
  };
  auto findings = nlohmann::json::array();
  for (const auto& [i, kind] : lab_report::findings(report)) {
    const ProbeRecord& r = report.probes[i];
    nlohmann::json f;
    f["kind"] = to_string(kind);
    f["src"] = lab_report::name(cluster, r.flow.src);
    f["dst"] = lab_report::name(cluster, r.flow.dst);
    f["port"] = r.flow.port.to_string();
    f["protocol"] = to_string(r.flow.port.proto);
    f["expected"] = r.expected_allowed ? "allow" : "deny";
    f["observed"] = observed_json(r);
    f["prober"] = to_string(r.prober);
    f["drop_reason"] = drop_reason_json(r);
    f["policies"] = lab_report::policies(cluster, r);
    f["explanation"] = explanation_to_json(cluster, r.flow, r.explanation);
    findings.push_back(std::move(f));
  }
  j["findings"] = std::move(findings);
  auto probes = nlohmann::json::array();
  for (const ProbeRecord& r : report.probes) {
    nlohmann::json p;
    p["src"] = lab_report::name(cluster, r.flow.src);
    p["dst"] = lab_report::name(cluster, r.flow.dst);
    p["port"] = r.flow.port.to_string();
    p["expected"] = r.expected_allowed ? "allow" : "deny";
    p["observed"] = observed_json(r);
    p["prober"] = to_string(r.prober);
    p["drop_reason"] = drop_reason_json(r);
    p["agree"] = r.findings.empty();
    probes.push_back(std::move(p));
  }
  j["probes"] = std::move(probes);
  return j;
}

}  // namespace npv
