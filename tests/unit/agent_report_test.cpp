// npv agent's JSON lines and Event texts (agent_report.hpp): the documented schema, field by field.
#include "npv/agent_report.hpp"

#include <gtest/gtest.h>

namespace npv {
namespace {

using namespace std::chrono;

FindingRecord record() {
  FindingRecord r;
  r.last.kind = FindingKind::kSilentNonEnforcement;
  r.last.src = "tenant-a/app";
  r.last.dst = "production/database";
  r.last.port = "5432/TCP";
  r.last.protocol = "TCP";
  r.last.src_ip = "10.244.1.7";
  r.last.dst_ip = "10.96.0.20";
  r.last.service = "production/database";
  r.last.expected_allowed = false;
  r.last.observed = "established";
  r.last.policies = {"production/default-deny-all"};
  r.last.generation = 7;
  r.count = 12;
  r.first_wall = system_clock::time_point{seconds{1795455602}};  // 2026-11-23T17:40:02Z
  r.last_wall = r.first_wall + seconds{55};
  return r;
}

TEST(AgentReport, Rfc3339) {
  EXPECT_EQ(rfc3339_utc(system_clock::time_point{seconds{0}}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(rfc3339_utc(system_clock::time_point{seconds{1795455602} + milliseconds{999}}), "2026-11-23T17:40:02Z");
}

TEST(AgentReport, FindingJson) {
  const auto j = finding_to_json(record(), "worker-1");
  EXPECT_EQ(j, nlohmann::json::parse(R"({
    "type": "finding", "kind": "silent-non-enforcement", "node": "worker-1",
    "src": "tenant-a/app", "dst": "production/database", "port": "5432/TCP", "protocol": "TCP",
    "src_ip": "10.244.1.7", "dst_ip": "10.96.0.20", "service": "production/database",
    "expected": "deny", "observed": "established", "drop_reason": null,
    "policies": ["production/default-deny-all"], "count": 12,
    "first_seen": "2026-11-23T17:40:02Z", "last_seen": "2026-11-23T17:40:57Z",
    "generation": 7, "within_grace": false})"));
}

TEST(AgentReport, DriftJson) {
  DriftAlert a;
  a.kind = DriftKind::kEnforcementLost;
  a.sample = record().last;
  a.sample.service.clear();
  a.before = "enforced";
  a.now = "leaked";
  a.when = system_clock::time_point{seconds{1795455670}};
  const auto j = drift_to_json(a, "worker-1");
  EXPECT_EQ(j["type"], "drift");
  EXPECT_EQ(j["kind"], "enforcement-lost");
  EXPECT_EQ(j["service"], nullptr);
  EXPECT_EQ(j["before"], "enforced");
  EXPECT_EQ(j["now"], "leaked");
  EXPECT_EQ(j["time"], "2026-11-23T17:41:10Z");
  EXPECT_FALSE(j.contains("count"));
}

TEST(AgentReport, EventTexts) {
  auto r = record();
  auto e = finding_event_text(r, "worker-1");
  EXPECT_EQ(e.reason, "SilentNonEnforcement");
  EXPECT_EQ(e.message,
            "npv on worker-1: tenant-a/app -> production/database via service production/database 5432/TCP was "
            "established 12 times although the policies deny it (production/default-deny-all); the CNI is not "
            "enforcing them");
  r.last.kind = FindingKind::kUnexpectedDrop;
  r.last.expected_allowed = true;
  r.last.observed = "timeout";
  r.last.drop_reason = "NETFILTER_DROP";
  r.last.service.clear();
  r.count = 1;
  e = finding_event_text(r, "worker-1");
  EXPECT_EQ(e.reason, "UnexpectedDrop");
  EXPECT_EQ(e.message,
            "npv on worker-1: tenant-a/app -> production/database 5432/TCP ended timeout (drop reason "
            "NETFILTER_DROP) once although the policies allow it (production/default-deny-all)");
  DriftAlert a;
  a.sample = record().last;
  a.kind = DriftKind::kEnforcementRestored;
  EXPECT_EQ(drift_event_text(a, "n").reason, "EnforcementRestored");
  a.kind = DriftKind::kEnforcementLost;
  EXPECT_NE(drift_event_text(a, "n").message.find("the CNI stopped enforcing"), std::string::npos);
}

}  // namespace
}  // namespace npv

#include "npv/duration.hpp"

namespace npv {
namespace {

TEST(Duration, ParsesUnitsAndBareSeconds) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_duration("10"), milliseconds(10'000));
  EXPECT_EQ(parse_duration("10s"), milliseconds(10'000));
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("2m"), milliseconds(120'000));
  EXPECT_EQ(parse_duration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
  for (const char* bad : {"", "s", "-1s", "1.5s", "10x", "10 s", "99999999999999999999", "1d"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

}  // namespace
}  // namespace npv
