// Property test: on random clusters, the indexed PolicyEngine agrees with the rule-by-rule
// reference evaluator (tests/support/reference_evaluator.hpp) on every verdict, and its explain()
// names the same isolating policies and allowing rules.
//
// Reproduce one seed with NPV_PROPERTY_SEED=<seed> (the failure message prints it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "npv/explain_report.hpp"
#include "npv/policy_engine.hpp"
#include "support/manifest_builder.hpp"
#include "support/random_cluster.hpp"
#include "support/reference_evaluator.hpp"

namespace npv {
namespace {

using test::RandomClusterSpec;
using test::ReferenceDirection;
using test::ReferenceVerdict;

constexpr std::uint64_t kSeeds = 200;
constexpr int kFlowsPerCluster = 2500;
constexpr int kMaxReportedSeeds = 5;

// Mostly small clusters (selectors collide often), every tenth one medium.
RandomClusterSpec spec_for_seed(std::uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull);
  RandomClusterSpec spec;
  spec.seed = seed;
  bool medium = seed % 10 == 0;
  spec.namespaces = medium ? 5 + rng() % 16 : 1 + rng() % 6;
  spec.pods = medium ? 100 + rng() % 101 : rng() % 41;
  spec.policies = medium ? 50 + rng() % 71 : rng() % 31;
  spec.tier_policies = medium ? 10 + rng() % 21 : rng() % 7;
  return spec;
}

std::mt19937_64 flow_rng(std::uint64_t seed) { return std::mt19937_64(seed ^ 0xF10F10F10F10ull); }

std::vector<std::uint64_t> seeds_to_run() {
  if (const char* one = std::getenv("NPV_PROPERTY_SEED")) return {std::strtoull(one, nullptr, 10)};
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t s = 1; s <= kSeeds; ++s) seeds.push_back(s);
  return seeds;
}

std::string rules_text(const std::vector<RuleRef>& rules) {
  std::string out = "[";
  for (const RuleRef& r : rules) out += " " + std::to_string(r.policy) + "." + std::to_string(r.rule);
  return out + " ]";
}

std::string ids_text(const std::vector<std::uint32_t>& ids) {
  std::string out = "[";
  for (std::uint32_t id : ids) out += " " + std::to_string(id);
  return out + " ]";
}

std::string tier_text(const std::optional<TierRuleRef>& r) {
  if (!r) return "none";
  return std::to_string(r->policy) + "." + std::to_string(r->rule) + " " + to_string(r->action);
}

template <class T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// The first difference between engine and reference for `flow`, or nullopt.
std::optional<std::string> difference(const PolicyEngine& engine, const ReferenceVerdict& ref, const Flow& flow) {
  bool fast = engine.allowed(flow);
  if (fast != ref.allowed) return "allowed(): engine " + std::to_string(fast) + ", reference " + std::to_string(ref.allowed);
  Explanation e = engine.explain(flow);
  if (e.allowed() != ref.allowed) return "explain().allowed() disagrees with the reference";
  if (e.self != ref.self) return "explain().self disagrees with the reference";
  if (ref.self) return std::nullopt;  // the directions of a self flow do not matter
  auto side = [](const char* name, const DirectionVerdict& got,
                 const ReferenceDirection& want) -> std::optional<std::string> {
    std::string prefix = std::string(name) + ": ";
    if (got.governed != want.governed) return prefix + "governed differs";
    if (!want.governed) return std::nullopt;
    if (sorted(got.isolating) != want.isolating) {
      return prefix + "isolating: engine " + ids_text(sorted(got.isolating)) + ", reference " + ids_text(want.isolating);
    }
    if (sorted(got.allowed_by) != want.allowed_by) {
      return prefix + "allowed_by: engine " + rules_text(sorted(got.allowed_by)) + ", reference " +
             rules_text(want.allowed_by);
    }
    if (got.admin != want.admin) return prefix + "admin tier rule: engine " + tier_text(got.admin) + ", reference " + tier_text(want.admin);
    if (got.baseline != want.baseline) {
      return prefix + "baseline tier rule: engine " + tier_text(got.baseline) + ", reference " + tier_text(want.baseline);
    }
    return std::nullopt;
  };
  if (auto d = side("egress", e.egress, ref.egress)) return d;
  return side("ingress", e.ingress, ref.ingress);
}

std::string reproduction(const ClusterState& c, const PolicyEngine& engine, const RandomClusterSpec& spec, int index,
                         const Flow& flow, const ReferenceVerdict& ref) {
  std::string out = "seed " + std::to_string(spec.seed) + " (NPV_PROPERTY_SEED=" + std::to_string(spec.seed) +
                    "), cluster {namespaces " + std::to_string(spec.namespaces) + ", pods " + std::to_string(spec.pods) +
                    ", policies " + std::to_string(spec.policies) + "}, flow #" + std::to_string(index) + ": " +
                    test::describe_flow(c, flow) + "\nreference: allowed " + std::to_string(ref.allowed) + ", egress isolating " +
                    ids_text(ref.egress.isolating) + " allowed_by " + rules_text(ref.egress.allowed_by) +
                    ", ingress isolating " + ids_text(ref.ingress.isolating) + " allowed_by " +
                    rules_text(ref.ingress.allowed_by) + "\nengine:\n" +
                    explanation_to_text(c, flow, engine.explain(flow)) + "\n";
  for (const Endpoint* e : {&flow.src, &flow.dst}) {
    if (e->pod) out += "pod " + test::describe_pod(c, *e->pod) + "\n";
  }
  std::set<std::string> namespaces;
  for (const Endpoint* e : {&flow.src, &flow.dst}) {
    if (e->pod) namespaces.insert(c.pods[*e->pod].ns);
  }
  for (std::uint32_t p = 0; p < c.policies.size(); ++p) {
    if (namespaces.contains(c.policies[p].ns)) out += "policy " + std::to_string(p) + " " + test::describe_policy(c.policies[p]) + "\n";
  }
  for (std::uint32_t p = 0; p < c.tier_policies.size(); ++p) {
    out += "tier policy " + std::to_string(p) + " " + test::describe_tier_policy(c.tier_policies[p]) + "\n";
  }
  return out;
}

// How often each branch of the semantics was reached, so a degenerate generator fails loudly.
struct Outcomes {
  std::size_t flows = 0, allowed = 0, self = 0, ungoverned = 0, isolated_allowed = 0, isolated_denied = 0;
  std::size_t admin_allow = 0, admin_deny = 0, admin_pass = 0, baseline_allow = 0, baseline_deny = 0;

  void add(const ReferenceVerdict& ref) {
    ++flows;
    allowed += ref.allowed;
    self += ref.self;
    for (const ReferenceDirection* d : {&ref.egress, &ref.ingress}) {
      ungoverned += !d->governed;
      bool isolated = !d->isolating.empty();
      isolated_allowed += isolated && d->allowed;
      isolated_denied += isolated && !d->allowed;
      if (d->admin) {
        admin_allow += d->admin->action == TierAction::kAllow;
        admin_deny += d->admin->action == TierAction::kDeny;
        admin_pass += d->admin->action == TierAction::kPass;
      }
      if (d->baseline) {
        baseline_allow += d->baseline->action == TierAction::kAllow;
        baseline_deny += d->baseline->action == TierAction::kDeny;
      }
    }
  }
};

// Checks `flows` random flows on the cluster of `spec`; reports the first difference and returns
// false, or returns true.
bool check_cluster(const RandomClusterSpec& spec, int flows, Outcomes& outcomes) {
  ClusterState cluster = test::random_cluster(spec);
  PolicyEngine engine(cluster);
  std::mt19937_64 rng = flow_rng(spec.seed);
  for (int i = 0; i < flows; ++i) {
    Flow flow = test::random_flow(cluster, rng);
    ReferenceVerdict ref = test::reference_explain(cluster, flow);
    outcomes.add(ref);
    if (auto d = difference(engine, ref, flow)) {
      ADD_FAILURE() << *d << "\n" << reproduction(cluster, engine, spec, i, flow, ref);
      return false;
    }
  }
  return true;
}

TEST(PropertyTest, EngineAgreesWithReferenceOnRandomClusters) {
  Outcomes o;
  int reported = 0;
  for (std::uint64_t seed : seeds_to_run()) {
    if (!check_cluster(spec_for_seed(seed), kFlowsPerCluster, o) && ++reported >= kMaxReportedSeeds) break;
  }
  if (std::getenv("NPV_PROPERTY_SEED")) return;
  EXPECT_GT(o.allowed, o.flows / 10) << "too few allowed flows: the generator is degenerate";
  EXPECT_LT(o.allowed, o.flows * 9 / 10) << "too few denied flows: the generator is degenerate";
  EXPECT_GT(o.self, 0u);
  EXPECT_GT(o.ungoverned, 0u);
  EXPECT_GT(o.isolated_allowed, o.flows / 20);
  EXPECT_GT(o.isolated_denied, o.flows / 20);
  // Every branch of the tiers is reached.
  EXPECT_GT(o.admin_allow, o.flows / 100);
  EXPECT_GT(o.admin_deny, o.flows / 100);
  EXPECT_GT(o.admin_pass, o.flows / 100);
  EXPECT_GT(o.baseline_allow, o.flows / 200);
  EXPECT_GT(o.baseline_deny, o.flows / 200);
}

// Large enough for dense pod sets and many policies per pod; a few seeds only.
TEST(PropertyTest, EngineAgreesWithReferenceOnLargeClusters) {
  if (std::getenv("NPV_PROPERTY_SEED")) GTEST_SKIP() << "NPV_PROPERTY_SEED runs the small clusters only";
  Outcomes o;
  for (std::uint64_t seed : {1001u, 1002u}) {
    RandomClusterSpec spec;
    spec.seed = seed;
    spec.namespaces = 100;
    spec.pods = 2000;
    spec.policies = 800;
    spec.tier_policies = seed == 1002u ? 100 : 0;
    check_cluster(spec, 4000, o);
  }
  EXPECT_GT(o.isolated_allowed, 0u);
  EXPECT_GT(o.isolated_denied, 0u);
  EXPECT_GT(o.admin_deny, 0u);
}

// --- The property test can fail: an engine with a plausible bug disagrees with the reference. ---
//
// Each case mutates a copy of the cluster the way a buggy engine would misread it, builds the
// engine from the mutated copy and the reference from the original, and requires a verdict
// disagreement on some generated flow. If the generator stopped exercising the feature, the
// corresponding test fails.

using Mutation = std::function<void(ClusterState&)>;

void for_each_peer(ClusterState& c, const std::function<void(std::vector<PolicyPeer>&)>& fn) {
  for (NetworkPolicy& p : c.policies) {
    for (auto* rules : {&p.ingress, &p.egress}) {
      for (PolicyRule& r : *rules) fn(r.peers);
    }
  }
}

void for_each_port(ClusterState& c, const std::function<void(PolicyPort&)>& fn) {
  for (NetworkPolicy& p : c.policies) {
    for (auto* rules : {&p.ingress, &p.egress}) {
      for (PolicyRule& r : *rules) std::for_each(r.ports.begin(), r.ports.end(), fn);
    }
  }
}

LabelSelector with_not_in_needing_key(const LabelSelector& s) {
  std::vector<Requirement> reqs = s.requirements();
  for (const Requirement& r : s.requirements()) {
    if (r.op == SelectorOp::kNotIn) reqs.push_back({r.key, SelectorOp::kExists, {}});
  }
  return LabelSelector(std::move(reqs));
}

// The first flow on which the engine over the mutated cluster and the reference disagree.
std::optional<std::string> detect(const Mutation& mutate) {
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    RandomClusterSpec spec = spec_for_seed(seed);
    ClusterState cluster = test::random_cluster(spec);
    ClusterState buggy = cluster;  // same pods and policies in the same order
    mutate(buggy);
    PolicyEngine engine(buggy);
    std::mt19937_64 rng = flow_rng(seed);
    for (int i = 0; i < 1000; ++i) {
      Flow flow = test::random_flow(cluster, rng);
      if (engine.allowed(flow) != test::reference_allowed(cluster, flow)) {
        return "seed " + std::to_string(seed) + " flow " + test::describe_flow(cluster, flow);
      }
    }
  }
  return std::nullopt;
}

TEST(PropertyMutation, IgnoringExceptIsCaught) {
  EXPECT_TRUE(detect([](ClusterState& c) {
    for_each_peer(c, [](std::vector<PolicyPeer>& peers) {
      for (PolicyPeer& p : peers) {
        if (p.ip_block) p.ip_block->except.clear();
      }
    });
  }));
}

TEST(PropertyMutation, NamedPortAsAnyPortIsCaught) {
  EXPECT_TRUE(detect([](ClusterState& c) {
    for_each_port(c, [](PolicyPort& pp) {
      if (pp.kind == PolicyPort::Kind::kNamed) pp.kind = PolicyPort::Kind::kAllPorts;
    });
  }));
}

TEST(PropertyMutation, NamedPortResolvedWithoutPodPortsIsCaught) {
  EXPECT_TRUE(detect([](ClusterState& c) {
    for (Pod& pod : c.pods) pod.ports.clear();
  }));
}

TEST(PropertyMutation, IgnoringEndPortIsCaught) {
  EXPECT_TRUE(detect([](ClusterState& c) {
    for_each_port(c, [](PolicyPort& pp) { pp.end_port = pp.port; });
  }));
}

TEST(PropertyMutation, NamespaceAndPodSelectorOredIsCaught) {
  EXPECT_TRUE(detect([](ClusterState& c) {
    for_each_peer(c, [](std::vector<PolicyPeer>& peers) {
      std::vector<PolicyPeer> split;
      for (PolicyPeer& p : peers) {
        if (p.pod_selector && p.namespace_selector) {
          split.push_back({p.pod_selector, std::nullopt, std::nullopt});
          split.push_back({std::nullopt, p.namespace_selector, std::nullopt});
        } else {
          split.push_back(p);
        }
      }
      peers = std::move(split);
    });
  }));
}

TEST(PropertyMutation, TierPassAsAllowIsCaught) {
  EXPECT_TRUE(detect([](ClusterState& c) {
    for (TierPolicy& p : c.tier_policies) {
      for (auto* rules : {&p.ingress, &p.egress}) {
        for (TierRule& r : *rules) {
          if (r.action == TierAction::kPass) r.action = TierAction::kAllow;
        }
      }
    }
  }));
}

TEST(PropertyMutation, TierPriorityIgnoredIsCaught) {
  // The engine evaluates tier policies in ClusterState order: reversed, the highest number first.
  EXPECT_TRUE(detect([](ClusterState& c) { std::reverse(c.tier_policies.begin(), c.tier_policies.end()); }));
}

TEST(PropertyMutation, BaselineEvaluatedAsAdminIsCaught) {
  EXPECT_TRUE(detect([](ClusterState& c) {
    for (TierPolicy& p : c.tier_policies) p.tier = TierKind::kAdmin;
  }));
}

TEST(PropertyMutation, IgnoringPolicyTypesIsCaught) {
  EXPECT_TRUE(detect([](ClusterState& c) {
    for (NetworkPolicy& p : c.policies) p.affects_ingress = p.affects_egress = true;
  }));
}

TEST(PropertyMutation, NotInFalseForAbsentKeyIsCaught) {
  EXPECT_TRUE(detect([](ClusterState& c) {
    for (NetworkPolicy& p : c.policies) p.pod_selector = with_not_in_needing_key(p.pod_selector);
    for_each_peer(c, [](std::vector<PolicyPeer>& peers) {
      for (PolicyPeer& p : peers) {
        if (p.pod_selector) p.pod_selector = with_not_in_needing_key(*p.pod_selector);
        if (p.namespace_selector) p.namespace_selector = with_not_in_needing_key(*p.namespace_selector);
      }
    });
  }));
}

// --- The reference itself, on cases the Kubernetes documentation spells out. ---

class PropertyReference : public ::testing::Test {
 protected:
  ClusterState load(const std::string& yaml) {
    auto c = test::load_yaml(yaml);
    EXPECT_TRUE(c) << c.error().message;
    return c ? std::move(*c) : ClusterState{};
  }
  static Flow pods(const ClusterState& c, const char* src, const char* dst, const char* port) {
    return {Endpoint::of_pod(*c.find_pod(src)), Endpoint::of_pod(*c.find_pod(dst)), *PortProto::parse(port)};
  }
};

TEST_F(PropertyReference, SelectorOperators) {
  Labels web{{"app", "web"}};
  EXPECT_TRUE(test::reference_selects(LabelSelector(), {}));
  EXPECT_TRUE(test::reference_selects(LabelSelector({{"tier", SelectorOp::kNotIn, {"db"}}}), web));
  EXPECT_FALSE(test::reference_selects(LabelSelector({{"app", SelectorOp::kNotIn, {"web"}}}), web));
  EXPECT_FALSE(test::reference_selects(LabelSelector({{"tier", SelectorOp::kIn, {"db"}}}), web));
  EXPECT_TRUE(test::reference_selects(LabelSelector({{"tier", SelectorOp::kDoesNotExist, {}}}), web));
  EXPECT_FALSE(test::reference_selects(LabelSelector({{"app", SelectorOp::kIn, {"web"}}, {"app", SelectorOp::kDoesNotExist, {}}}), web));
}

TEST_F(PropertyReference, DocumentedSemantics) {
  ClusterState c = load(test::namespace_yaml("prod", "{env: prod}") + test::namespace_yaml("dev", "{env: dev}") +
                        test::pod_yaml("prod", "db", "{app: db}", "10.0.0.1", "[{name: sql, containerPort: 5432}]") +
                        test::pod_yaml("prod", "web", "{app: web}", "10.0.0.2") +
                        test::pod_yaml("dev", "web", "{app: web}", "10.0.1.2") +
                        test::pod_yaml("dev", "tool", "{app: tool}", "10.0.1.3") + R"(
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {env: dev}}
      podSelector: {matchLabels: {app: web}}
    - ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.3/32]}
    ports:
    - {port: sql}
    - {port: 6000, endPort: 6010, protocol: UDP}
)");
  ASSERT_EQ(c.pods.size(), 4u);
  EXPECT_TRUE(test::reference_allowed(c, pods(c, "dev/web", "prod/db", "5432/TCP")));   // named port on dst
  EXPECT_FALSE(test::reference_allowed(c, pods(c, "dev/web", "prod/db", "5433/TCP")));  // port not listed
  EXPECT_FALSE(test::reference_allowed(c, pods(c, "dev/web", "prod/db", "5432/UDP")));  // wrong protocol
  EXPECT_TRUE(test::reference_allowed(c, pods(c, "prod/web", "prod/db", "6010/UDP")));  // ipBlock, endPort
  EXPECT_FALSE(test::reference_allowed(c, pods(c, "prod/web", "prod/db", "6011/UDP")));
  EXPECT_FALSE(test::reference_allowed(c, pods(c, "dev/tool", "prod/db", "5432/TCP")));  // except
  EXPECT_TRUE(test::reference_allowed(c, pods(c, "prod/db", "dev/tool", "1/SCTP")));     // no egress policy
  Flow outside{Endpoint::of_ip(*IpAddr::parse("192.0.2.1")), Endpoint::of_pod(*c.find_pod("prod/db")),
               *PortProto::parse("5432/TCP")};
  EXPECT_FALSE(test::reference_allowed(c, outside));
  EXPECT_TRUE(test::reference_allowed(c, pods(c, "prod/db", "prod/db", "9/UDP")));  // self
}

}  // namespace
}  // namespace npv
