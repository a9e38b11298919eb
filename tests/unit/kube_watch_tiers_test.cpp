// The ClusterWatcher and the cluster-wide tiers: AdminNetworkPolicy, BaselineAdminNetworkPolicy and
// ClusterNetworkPolicy are listed and watched like the other resources; where their CRDs are not
// installed (LIST 404) they count as synced and empty, are counted, and are not listed again at
// the error backoff's pace.
#include "npv/policy_engine.hpp"
#include "unit/kube_watch_fixture.hpp"

namespace npv::kube {
namespace {

using nlohmann::json;
using test::tier_object;

json deny_ops_to_shop() {
  return {{"priority", 5},
          {"subject", {{"namespaces", {{"matchLabels", {{"team", "web"}}}}}}},
          {"ingress", {{{"name", "no-ops"}, {"action", "Deny"}, {"from", {{{"namespaces", {{"matchLabels", {{"team", "sre"}}}}}}}}}}}};
}

TEST_F(KubeWatchTest, TierPoliciesAreListedAndWatched) {
  server_->apply("adminnetworkpolicies", tier_object("AdminNetworkPolicy", "no-ops", deny_ops_to_shop()));
  start_and_sync();
  auto snap = watcher_->snapshot();
  ASSERT_EQ(snap->state.tier_policies.size(), 1u);
  EXPECT_EQ(snap->state.tier_policies[0].ref(), "AdminNetworkPolicy/no-ops");
  EXPECT_TRUE(snap->policy_changed.contains("AdminNetworkPolicy/no-ops"));
  auto ref = snap->ref("AdminNetworkPolicy", "", "no-ops");  // for Events: cluster-scoped, with its uid
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->api_version, "policy.networking.k8s.io/v1alpha1");
  EXPECT_TRUE(ref->ns.empty());
  EXPECT_FALSE(ref->uid.empty());
  {
    PolicyEngine engine(snap->state);
    Flow f{Endpoint::of_pod(*snap->state.find_pod("ops/probe")), Endpoint::of_pod(*snap->state.find_pod("shop/web-1")),
           PortProto{8080, Protocol::kTCP}};
    EXPECT_FALSE(engine.allowed(f));
    EXPECT_EQ(engine.explain(f).ingress.decided_by(), DecidingTier::kAdmin);
  }
  // Live events: a v1alpha2 policy arrives, the v1alpha1 one goes.
  server_->apply("clusternetworkpolicies",
                 tier_object("ClusterNetworkPolicy", "baseline",
                             {{"tier", "Baseline"}, {"priority", 1}, {"subject", {{"namespaces", json::object()}}},
                              {"egress", {{{"action", "Accept"}, {"to", {{{"namespaces", json::object()}}}}}}}}));
  server_->remove("adminnetworkpolicies", "", "no-ops");
  expect_converged();
  snap = watcher_->snapshot();
  ASSERT_EQ(snap->state.tier_policies.size(), 1u);
  EXPECT_EQ(snap->state.tier_policies[0].ref(), "ClusterNetworkPolicy/baseline");
  EXPECT_EQ(watcher_->stats(Resource::kAdminNetworkPolicies).not_installed, 0u);
}

TEST_F(KubeWatchTest, TierPolicyTheModelRejectsIsCountedAndNoted) {
  json bad = deny_ops_to_shop();
  bad["priority"] = 5000;
  server_->apply("adminnetworkpolicies", tier_object("AdminNetworkPolicy", "bad", bad));
  start_and_sync();
  EXPECT_EQ(watcher_->stats(Resource::kAdminNetworkPolicies).invalid_objects, 1u);
  auto snap = watcher_->snapshot();
  ASSERT_EQ(snap->state.notes.size(), 1u);
  EXPECT_THAT(snap->state.notes[0], ::testing::HasSubstr("AdminNetworkPolicy bad: spec.priority: must be in 0-1000"));
}

TEST_F(KubeWatchTest, MissingTierCrdsAreEmptySyncedAndNotRetriedHot) {
  options_.crd_recheck = std::chrono::milliseconds(300);
  for (const char* r : {"adminnetworkpolicies", "baselineadminnetworkpolicies", "clusternetworkpolicies"}) {
    server_->fail_lists(r, 404);
  }
  start_and_sync();
  for (Resource r : {Resource::kAdminNetworkPolicies, Resource::kBaselineAdminNetworkPolicies, Resource::kClusterNetworkPolicies}) {
    ResourceStats s = watcher_->stats(r);
    EXPECT_TRUE(s.synced) << to_string(r);
    EXPECT_GE(s.not_installed, 1u) << to_string(r);
    EXPECT_EQ(s.errors, 0u) << to_string(r);
    EXPECT_EQ(server_->count(to_string(r), "watch"), 0) << "nothing to watch without the CRD";
  }
  // Not hot: at the 10 ms error backoff this would be dozens of LISTs.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const int lists = server_->count("adminnetworkpolicies", "list");
  EXPECT_GE(lists, 2);
  EXPECT_LE(lists, 5);
  // The CRD gets installed: the next recheck lists it, and the watcher starts watching.
  server_->fail_lists("adminnetworkpolicies", 0);
  server_->apply("adminnetworkpolicies", tier_object("AdminNetworkPolicy", "no-ops", deny_ops_to_shop()));
  expect_converged();
  EXPECT_EQ(watcher_->snapshot()->state.tier_policies.size(), 1u);
  ASSERT_TRUE(test::wait_until([&] { return server_->count("adminnetworkpolicies", "watch") >= 1; }));
}

}  // namespace
}  // namespace npv::kube
