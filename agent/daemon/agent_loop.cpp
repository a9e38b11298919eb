// npv agent's core loop (agent_loop.hpp).
#include "npv/agent_loop.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "npv/explain_report.hpp"

namespace npv {

namespace {

std::string endpoint_text(const std::optional<PodId>& pod, const IpAddr& ip, const ClusterState& cluster) {
  return pod ? cluster.pods[*pod].ref() : ip.to_string();
}

// "ns/name" -> {ns, name}; a name without a namespace stays whole.
std::pair<std::string, std::string> split_ref(const std::string& ref) {
  const auto slash = ref.find('/');
  if (slash == std::string::npos) return {"", ref};
  return {ref.substr(0, slash), ref.substr(slash + 1)};
}

}  // namespace

struct AgentLoop::Impl {
  AgentOptions options;
  const ClusterSource& source;
  AgentMetrics& metrics;
  std::ostream& out;
  EventSink* events;

  FlowTracker tracker;
  LiveVerifier verifier;
  FindingWindow window;
  bool saw_events = false;

  // The compile thread hands compiled states over through `pending`.
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::optional<PolicySnapshot> pending;
  std::thread compiler;

  Impl(AgentOptions o, const ClusterSource& s, AgentMetrics& m, std::ostream& os, EventSink* e)
      : options(std::move(o)),
        source(s),
        metrics(m),
        out(os),
        events(e),
        tracker(nullptr, options.tracker),  // attribution happens in the verifier, by the state of the flow's time
        verifier(LiveVerifierOptions{.grace = options.grace,
                                     .host_netns = options.host_netns,
                                     // Long enough for the oldest flow the tracker can still emit.
                                     .history = options.tracker.tcp_attempt_timeout + options.tracker.settle + options.grace,
                                     .max_states = options.max_states}),
        window(FindingWindowOptions{.window = options.window}) {
    compiler = std::thread([this] { compile_loop(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv.notify_all();
    compiler.join();
  }

  void compile_loop() {
    std::uint64_t compiled = 0;
    std::unique_lock lock(mu);
    while (!stop) {
      lock.unlock();
      ClusterSource::State st = source.latest();
      if (st.cluster && (compiled == 0 || st.generation != compiled)) {
        auto snapshot = PolicySnapshot::compile(st.cluster, st.generation, st.changed_ns);
        compiled = st.generation;
        lock.lock();
        pending = std::move(snapshot);
        // Rate limit: the generations that arrive meanwhile collapse into the latest.
        cv.wait_for(lock, options.min_compile_interval, [this] { return stop; });
      } else {
        lock.lock();
        cv.wait_for(lock, std::chrono::milliseconds(50), [this] { return stop; });
      }
    }
  }

  FindingSample sample_of(const ObservedFlow& f, const LiveJudgement& j) const {
    const ClusterState& c = *j.state;
    FindingSample s;
    s.kind = j.finding.value_or(FindingKind::kSilentNonEnforcement);
    s.src = endpoint_text(j.flow.src.pod, f.src, c);
    s.dst = endpoint_text(j.flow.dst.pod, f.dst, c);
    if (!j.service.empty()) {  // named after its single backend, else after the Service
      s.service = j.service;
      s.dst = j.backends == 1 ? endpoint_text(j.flow.dst.pod, *j.flow.dst.ip, c) : j.service;
    }
    s.port = PortProto{f.dst_port, f.proto}.to_string();
    s.protocol = to_string(f.proto);
    s.src_ip = f.src.to_string();
    s.dst_ip = f.dst.to_string();
    s.expected_allowed = j.expected_allowed;
    s.observed = to_string(f.outcome);
    s.drop_reason = f.drop_reason;
    s.policies = deciding_policies(c, j.explanation, j.expected_allowed);
    s.generation = j.generation;
    s.within_grace = j.within_grace;
    return s;
  }

  std::vector<EventTarget> targets_of(const FindingSample& s) const {
    std::vector<EventTarget> t;
    for (const auto& ref : s.policies) {
      if (t.size() >= options.max_event_targets) break;
      auto [ns, name] = split_ref(ref);
      // "AdminNetworkPolicy/name" and the like: a cluster-scoped tier policy (namespaces are
      // lower case, so a kind never collides with one).
      if (ns == "AdminNetworkPolicy" || ns == "BaselineAdminNetworkPolicy") {
        t.push_back({ns, "policy.networking.k8s.io/v1alpha1", "", name});
      } else if (ns == "ClusterNetworkPolicy") {
        t.push_back({ns, "policy.networking.k8s.io/v1alpha2", "", name});
      } else {
        t.push_back({"NetworkPolicy", "networking.k8s.io/v1", ns, name});
      }
    }
    if (t.empty()) {
      // No policy involved: the destination pod (or the source, for traffic leaving the cluster).
      const std::string& pod = s.dst.find('/') != std::string::npos ? s.dst : s.src;
      if (pod.find('/') != std::string::npos) {
        auto [ns, name] = split_ref(pod);
        t.push_back({"Pod", "v1", ns, name});
      }
    }
    return t;
  }

  void write(const nlohmann::json& line) {
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    out.flush();
  }

  void judge(const ObservedFlow& f, std::uint64_t now_ns, std::chrono::system_clock::time_point wall) {
    metrics.count_observed(f.outcome);
    const LiveJudgement j = verifier.judge(f);
    metrics.count_judged(j.status);
    if (j.status != LiveStatus::kJudged) return;
    // A leak the grace period excused says nothing about enforcement yet.
    const bool tells_enforcement = !j.expected_allowed && (!j.within_grace || j.finding);
    // Most flows are allowed and agree: nothing to record, so no sample (its text costs more
    // than the judgement).
    if (!j.finding && !tells_enforcement) return;
    const FindingSample s = sample_of(f, j);
    if (j.finding) {
      metrics.count_finding(*j.finding);
      window.add(s, now_ns, wall);
    }
    if (tells_enforcement) {
      if (auto alert = window.denied_flow(s, reached(f.outcome), wall)) {
        metrics.count_drift(alert->kind);
        write(drift_to_json(*alert, options.node));
        if (events) {
          for (const auto& t : targets_of(alert->sample)) events->post(t, drift_event_text(*alert, options.node));
        }
      }
    }
  }

  void emit(const std::vector<FindingRecord>& closed) {
    for (const auto& r : closed) {
      write(finding_to_json(r, options.node));
      if (events) {
        for (const auto& t : targets_of(r.last)) events->post(t, finding_event_text(r, options.node));
      }
    }
  }

  void take_state(std::uint64_t now_ns) {
    std::optional<PolicySnapshot> next;
    {
      std::lock_guard lock(mu);
      next.swap(pending);
    }
    if (!next) return;
    // The first state is news; later ones arrive up to once a second on a busy cluster.
    spdlog::log(verifier.synced() ? spdlog::level::debug : spdlog::level::info,
                "judging flows by cluster state generation {} ({} pods, {} NetworkPolicies)", next->generation,
                next->cluster->pods.size(), next->cluster->policies.size());
    metrics.generation = next->generation;
    verifier.update(std::move(*next), now_ns);
    metrics.synced = true;
  }
};

AgentLoop::AgentLoop(AgentOptions options, const ClusterSource& source, AgentMetrics& metrics, std::ostream& out,
                     EventSink* events)
    : impl_(std::make_unique<Impl>(std::move(options), source, metrics, out, events)) {}

AgentLoop::~AgentLoop() = default;

void AgentLoop::on_event(const npv_event& ev) {
  impl_->tracker.on_event(ev);
  impl_->saw_events = true;
}

void AgentLoop::tick(std::uint64_t now_ns, std::chrono::system_clock::time_point wall) {
  Impl& d = *impl_;
  d.take_state(now_ns);
  if (d.saw_events) {
    d.metrics.last_event_unix = std::chrono::duration<double>(wall.time_since_epoch()).count();
    d.saw_events = false;
  }
  for (const auto& f : d.tracker.take_completed(now_ns)) d.judge(f, now_ns, wall);
  d.metrics.lost_user = d.tracker.stats().evicted_discarded;
  d.emit(d.window.take_closed(now_ns));
}

void AgentLoop::finish(std::uint64_t now_ns, std::chrono::system_clock::time_point wall) {
  Impl& d = *impl_;
  d.take_state(now_ns);
  for (const auto& f : d.tracker.flush()) d.judge(f, now_ns, wall);
  d.emit(d.window.flush());
}

bool AgentLoop::synced() const { return impl_->verifier.synced(); }
std::uint64_t AgentLoop::generation() const {
  const auto* s = impl_->verifier.current();
  return s ? s->generation : 0;
}
TrackerStats AgentLoop::tracker_stats() const { return impl_->tracker.stats(); }

}  // namespace npv
