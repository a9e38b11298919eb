// npv agent's /metrics (agent_metrics.hpp).
#include "npv/agent_metrics.hpp"

#include "npv/prometheus_text.hpp"

namespace npv {

std::string AgentMetrics::render(const std::vector<WatchCounterSample>& watch) const {
  PrometheusText p;
  p.family("npv_flows_observed_total", "counter", "Flows the eBPF observer completed on this node, by outcome.");
  for (std::size_t i = 0; i < kOutcomes; ++i) {
    p.sample("npv_flows_observed_total", {{"outcome", to_string(static_cast<Outcome>(i))}}, flows_observed[i].load());
  }
  p.family("npv_flows_judged_total", "counter",
           "Completed flows by verification status: judged against the policies, or why not.");
  for (std::size_t i = 0; i < kStatuses; ++i) {
    p.sample("npv_flows_judged_total", {{"status", to_string(static_cast<LiveStatus>(i))}}, flows_judged[i].load());
  }
  p.family("npv_findings_total", "counter", "Judged flows whose outcome contradicts the policies, by kind.");
  p.sample("npv_findings_total", {{"kind", to_string(FindingKind::kSilentNonEnforcement)}}, findings[0].load());
  p.sample("npv_findings_total", {{"kind", to_string(FindingKind::kUnexpectedDrop)}}, findings[1].load());
  p.family("npv_drift_alerts_total", "counter", "Denied flows whose enforcement changed (CNI restart, agent crash).");
  p.sample("npv_drift_alerts_total", {{"kind", to_string(DriftKind::kEnforcementLost)}}, drift_alerts[0].load());
  p.sample("npv_drift_alerts_total", {{"kind", to_string(DriftKind::kEnforcementRestored)}}, drift_alerts[1].load());
  p.family("npv_events_lost_total", "counter",
           "Evidence lost, by stage: kernel ring buffer full, or flows evicted unresolved in user space.");
  p.sample("npv_events_lost_total", {{"stage", "kernel_ring_buffer"}}, lost_kernel.load());
  p.sample("npv_events_lost_total", {{"stage", "user_queue"}}, lost_user.load());
  p.family("npv_kube_events_total", "counter", "Kubernetes Events about findings, by result.");
  p.sample("npv_kube_events_total", {{"result", "created"}}, events_created.load());
  p.sample("npv_kube_events_total", {{"result", "patched"}}, events_patched.load());
  p.sample("npv_kube_events_total", {{"result", "failed"}}, events_failed.load());
  p.sample("npv_kube_events_total", {{"result", "dropped"}}, events_dropped.load());

  struct Family {
    const char* name;
    const char* help;
    std::uint64_t WatchCounterSample::*field;
  };
  for (const Family& f : {Family{"npv_kube_lists_total", "Full LIST calls to the API server, by resource.",
                                 &WatchCounterSample::lists},
                          Family{"npv_kube_watches_total", "WATCH requests started, by resource.", &WatchCounterSample::watches},
                          Family{"npv_kube_relists_total", "Relists after 410 Gone, by resource.", &WatchCounterSample::relists},
                          Family{"npv_kube_watch_errors_total",
                                 "Failed lists and watches (HTTP errors, dead connections, malformed events), by resource.",
                                 &WatchCounterSample::errors},
                          Family{"npv_kube_not_installed_total",
                                 "LISTs answered 404 because the resource's CRD is not installed (the cluster-wide policy "
                                 "tiers), by resource.",
                                 &WatchCounterSample::not_installed}}) {
    p.family(f.name, "counter", f.help);
    for (const auto& w : watch) p.sample(f.name, {{"resource", w.resource}}, w.*f.field);
  }
  p.family("npv_cluster_synced", "gauge", "1 once every watched resource had its first full list; nothing is verified before.");
  p.sample("npv_cluster_synced", std::uint64_t{synced.load() ? 1u : 0u});
  p.family("npv_policy_generation", "gauge", "Generation of the cluster state flows are judged by (grows with every change).");
  p.sample("npv_policy_generation", generation.load());
  p.family("npv_last_event_timestamp_seconds", "gauge", "Unix time of the last kernel event (0: none yet).");
  p.sample("npv_last_event_timestamp_seconds", last_event_unix.load());
  p.family("npv_observer_hook_running", "gauge", "1 for each eBPF hook group that loaded and attached.");
  const char* groups[] = {"tcp", "drops", "udp"};
  for (std::size_t i = 0; i < 3; ++i) {
    p.sample("npv_observer_hook_running", {{"group", groups[i]}}, std::uint64_t{hook_running[i].load() ? 1u : 0u});
  }
  return p.text();
}

}  // namespace npv
