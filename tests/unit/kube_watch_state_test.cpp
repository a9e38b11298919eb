// What a ClusterWatcher publishes: rejected objects, terminated pods, change times, object
// references for Events, callbacks, and a prompt stop.
#include <future>

#include "support/test_pki.hpp"
#include "unit/kube_watch_fixture.hpp"

namespace npv::kube {
namespace {

using nlohmann::json;
using test::pod_object;
using test::policy_object;
using ::testing::HasSubstr;

TEST_F(KubeWatchTest, ObjectsTheModelRejectsAreSkippedCountedAndNoted) {
  json bad = pod_object("shop", "broken", {{"app", "web"}}, "10.0.0.300");  // not an IP
  server_->apply("pods", bad);
  start_and_sync();  // describe_server() leaves the rejected pod out too
  ResourceStats s = watcher_->stats(Resource::kPods);
  EXPECT_EQ(s.invalid_objects, 1u);
  EXPECT_EQ(s.objects, 3u);
  auto snap = watcher_->snapshot();
  ASSERT_EQ(snap->state.notes.size(), 1u);
  EXPECT_THAT(snap->state.notes[0], HasSubstr("API pods: Pod shop/broken: status.podIP: \"10.0.0.300\" is not an IP address"));

  // A live event with an invalid object: counted, the stream goes on.
  server_->apply("networkpolicies", policy_object("shop", "bad-port", {{"podSelector", json::object()},
                                                                       {"ingress", {{{"ports", {{{"port", 70000}}}}}}}}));
  server_->apply("pods", pod_object("shop", "broken", {{"app", "web"}}, "10.0.0.30"));  // fixed
  expect_converged();
  EXPECT_EQ(watcher_->stats(Resource::kNetworkPolicies).invalid_objects, 1u);
  EXPECT_EQ(watcher_->stats(Resource::kNetworkPolicies).errors, 0u);
  snap = watcher_->snapshot();
  ASSERT_EQ(snap->state.notes.size(), 1u);
  EXPECT_THAT(snap->state.notes[0], HasSubstr("NetworkPolicy shop/bad-port: spec.ingress[0].ports[0].port"));
  EXPECT_TRUE(snap->state.find_pod("shop/broken"));
}

// A LIST is decoded page by page (rule 1); the result still replaces the whole resource at once:
// objects gone are deleted, a rejected object on a later page is counted and noted, unchanged
// objects keep their change time.
TEST_F(KubeWatchTest, PagedRelistReplacesTheWholeResource) {
  options_.page_size = 2;
  start_and_sync();
  auto first = watcher_->snapshot();
  // Out of the watcher's sight (watches silent), then history compacted: only a relist can see it.
  server_->set_stalled(true);
  server_->remove("pods", "shop", "db-1");
  for (int i = 0; i < 4; ++i) {
    server_->apply("pods", pod_object("ops", "batch-" + std::to_string(i), {{"app", "batch"}}, "10.0.2." + std::to_string(i + 1)));
  }
  server_->apply("pods", pod_object("ops", "zz-broken", {{"app", "batch"}}, "10.0.2.300"));  // last page: not an IP
  server_->compact("pods");
  server_->set_stalled(false);
  ASSERT_TRUE(test::wait_until([&] { return watcher_->stats(Resource::kPods).relists == 1; }))
      << verbs_and_statuses("pods");
  expect_converged();
  auto snap = watcher_->snapshot();
  EXPECT_FALSE(snap->state.find_pod("shop/db-1"));
  EXPECT_EQ(snap->state.pods.size(), 6u);  // web-1, probe, batch-0..3
  EXPECT_EQ(watcher_->stats(Resource::kPods).invalid_objects, 1u);
  ASSERT_EQ(snap->state.notes.size(), 1u);
  EXPECT_THAT(snap->state.notes[0], HasSubstr("Pod ops/zz-broken: status.podIP"));
  EXPECT_EQ(snap->pod_changed.at("shop/web-1"), first->synced_at);
  EXPECT_GT(snap->pod_changed.at("ops/batch-0"), first->synced_at);
}

TEST_F(KubeWatchTest, TerminatedPodsAreLeftOut) {
  server_->apply("pods", pod_object("ops", "job-1", {{"app", "job"}}, "10.0.1.7", "Succeeded"));  // the probe's IP, reused
  start_and_sync();
  auto snap = watcher_->snapshot();
  EXPECT_FALSE(snap->state.find_pod("ops/job-1"));
  EXPECT_EQ(snap->state.pods[*snap->state.find_pod_by_ip(*IpAddr::parse("10.0.1.7"))].ref(), "ops/probe");
  EXPECT_THAT(snap->state.notes.at(0), HasSubstr("1 terminated pod(s)"));
  server_->apply("pods", pod_object("ops", "job-2", {{"app", "job"}}, "10.0.1.8", "Failed"));
  server_->apply("pods", pod_object("ops", "job-3", {{"app", "job"}}, "10.0.1.9", "Pending"));
  expect_converged();
}

TEST_F(KubeWatchTest, PolicyChangeTimesFollowSpecChangesOnly) {
  start_and_sync();
  auto first = watcher_->snapshot();
  EXPECT_EQ(first->generation, 1u);
  EXPECT_EQ(first->policy_changed.at("shop/default-deny"), first->synced_at);
  EXPECT_EQ(first->pod_changed.at("shop/web-1"), first->synced_at);

  // An annotation on one policy and a status-only change on a pod change nothing that matters...
  json annotated = policy_object("shop", "default-deny", {{"podSelector", json::object()}, {"policyTypes", {"Ingress"}}});
  annotated["metadata"]["annotations"] = {{"note", "reviewed"}};
  server_->apply("networkpolicies", annotated);
  json pod = pod_object("shop", "web-1", {{"app", "web"}}, "10.0.0.5");
  pod["status"]["conditions"][0]["lastTransitionTime"] = "2026-01-01T01:00:00Z";
  server_->apply("pods", pod);
  // ...a spec change does.
  server_->apply("networkpolicies", policy_object("shop", "allow-web-to-db", {{"podSelector", json::object()}}));
  server_->remove("networkpolicies", "shop", "default-deny");
  ASSERT_TRUE(test::wait_until([&] {
    auto s = watcher_->snapshot();
    return s->policy_deleted.contains("shop/default-deny") && s->state.policies.size() == 1;
  }));
  auto later = watcher_->snapshot();
  EXPECT_GT(later->generation, first->generation);
  EXPECT_GT(later->policy_changed.at("shop/allow-web-to-db"), first->synced_at);
  EXPECT_EQ(later->pod_changed.at("shop/web-1"), first->synced_at);  // status-only: unchanged
  EXPECT_EQ(later->policy_changed.at("shop/default-deny"), later->policy_deleted.at("shop/default-deny"));
  // A later rebuild (for a namespace label) still carries the pod's old change time.
  const auto generation = watcher_->generation();
  pod["status"]["conditions"][0]["lastTransitionTime"] = "2026-01-01T02:00:00Z";
  server_->apply("pods", pod);
  server_->apply("namespaces", test::namespace_object("ops", {{"team", "sre"}, {"tier", "1"}}));
  ASSERT_TRUE(watcher_->wait_for_generation(generation, std::chrono::seconds(10)));
  EXPECT_EQ(watcher_->snapshot()->pod_changed.at("shop/web-1"), first->synced_at);
}

TEST_F(KubeWatchTest, SnapshotsCarryObjectReferencesForEvents) {
  std::vector<std::uint64_t> seen;
  std::mutex m;
  make_watcher();
  watcher_->on_snapshot([&](std::shared_ptr<const ClusterSnapshot> s) {
    std::lock_guard lock(m);
    seen.push_back(s->generation);
  });
  watcher_->start();
  ASSERT_TRUE(watcher_->wait_for_generation(0, std::chrono::seconds(10)));
  auto snap = watcher_->snapshot();
  auto uid = server_->objects("networkpolicies").at(0)["metadata"]["uid"].get<std::string>();
  auto ref = snap->ref("NetworkPolicy", "shop", "allow-web-to-db");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->uid, uid);
  EXPECT_EQ(ref->api_version, "networking.k8s.io/v1");
  auto ns = snap->ref("Namespace", "", "shop");
  ASSERT_TRUE(ns);
  EXPECT_TRUE(ns->ns.empty());
  EXPECT_EQ(ns->api_version, "v1");
  EXPECT_FALSE(snap->ref("Pod", "shop", "nope"));
  watcher_->stop();
  std::lock_guard lock(m);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), 1u);
}

TEST_F(KubeWatchTest, SubsetOfResourcesSyncsOnItsOwn) {
  options_.resources = {Resource::kPods, Resource::kNetworkPolicies};
  server_->fail_lists("endpointslices", 403);  // e.g. no RBAC for it: not configured, not needed
  start();
  ASSERT_TRUE(watcher_->wait_for_generation(0, std::chrono::seconds(10)));
  EXPECT_EQ(server_->count("endpointslices", "list"), 0);
  EXPECT_EQ(watcher_->snapshot()->state.services.size(), 0u);
  EXPECT_EQ(watcher_->snapshot()->state.pods.size(), 3u);
}

TEST_F(KubeWatchTest, WatchesOverTlsWithAClientCertificate) {
  const test::TestPki pki = test::make_test_pki();
  options_of_server_.tls = true;
  options_of_server_.server_cert_pem = pki.server_cert_pem;
  options_of_server_.server_key_pem = pki.server_key_pem;
  options_of_server_.client_ca_pem = pki.ca_cert_pem;
  options_of_server_.required_token = "not-this-one";
  restart_server();
  client_config_.ca_pem = pki.ca_cert_pem;
  client_config_.client_cert_pem = pki.client_cert_pem;
  client_config_.client_key_pem = pki.client_key_pem;
  start_and_sync();
  server_->apply("pods", pod_object("shop", "web-2", {{"app", "web"}}, "10.0.0.9"));
  server_->drop_watches("pods");
  server_->apply("pods", pod_object("shop", "web-3", {{"app", "web"}}, "10.0.0.10"));
  expect_converged();
  EXPECT_EQ(server_->count("pods", "list"), 1);
  for (const auto& r : server_->requests()) EXPECT_EQ(r.client_cn, "npv-agent");
}

TEST_F(KubeWatchTest, StopIsPromptWhileWatchesAndListsAreBlocked) {
  start_and_sync();
  wait_for_watches("pods", 1);
  auto stopped = std::async(std::launch::async, [&] { watcher_->stop(); });  // watches idle for 60 s
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(watcher_->wait_for_generation(watcher_->generation(), std::chrono::milliseconds(1)));

  // A LIST blocked on a server that stopped answering.
  server_->set_stalled(true);
  start();
  ASSERT_TRUE(test::wait_until([&] { return server_->count("pods", "list") == 2; }));
  stopped = std::async(std::launch::async, [&] { watcher_->stop(); });
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(watcher_->synced());
  server_->set_stalled(false);
}

}  // namespace
}  // namespace npv::kube
