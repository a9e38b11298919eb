// The live verifier (live_verifier.hpp): rules L1-L8.
#include "npv/live_verifier.hpp"

#include "npv/explain_report.hpp"

#include <algorithm>
#include <set>

namespace npv {

PolicySnapshot PolicySnapshot::compile(std::shared_ptr<const ClusterState> cluster, std::uint64_t generation,
                                       std::uint64_t since_ns) {
  PolicySnapshot s;
  s.engine = std::make_shared<const PolicyEngine>(*cluster);
  s.services = std::make_shared<const ServiceMap>(*cluster);
  s.cluster = std::move(cluster);
  s.generation = generation;
  s.since_ns = since_ns;
  return s;
}

const char* to_string(LiveStatus s) {
  switch (s) {
    case LiveStatus::kJudged: return "judged";
    case LiveStatus::kNotSynced: return "not_synced";
    case LiveStatus::kNotSubject: return "not_subject";
    case LiveStatus::kInconclusive: return "inconclusive";
    case LiveStatus::kAmbiguous: return "ambiguous";
  }
  return "unknown";
}

Flow to_policy_flow(const ObservedFlow& flow, const ClusterState& cluster) {
  auto endpoint = [&](const IpAddr& ip) {
    Endpoint e = Endpoint::of_ip(ip);
    e.pod = cluster.find_pod_by_ip(ip);
    return e;
  };
  return Flow{endpoint(flow.src), endpoint(flow.dst), PortProto{flow.dst_port, flow.proto}};
}


LiveVerifier::LiveVerifier(LiveVerifierOptions options) : options_(std::move(options)) {
  if (options_.max_states == 0) options_.max_states = 1;
}

void LiveVerifier::update(PolicySnapshot snapshot, std::uint64_t now_ns) {
  states_.push_back(std::move(snapshot));
  // Keep a state while flows that started under it may still arrive: until `history` after it
  // was replaced. The newest is always kept.
  const auto history = static_cast<std::uint64_t>(options_.history.count());
  while (states_.size() > 1) {
    const std::uint64_t replaced_at = states_[1].since_ns;
    if (states_.size() <= options_.max_states && replaced_at + history > now_ns) break;
    states_.pop_front();
  }
}

std::size_t LiveVerifier::state_at(std::uint64_t ts_ns) const {
  // The last state with since_ns <= ts_ns; the oldest when the flow predates every kept state.
  auto it = std::upper_bound(states_.begin(), states_.end(), ts_ns,
                             [](std::uint64_t t, const PolicySnapshot& s) { return t < s.since_ns; });
  return it == states_.begin() ? 0 : static_cast<std::size_t>(it - states_.begin()) - 1;
}

namespace {

// L7: the lab verifier's V4/V5 on the observed outcome.
std::optional<FindingKind> finding_for(bool expected_allowed, Outcome outcome) {
  return policy_finding(expected_allowed, reached(outcome));
}

}  // namespace

bool LiveVerifier::verdict_in(const PolicySnapshot& state, const ObservedFlow& flow, LiveJudgement& j) {
  j.flow = to_policy_flow(flow, *state.cluster);
  const ServiceTarget* svc = state.services ? state.services->find(flow.dst, flow.dst_port, flow.proto) : nullptr;
  if (!svc) {
    j.explanation = state.engine->explain(j.flow);
    j.expected_allowed = j.explanation.allowed();
    return true;
  }
  j.service = svc->service;  // L9
  j.backends = svc->backends.size();
  if (svc->backends.empty()) {
    j.status = LiveStatus::kInconclusive;
    j.reason = "service-no-backends";
    return false;
  }
  for (std::size_t i = 0; i < svc->backends.size(); ++i) {
    const ServiceBackend& b = svc->backends[i];
    Flow f{j.flow.src, Endpoint::of_ip(b.ip), PortProto{b.port, flow.proto}};
    f.dst.pod = state.cluster->find_pod_by_ip(b.ip);
    if (i == 0) {
      j.flow = f;
      j.explanation = state.engine->explain(f);
      j.expected_allowed = j.explanation.allowed();
    } else if (state.engine->allowed(f) != j.expected_allowed) {
      j.status = LiveStatus::kAmbiguous;
      j.reason = "service-backends-disagree";
      return false;
    }
  }
  return true;
}

LiveJudgement LiveVerifier::judge(const ObservedFlow& flow) const {
  LiveJudgement j;
  if (states_.empty()) {  // L1
    j.status = LiveStatus::kNotSynced;
    j.reason = "before-sync";
    return j;
  }
  const std::size_t at = state_at(flow.first_ns);  // L5
  const PolicySnapshot& state = states_[at];
  j.state = state.cluster;
  j.generation = state.generation;
  j.flow = to_policy_flow(flow, *state.cluster);  // L2-L4 look at the endpoints as observed

  const bool same_pod = j.flow.src.pod && j.flow.dst.pod && *j.flow.src.pod == *j.flow.dst.pod;
  if (flow.src == flow.dst || same_pod) {  // L2
    j.status = LiveStatus::kNotSubject;
    j.reason = "self";
    return j;
  }
  const std::uint32_t host = options_.host_netns;
  if (host != 0 && (flow.src_netns == host || flow.dst_netns == host)) {  // L3
    j.status = LiveStatus::kNotSubject;
    j.reason = "node-local";
    return j;
  }
  const bool src_local = flow.src_netns != 0 && flow.client_seen;
  const bool dst_local = flow.dst_netns != 0 && flow.server_seen;
  if (!src_local && !dst_local) {  // L4
    j.status = LiveStatus::kNotSubject;
    j.reason = "not-local";
    return j;
  }
  if (flow.proto == Protocol::kUDP && flow.outcome == Outcome::kNotDelivered && !dst_local) {  // L8
    j.status = LiveStatus::kInconclusive;
    j.reason = "udp-remote";
    return j;
  }

  if (!verdict_in(state, flow, j)) return j;  // L9
  j.status = LiveStatus::kJudged;
  j.finding = finding_for(j.expected_allowed, flow.outcome);
  if (!j.finding) return j;

  // L6: every state in effect during the grace before the flow started must find the same.
  const auto grace = static_cast<std::uint64_t>(options_.grace.count());
  const std::uint64_t window_start = flow.first_ns > grace ? flow.first_ns - grace : 0;
  for (std::size_t i = at; i > 0; --i) {
    if (states_[i].since_ns <= window_start) break;  // states_[i-1] ended before the window
    j.within_grace = true;
    LiveJudgement earlier;
    if (!verdict_in(states_[i - 1], flow, earlier) || finding_for(earlier.expected_allowed, flow.outcome) != j.finding) {
      j.finding.reset();  // the CNI may still be applying the change: acceptable
      return j;
    }
  }
  return j;
}

}  // namespace npv
