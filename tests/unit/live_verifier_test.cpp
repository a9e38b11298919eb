// The live verifier (live_verifier.hpp): every rule L1-L8 of agent/verify/live_verifier.cpp, and
// deciding_policies().
#include "npv/explain_report.hpp"
#include "npv/live_verifier.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/manifest_builder.hpp"
#include "support/web_db_cluster.hpp"

namespace npv {
namespace {

constexpr std::uint64_t kSec = 1'000'000'000ULL;
constexpr std::uint32_t kHostNetns = 4026531840U;
constexpr std::uint32_t kPodNetnsA = 4026532001U;
constexpr std::uint32_t kPodNetnsB = 4026532002U;

const char* kPods = test::kWebDbPods;
const char* kDbPolicy = test::kDbInPolicy;  // prod/db accepts 5432/TCP and 53/UDP from prod/web only

// An unrelated change: a policy on other/x that does not concern prod/db.
const char* kOtherPolicy = R"(
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: x-in, namespace: other}
spec:
  podSelector: {}
  policyTypes: [Ingress]
)";

PolicySnapshot snapshot(const std::string& yaml, std::uint64_t generation, std::uint64_t since_ns) {
  auto c = test::load_yaml(yaml);
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return PolicySnapshot::compile(std::make_shared<const ClusterState>(std::move(*c)), generation, since_ns);
}

// A flow from `src` to `dst` seen by the client in pod netns A (and by the server in B when
// `server_seen`).
ObservedFlow flow(const char* src, const char* dst, std::uint16_t port, Outcome outcome, std::uint64_t first_ns,
                  Protocol proto = Protocol::kTCP, bool server_seen = false) {
  ObservedFlow f;
  f.src = *IpAddr::parse(src);
  f.dst = *IpAddr::parse(dst);
  f.src_port = 40000;
  f.dst_port = port;
  f.proto = proto;
  f.outcome = outcome;
  f.client_seen = true;
  f.src_netns = kPodNetnsA;
  f.server_seen = server_seen;
  f.dst_netns = server_seen ? kPodNetnsB : 0;
  f.first_ns = f.last_ns = first_ns;
  return f;
}

LiveVerifier verifier_with(const std::string& yaml) {
  LiveVerifier v(LiveVerifierOptions{.host_netns = kHostNetns});
  v.update(snapshot(yaml, 1, 10 * kSec), 10 * kSec);
  return v;
}

TEST(LiveVerifier, L1NothingIsJudgedBeforeTheFirstSync) {
  LiveVerifier v(LiveVerifierOptions{});
  EXPECT_FALSE(v.synced());
  auto j = v.judge(flow("10.0.1.1", "10.0.0.2", 5432, Outcome::kEstablished, 20 * kSec));
  EXPECT_EQ(j.status, LiveStatus::kNotSynced);
  EXPECT_EQ(j.reason, "before-sync");
  EXPECT_FALSE(j.finding);
}

TEST(LiveVerifier, L2PodToItselfIsNotASubject) {
  auto v = verifier_with(std::string(kPods) + kDbPolicy);
  auto j = v.judge(flow("10.0.0.2", "10.0.0.2", 9999, Outcome::kEstablished, 20 * kSec));
  EXPECT_EQ(j.status, LiveStatus::kNotSubject);
  EXPECT_EQ(j.reason, "self");
}

TEST(LiveVerifier, L3NodeNetworkNamespaceIsNotASubject) {
  auto v = verifier_with(std::string(kPods) + kDbPolicy);
  // The kubelet probing prod/db from the node: denied by db-in, but node traffic is always allowed.
  auto from_node = flow("10.0.0.254", "10.0.0.2", 5432, Outcome::kEstablished, 20 * kSec);
  from_node.src_netns = kHostNetns;
  auto j = v.judge(from_node);
  EXPECT_EQ(j.status, LiveStatus::kNotSubject);
  EXPECT_EQ(j.reason, "node-local");
  // A server in the node's namespace (hostNetwork pod) answering a pod.
  auto to_host = flow("10.0.1.1", "10.0.0.254", 10250, Outcome::kEstablished, 20 * kSec, Protocol::kTCP, true);
  to_host.dst_netns = kHostNetns;
  EXPECT_EQ(v.judge(to_host).reason, "node-local");
}

TEST(LiveVerifier, L4FlowsWithoutALocalEndAreNotJudged) {
  auto v = verifier_with(std::string(kPods) + kDbPolicy);
  auto transit = flow("10.0.1.1", "10.0.0.2", 5432, Outcome::kTimeout, 20 * kSec);
  transit.client_seen = false;  // only a drop in transit was seen
  transit.src_netns = 0;
  auto j = v.judge(transit);
  EXPECT_EQ(j.status, LiveStatus::kNotSubject);
  EXPECT_EQ(j.reason, "not-local");
  // The same flow seen only by the local server is judged.
  transit.server_seen = true;
  transit.dst_netns = kPodNetnsB;
  transit.outcome = Outcome::kEstablished;
  EXPECT_EQ(v.judge(transit).status, LiveStatus::kJudged);
}

TEST(LiveVerifier, L7VerdictAgainstOutcome) {
  auto v = verifier_with(std::string(kPods) + kDbPolicy);
  struct Case {
    const char* src;
    Outcome outcome;
    bool expected_allowed;
    std::optional<FindingKind> finding;
  } cases[] = {
      {"10.0.0.1", Outcome::kEstablished, true, std::nullopt},
      {"10.0.0.1", Outcome::kRefused, true, std::nullopt},  // reached: the listener is just absent
      {"10.0.0.1", Outcome::kTimeout, true, FindingKind::kUnexpectedDrop},
      {"10.0.0.1", Outcome::kUnreachable, true, FindingKind::kUnexpectedDrop},
      {"10.0.1.1", Outcome::kEstablished, false, FindingKind::kSilentNonEnforcement},
      {"10.0.1.1", Outcome::kRefused, false, FindingKind::kSilentNonEnforcement},
      {"10.0.1.1", Outcome::kTimeout, false, std::nullopt},
      {"10.0.1.1", Outcome::kUnreachable, false, std::nullopt},
  };
  for (const auto& c : cases) {
    auto j = v.judge(flow(c.src, "10.0.0.2", 5432, c.outcome, 20 * kSec));
    SCOPED_TRACE(std::string(c.src) + " " + to_string(c.outcome));
    EXPECT_EQ(j.status, LiveStatus::kJudged);
    EXPECT_EQ(j.expected_allowed, c.expected_allowed);
    EXPECT_EQ(j.finding, c.finding);
    EXPECT_FALSE(j.within_grace);
    ASSERT_TRUE(j.flow.dst.pod);
    EXPECT_EQ(j.state->pods[*j.flow.dst.pod].ref(), "prod/db");
  }
}

TEST(LiveVerifier, L8UdpNotDeliveredToAnotherNodeIsInconclusive) {
  auto v = verifier_with(std::string(kPods) + kDbPolicy);
  auto remote = flow("10.0.0.1", "10.0.0.2", 53, Outcome::kNotDelivered, 20 * kSec, Protocol::kUDP);
  auto j = v.judge(remote);
  EXPECT_EQ(j.status, LiveStatus::kInconclusive);
  EXPECT_EQ(j.reason, "udp-remote");
  // Seen dropped here: judged, and allowed, so an unexpected drop.
  auto dropped = flow("10.0.0.1", "10.0.0.2", 53, Outcome::kDropped, 20 * kSec, Protocol::kUDP);
  j = v.judge(dropped);
  EXPECT_EQ(j.status, LiveStatus::kJudged);
  EXPECT_EQ(j.finding, FindingKind::kUnexpectedDrop);
  // Not delivered to a local receiver: judged.
  auto local = flow("10.0.0.1", "10.0.0.2", 53, Outcome::kNotDelivered, 20 * kSec, Protocol::kUDP, true);
  EXPECT_EQ(v.judge(local).finding, FindingKind::kUnexpectedDrop);
  // Delivered though denied: silent non-enforcement.
  auto leak = flow("10.0.1.1", "10.0.0.2", 53, Outcome::kDelivered, 20 * kSec, Protocol::kUDP, true);
  EXPECT_EQ(v.judge(leak).finding, FindingKind::kSilentNonEnforcement);
}

// prod/db behind one Service, prod/db and prod/web behind another, and a Service with no pods.
const char* kServices = R"(
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: prod}
spec: {clusterIP: 10.96.0.10, selector: {app: db}, ports: [{port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: mixed, namespace: prod}
spec: {clusterIP: 10.96.0.11, selector: {tier: mixed}, ports: [{port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: prod}
spec: {clusterIP: 10.96.0.12, selector: {app: nothing}, ports: [{port: 80}]}
)";

TEST(LiveVerifier, L9ServiceFlowsAreJudgedForTheirBackends) {
  std::string pods = kPods;
  // Put db and web behind "mixed".
  pods.replace(pods.find("labels: {app: web}"), 18, "labels: {app: web, tier: mixed}");
  pods.replace(pods.find("labels: {app: db}"), 17, "labels: {app: db, tier: mixed}");
  auto v = verifier_with(pods + kDbPolicy + kServices);
  // One backend: x -> the db Service is x -> prod/db, which db-in denies.
  auto j = v.judge(flow("10.0.1.1", "10.96.0.10", 5432, Outcome::kEstablished, 20 * kSec));
  EXPECT_EQ(j.status, LiveStatus::kJudged);
  EXPECT_EQ(j.service, "prod/db");
  EXPECT_EQ(j.backends, 1u);
  ASSERT_TRUE(j.flow.dst.pod);
  EXPECT_EQ(j.state->pods[*j.flow.dst.pod].ref(), "prod/db");
  EXPECT_FALSE(j.expected_allowed);
  EXPECT_EQ(j.finding, FindingKind::kSilentNonEnforcement);
  // web -> the db Service: allowed through its backend.
  EXPECT_FALSE(v.judge(flow("10.0.0.1", "10.96.0.10", 5432, Outcome::kEstablished, 20 * kSec)).finding);
  // Two backends, two verdicts (db denies x, web is not isolated): which one was reached is unknown.
  j = v.judge(flow("10.0.1.1", "10.96.0.11", 5432, Outcome::kEstablished, 20 * kSec));
  EXPECT_EQ(j.status, LiveStatus::kAmbiguous);
  EXPECT_EQ(j.reason, "service-backends-disagree");
  EXPECT_FALSE(j.finding);
  // No backend known: inconclusive.
  j = v.judge(flow("10.0.1.1", "10.96.0.12", 80, Outcome::kTimeout, 20 * kSec));
  EXPECT_EQ(j.status, LiveStatus::kInconclusive);
  EXPECT_EQ(j.reason, "service-no-backends");
  // Another port of a Service IP is no Service flow: judged as sent (to an IP outside the pods).
  j = v.judge(flow("10.0.1.1", "10.96.0.10", 9999, Outcome::kTimeout, 20 * kSec));
  EXPECT_EQ(j.status, LiveStatus::kJudged);
  EXPECT_TRUE(j.service.empty());
}

TEST(LiveVerifier, L5FlowIsJudgedByTheStateWhenItStarted) {
  LiveVerifier v(LiveVerifierOptions{.grace = std::chrono::seconds{10}, .host_netns = kHostNetns});
  v.update(snapshot(kPods, 1, 10 * kSec), 10 * kSec);                              // no policy
  v.update(snapshot(std::string(kPods) + kDbPolicy, 2, 100 * kSec), 100 * kSec);  // db-in added
  // Connected before db-in existed, reported later: not judged by db-in.
  auto before = v.judge(flow("10.0.1.1", "10.0.0.2", 5432, Outcome::kEstablished, 50 * kSec));
  EXPECT_EQ(before.generation, 1u);
  EXPECT_TRUE(before.expected_allowed);
  EXPECT_FALSE(before.finding);
  // Connected well after: judged by it.
  auto after = v.judge(flow("10.0.1.1", "10.0.0.2", 5432, Outcome::kEstablished, 200 * kSec));
  EXPECT_EQ(after.generation, 2u);
  EXPECT_EQ(after.finding, FindingKind::kSilentNonEnforcement);
  EXPECT_FALSE(after.within_grace);
}

TEST(LiveVerifier, L6GraceAcceptsEitherStateRightAfterAChange) {
  LiveVerifier v(LiveVerifierOptions{.grace = std::chrono::seconds{10}, .host_netns = kHostNetns});
  v.update(snapshot(kPods, 1, 10 * kSec), 10 * kSec);
  v.update(snapshot(std::string(kPods) + kDbPolicy, 2, 100 * kSec), 100 * kSec);
  // 5 s after db-in: the CNI may not have programmed it yet; the leak is acceptable.
  auto in_grace = v.judge(flow("10.0.1.1", "10.0.0.2", 5432, Outcome::kEstablished, 105 * kSec));
  EXPECT_EQ(in_grace.status, LiveStatus::kJudged);
  EXPECT_FALSE(in_grace.expected_allowed);
  EXPECT_TRUE(in_grace.within_grace);
  EXPECT_FALSE(in_grace.finding);
  // Enforced already within the grace: no finding either (the new state's verdict holds).
  EXPECT_FALSE(v.judge(flow("10.0.1.1", "10.0.0.2", 5432, Outcome::kTimeout, 105 * kSec)).finding);
  // Past the grace: a finding.
  EXPECT_EQ(v.judge(flow("10.0.1.1", "10.0.0.2", 5432, Outcome::kEstablished, 111 * kSec)).finding,
            FindingKind::kSilentNonEnforcement);
}

TEST(LiveVerifier, L6AChangeThatDoesNotConcernTheFlowStillFindsIt) {
  LiveVerifier v(LiveVerifierOptions{.grace = std::chrono::seconds{10}, .host_netns = kHostNetns});
  v.update(snapshot(std::string(kPods) + kDbPolicy, 1, 10 * kSec), 10 * kSec);
  v.update(snapshot(std::string(kPods) + kDbPolicy + kOtherPolicy, 2, 100 * kSec), 100 * kSec);
  auto j = v.judge(flow("10.0.1.1", "10.0.0.2", 5432, Outcome::kEstablished, 105 * kSec));
  EXPECT_TRUE(j.within_grace);
  EXPECT_EQ(j.finding, FindingKind::kSilentNonEnforcement);  // both states deny it
}

TEST(LiveVerifier, OldStatesArePrunedByCountAndAge) {
  LiveVerifier v(LiveVerifierOptions{.grace = std::chrono::seconds{1}, .history = std::chrono::seconds{60},
                                     .max_states = 2});
  v.update(snapshot(kPods, 1, 10 * kSec), 10 * kSec);
  v.update(snapshot(std::string(kPods) + kDbPolicy, 2, 20 * kSec), 20 * kSec);
  v.update(snapshot(kPods, 3, 30 * kSec), 30 * kSec);
  // max_states = 2: generation 1 is gone; an early flow is judged by the oldest kept (2).
  EXPECT_EQ(v.judge(flow("10.0.1.1", "10.0.0.2", 5432, Outcome::kEstablished, 15 * kSec)).generation, 2u);
  EXPECT_EQ(v.current()->generation, 3u);
  // By age: 61 s after generation 3 replaced 2, only 3 and the new one remain.
  v.update(snapshot(kPods, 4, 91 * kSec), 91 * kSec);
  EXPECT_EQ(v.judge(flow("10.0.1.1", "10.0.0.2", 5432, Outcome::kEstablished, 15 * kSec)).generation, 3u);
}

TEST(LiveVerifier, DecidingPolicies) {
  auto c = test::load_yaml(std::string(kPods) + kDbPolicy);
  ASSERT_TRUE(c);
  PolicyEngine engine(*c);
  auto pod = [&](const char* ref) { return Endpoint::of_pod(*c->find_pod(ref)); };
  auto denied = engine.explain(Flow{pod("other/x"), pod("prod/db"), PortProto{5432, Protocol::kTCP}});
  EXPECT_EQ(deciding_policies(*c, denied, false), std::vector<std::string>{"prod/db-in"});
  auto allowed = engine.explain(Flow{pod("prod/web"), pod("prod/db"), PortProto{5432, Protocol::kTCP}});
  EXPECT_EQ(deciding_policies(*c, allowed, true), std::vector<std::string>{"prod/db-in"});
  auto open = engine.explain(Flow{pod("prod/db"), pod("other/x"), PortProto{80, Protocol::kTCP}});
  EXPECT_TRUE(deciding_policies(*c, open, true).empty());
}

}  // namespace
}  // namespace npv
