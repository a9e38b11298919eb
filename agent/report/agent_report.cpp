// npv agent's JSON lines and Event texts (agent_report.hpp).
#include "npv/agent_report.hpp"

#include <ctime>

namespace npv {

namespace {

nlohmann::json null_or(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

nlohmann::json flow_fields(const FindingSample& s, const std::string& node) {
  return {{"node", node},
          {"src", s.src},
          {"dst", s.dst},
          {"port", s.port},
          {"protocol", s.protocol},
          {"src_ip", s.src_ip},
          {"dst_ip", s.dst_ip},
          {"service", null_or(s.service)},
          {"expected", s.expected_allowed ? "allow" : "deny"},
          {"observed", s.observed},
          {"drop_reason", null_or(s.drop_reason)},
          {"policies", s.policies}};
}

std::string policies_text(const FindingSample& s) {
  if (s.policies.empty()) return "";
  std::string out = " (";
  for (std::size_t i = 0; i < s.policies.size(); ++i) out += (i ? ", " : "") + s.policies[i];
  return out + ")";
}

std::string flow_text(const FindingSample& s) {
  std::string dst = s.dst;
  if (!s.service.empty()) dst += " via service " + s.service;
  return s.src + " -> " + dst + " " + s.port;
}

}  // namespace

std::string rfc3339_utc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json finding_to_json(const FindingRecord& r, const std::string& node) {
  nlohmann::json j = {{"type", "finding"}, {"kind", to_string(r.last.kind)}};
  j.update(flow_fields(r.last, node));
  j["count"] = r.count;
  j["first_seen"] = rfc3339_utc(r.first_wall);
  j["last_seen"] = rfc3339_utc(r.last_wall);
  j["generation"] = r.last.generation;
  j["within_grace"] = r.last.within_grace;
  return j;
}

nlohmann::json drift_to_json(const DriftAlert& a, const std::string& node) {
  nlohmann::json j = {{"type", "drift"}, {"kind", to_string(a.kind)}};
  j.update(flow_fields(a.sample, node));
  j["before"] = a.before;
  j["now"] = a.now;
  j["time"] = rfc3339_utc(a.when);
  return j;
}

EventText finding_event_text(const FindingRecord& r, const std::string& node) {
  const FindingSample& s = r.last;
  const std::string times = r.count == 1 ? "once" : std::to_string(r.count) + " times";
  if (s.kind == FindingKind::kSilentNonEnforcement) {
    return {"SilentNonEnforcement", "npv on " + node + ": " + flow_text(s) + " was " + s.observed + " " + times +
                                        " although the policies deny it" + policies_text(s) +
                                        "; the CNI is not enforcing them"};
  }
  std::string why = s.drop_reason.empty() ? "" : " (drop reason " + s.drop_reason + ")";
  return {"UnexpectedDrop", "npv on " + node + ": " + flow_text(s) + " ended " + s.observed + why + " " + times +
                                " although the policies allow it" + policies_text(s)};
}

EventText drift_event_text(const DriftAlert& a, const std::string& node) {
  const FindingSample& s = a.sample;
  if (a.kind == DriftKind::kEnforcementLost) {
    return {"EnforcementLost", "npv on " + node + ": " + flow_text(s) +
                                   " was blocked before and now passes (" + s.observed +
                                   ") although the policies deny it" + policies_text(s) +
                                   "; the CNI stopped enforcing"};
  }
  return {"EnforcementRestored", "npv on " + node + ": " + flow_text(s) +
                                     " is blocked again, as the policies require" + policies_text(s)};
}

}  // namespace npv
