// npv agent's /metrics (agent_metrics.hpp): every documented family is present, each sample
// belongs to a declared family, counters show what the loop counted.
#include "npv/agent_metrics.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

namespace npv {
namespace {

TEST(AgentMetrics, RendersEveryFamilyWithWhatWasCounted) {
  AgentMetrics m;
  m.count_observed(Outcome::kEstablished);
  m.count_observed(Outcome::kEstablished);
  m.count_observed(Outcome::kTimeout);
  m.count_judged(LiveStatus::kJudged);
  m.count_judged(LiveStatus::kNotSubject);
  m.count_judged(LiveStatus::kAmbiguous);
  m.count_finding(FindingKind::kSilentNonEnforcement);
  m.count_drift(DriftKind::kEnforcementLost);
  m.lost_kernel = 4;
  m.events_created = 2;
  m.synced = true;
  m.generation = 9;
  m.last_event_unix = 1795455602.5;
  m.hook_running[0] = true;
  const std::string text =
      m.render({{"pods", 2, 5, 1, 3}, {"networkpolicies", 1, 1, 0, 0}, {"adminnetworkpolicies", 0, 0, 0, 0, 4}});

  for (const char* line : {
           "npv_flows_observed_total{outcome=\"established\"} 2\n",
           "npv_flows_observed_total{outcome=\"timeout\"} 1\n",
           "npv_flows_observed_total{outcome=\"not_delivered\"} 0\n",
           "npv_flows_judged_total{status=\"judged\"} 1\n",
           "npv_flows_judged_total{status=\"not_subject\"} 1\n",
           "npv_flows_judged_total{status=\"ambiguous\"} 1\n",
           "npv_findings_total{kind=\"silent-non-enforcement\"} 1\n",
           "npv_findings_total{kind=\"unexpected-drop\"} 0\n",
           "npv_drift_alerts_total{kind=\"enforcement-lost\"} 1\n",
           "npv_events_lost_total{stage=\"kernel_ring_buffer\"} 4\n",
           "npv_events_lost_total{stage=\"user_queue\"} 0\n",
           "npv_kube_events_total{result=\"created\"} 2\n",
           "npv_kube_lists_total{resource=\"pods\"} 2\n",
           "npv_kube_watches_total{resource=\"pods\"} 5\n",
           "npv_kube_relists_total{resource=\"pods\"} 1\n",
           "npv_kube_watch_errors_total{resource=\"pods\"} 3\n",
           "npv_kube_lists_total{resource=\"networkpolicies\"} 1\n",
           "npv_kube_not_installed_total{resource=\"adminnetworkpolicies\"} 4\n",
           "npv_kube_not_installed_total{resource=\"pods\"} 0\n",
           "npv_cluster_synced 1\n",
           "npv_policy_generation 9\n",
           "npv_last_event_timestamp_seconds 1795455602.5\n",
           "npv_observer_hook_running{group=\"tcp\"} 1\n",
           "npv_observer_hook_running{group=\"udp\"} 0\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }

  // Format: every sample line names a family declared by # TYPE above it; counters end in _total.
  std::set<std::string> declared;
  std::istringstream in(text);
  std::string line;
  const std::regex type_re(R"(# TYPE ([a-z_]+) (counter|gauge))");
  const std::regex sample_re(R"(([a-z_]+)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+]+)");
  while (std::getline(in, line)) {
    std::smatch m2;
    if (line.starts_with("# HELP ")) continue;
    if (std::regex_match(line, m2, type_re)) {
      EXPECT_TRUE(declared.insert(m2[1]).second) << "family declared twice: " << m2[1];
      if (m2[2] == "counter") {
        EXPECT_TRUE(std::string(m2[1]).ends_with("_total")) << m2[1];
      }
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m2, sample_re)) << line;
    EXPECT_TRUE(declared.contains(m2[1])) << "sample before its family: " << line;
  }
  EXPECT_EQ(declared.size(), 15u);  // the families agent_metrics.hpp documents
}

}  // namespace
}  // namespace npv
