// What npv agent writes: one JSON object per line on stdout for every finding window and drift
// alert, and the text of the Kubernetes Event it posts.
//
// JSON lines (stable schema; README "npv agent"):
//   {"type": "finding", "kind": "silent-non-enforcement" | "unexpected-drop", "node": "worker-1",
//    "src": "tenant-a/app", "dst": "production/database", "port": "5432/TCP", "protocol": "TCP",
//    "src_ip": "10.244.1.7", "dst_ip": "10.244.2.9", "service": "production/database" | null,
//    "expected": "deny" | "allow", "observed": "established" | ..., "drop_reason": null | "NETFILTER_DROP",
//    "policies": ["production/default-deny-all"], "count": 12,
//    "first_seen": "2026-11-23T17:40:02Z", "last_seen": "2026-11-23T17:40:57Z",
//    "generation": 7, "within_grace": false}
//   {"type": "drift", "kind": "enforcement-lost" | "enforcement-restored", "node": "worker-1",
//    "src": ..., "dst": ..., "port": ..., "protocol": ..., "service": ..., "before": "enforced",
//    "now": "leaked", "observed": "established", "policies": [...], "time": "2026-11-23T17:41:10Z"}
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "npv/finding_window.hpp"

namespace npv {

// "2026-11-23T17:40:02Z" (UTC, whole seconds), as Kubernetes writes times.
std::string rfc3339_utc(std::chrono::system_clock::time_point t);

nlohmann::json finding_to_json(const FindingRecord& record, const std::string& node);
nlohmann::json drift_to_json(const DriftAlert& alert, const std::string& node);

// The Event a finding becomes: a reason (CamelCase, as Kubernetes reasons are) and a message a
// person reads in `kubectl describe`.
struct EventText {
  std::string reason;   // "SilentNonEnforcement", "UnexpectedDrop", "EnforcementLost", "EnforcementRestored"
  std::string message;  // "npv on worker-1: tenant-a/app -> production/database 5432/TCP was established
                        //  12 times although the policies deny it (production/default-deny-all)"
};
EventText finding_event_text(const FindingRecord& record, const std::string& node);
EventText drift_event_text(const DriftAlert& alert, const std::string& node);

}  // namespace npv
