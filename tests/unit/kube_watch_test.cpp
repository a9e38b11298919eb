// ClusterWatcher against the test API server: sync, convergence, and the reflector's rules
// (kube_watch.hpp) under each fault, with the number of LIST calls asserted exactly.
#include <set>

#include "unit/kube_watch_fixture.hpp"

namespace npv::kube {
namespace {

using test::FakeApiServer;
using test::pod_object;
using test::policy_object;
using nlohmann::json;

TEST_F(KubeWatchTest, InitialSyncConvergesWithOneListAndOneWatchPerResource) {
  start_and_sync();
  for (Resource r : kAllResources) {
    EXPECT_EQ(server_->count(to_string(r), "list"), 1) << to_string(r);
    ResourceStats s = watcher_->stats(r);
    EXPECT_TRUE(s.synced);
    EXPECT_EQ(s.lists, 1u);
    EXPECT_EQ(s.relists, 0u);
    EXPECT_EQ(s.errors, 0u);
  }
  ASSERT_TRUE(test::wait_until([&] {
    for (Resource r : kAllResources) {
      if (server_->open_watches(to_string(r)) != 1) return false;
    }
    return true;
  }));
  // The watch starts where the LIST ended, asks for bookmarks and a timeout in the range.
  auto watch = requests_of("pods", "watch").at(0);
  EXPECT_EQ(watch.query.at("resourceVersion"), watcher_->stats(Resource::kPods).resource_version);
  EXPECT_EQ(watch.query.at("allowWatchBookmarks"), "true");
  EXPECT_EQ(watch.query.at("timeoutSeconds"), "60");
  EXPECT_EQ(requests_of("pods", "list").at(0).query.at("limit"), "500");
  auto snap = watcher_->snapshot();
  EXPECT_EQ(snap->state.pods.size(), 3u);
  EXPECT_EQ(snap->state.services.at(0).ports.at(0).target_port, 8080);
  EXPECT_EQ(snap->state.endpoint_slices.at(0).service_name, "web");
}

TEST_F(KubeWatchTest, WatchTimeoutsAreDrawnFromTheConfiguredRange) {
  options_.watch_timeout_min = std::chrono::seconds(30);
  options_.watch_timeout_max = std::chrono::seconds(90);
  start_and_sync();
  std::set<long> timeouts;
  for (Resource r : kAllResources) {
    wait_for_watches(to_string(r), 1);
    long t = std::stol(requests_of(to_string(r), "watch").at(0).query.at("timeoutSeconds"));
    EXPECT_GE(t, 30);
    EXPECT_LE(t, 90);
    timeouts.insert(t);
  }
  EXPECT_GT(timeouts.size(), 1u);  // not one fixed value: watches do not all end together
}

TEST_F(KubeWatchTest, NoSnapshotUntilEveryResourceListed) {
  server_->fail_lists("pods", 500);
  start();
  ASSERT_TRUE(test::wait_until([&] { return server_->count("pods", "list") >= 3; }));  // retried with backoff
  ASSERT_TRUE(test::wait_until([&] { return watcher_->stats(Resource::kNetworkPolicies).synced; }));
  EXPECT_FALSE(watcher_->synced());
  EXPECT_EQ(watcher_->snapshot(), nullptr);  // no verdict before sync
  EXPECT_EQ(watcher_->generation(), 0u);
  EXPECT_FALSE(watcher_->stats(Resource::kPods).synced);
  EXPECT_GE(watcher_->stats(Resource::kPods).errors, 2u);
  EXPECT_THAT(watcher_->stats(Resource::kPods).last_error, ::testing::HasSubstr("HTTP 500"));

  server_->fail_lists("pods", 0);
  ASSERT_TRUE(watcher_->wait_for_generation(0, std::chrono::seconds(10)));
  EXPECT_TRUE(watcher_->synced());
  expect_converged();
}

TEST_F(KubeWatchTest, LiveChangesConvergeWithoutListing) {
  start_and_sync();
  server_->apply("pods", pod_object("shop", "web-1", {{"app", "web"}, {"track", "canary"}}, "10.0.0.5"));
  server_->apply("pods", pod_object("shop", "web-2", {{"app", "web"}}, "10.0.0.9"));
  server_->remove("pods", "ops", "probe");
  server_->apply("networkpolicies", policy_object("ops", "deny-all", {{"podSelector", json::object()}}));
  server_->remove("networkpolicies", "shop", "default-deny");
  server_->apply("namespaces", test::namespace_object("ops", {{"team", "platform"}}));
  server_->apply("endpointslices", test::endpoint_slice_object("shop", "web-x7k2p", "web", {"10.0.0.5", "10.0.0.9"}, 8080));
  expect_converged();
  for (Resource r : kAllResources) EXPECT_EQ(server_->count(to_string(r), "list"), 1) << to_string(r);
  EXPECT_EQ(watcher_->stats(Resource::kPods).events, 3u);
  auto snap = watcher_->snapshot();
  EXPECT_EQ(snap->state.endpoint_slices.at(0).endpoints.size(), 2u);
  EXPECT_TRUE(snap->state.find_pod_by_ip(*IpAddr::parse("10.0.0.9")));
}

TEST_F(KubeWatchTest, BookmarkOnlyStreamRewatchesFromTheBookmarkWithoutListing) {
  start_and_sync();
  wait_for_watches("pods", 1);
  const std::string bookmark_rv = server_->resource_version();
  server_->send_bookmark("pods");
  ASSERT_TRUE(test::wait_until([&] { return watcher_->stats(Resource::kPods).bookmarks == 1; }));
  server_->end_watches("pods");  // the stream ends as at timeoutSeconds
  wait_for_watches("pods", 2);
  EXPECT_EQ(requests_of("pods", "watch").at(1).query.at("resourceVersion"), bookmark_rv);
  EXPECT_EQ(server_->count("pods", "list"), 1);
  EXPECT_EQ(watcher_->stats(Resource::kPods).errors, 0u);
  EXPECT_TRUE(watcher_->stats(Resource::kPods).last_event_time.has_value());
}

TEST_F(KubeWatchTest, DroppedConnectionRewatchesFromTheLastEventWithoutListing) {
  start_and_sync();
  wait_for_watches("pods", 1);
  const std::string last = server_->apply("pods", pod_object("shop", "web-2", {{"app", "web"}}, "10.0.0.9"));
  expect_converged();
  server_->drop_watches("pods");  // half an event, then the connection is cut
  wait_for_watches("pods", 2);
  EXPECT_EQ(requests_of("pods", "watch").at(1).query.at("resourceVersion"), last);
  server_->apply("pods", pod_object("shop", "web-3", {{"app", "web"}}, "10.0.0.10"));
  expect_converged();  // and the half event ("half") was not applied
  EXPECT_EQ(server_->count("pods", "list"), 1);
  EXPECT_GE(watcher_->stats(Resource::kPods).errors, 1u);
}

TEST_F(KubeWatchTest, Http410OnWatchRelistsExactlyOnce) {
  options_of_server_.expired_watch = test::ExpiredWatch::kHttp410;
  restart_server();
  start_and_sync();
  wait_for_watches("pods", 1);
  settle_watch("pods", Resource::kPods);
  server_->compact("pods");  // history gone; the open watch ends normally
  ASSERT_TRUE(test::wait_until([&] { return server_->count("pods", "list") == 2 && server_->open_watches("pods") == 1; }))
      << verbs_and_statuses("pods");
  EXPECT_EQ(verbs_and_statuses("pods"), "list 200, watch 200, watch 410, list 200, watch 200");
  server_->apply("pods", pod_object("shop", "web-2", {{"app", "web"}}, "10.0.0.9"));
  expect_converged();
  EXPECT_EQ(watcher_->stats(Resource::kPods).relists, 1u);
  EXPECT_EQ(watcher_->stats(Resource::kPods).errors, 0u);
  for (Resource r : {Resource::kNamespaces, Resource::kNetworkPolicies}) EXPECT_EQ(server_->count(to_string(r), "list"), 1);
}

TEST_F(KubeWatchTest, Error410EventInsideA200StreamRelistsAtOnce) {
  start_and_sync();
  wait_for_watches("pods", 1);
  server_->send_error_gone("pods");
  server_->apply("pods", pod_object("shop", "web-2", {{"app", "web"}}, "10.0.0.9"));
  expect_converged();
  ASSERT_TRUE(test::wait_until([&] { return server_->count("pods", "list") == 2 && server_->open_watches("pods") == 1; }));
  // No re-watch between the ERROR event and the LIST.
  EXPECT_EQ(verbs_and_statuses("pods"), "list 200, watch 200, list 200, watch 200");
  EXPECT_EQ(watcher_->stats(Resource::kPods).relists, 1u);
}

TEST_F(KubeWatchTest, ExpiredRewatchAnsweredWithErrorEventRelistsOnce) {
  start_and_sync();  // the server refuses expired watches with 200 + ERROR 410, like the API server
  wait_for_watches("pods", 1);
  settle_watch("pods", Resource::kPods);
  server_->compact("pods");
  ASSERT_TRUE(test::wait_until([&] { return server_->count("pods", "list") == 2 && server_->open_watches("pods") == 1; }));
  EXPECT_EQ(verbs_and_statuses("pods"), "list 200, watch 200, watch 200, list 200, watch 200");
  expect_converged();
}

TEST_F(KubeWatchTest, MalformedEventRewatchesFromTheLastGoodVersionWithoutListing) {
  start_and_sync();
  wait_for_watches("pods", 1);
  const std::string last = server_->apply("pods", pod_object("shop", "web-2", {{"app", "web"}}, "10.0.0.9"));
  expect_converged();
  server_->send_malformed("pods");
  wait_for_watches("pods", 2);
  EXPECT_EQ(requests_of("pods", "watch").at(1).query.at("resourceVersion"), last);
  server_->apply("pods", pod_object("shop", "web-3", {{"app", "web"}}, "10.0.0.10"));
  expect_converged();
  EXPECT_EQ(server_->count("pods", "list"), 1);
  EXPECT_EQ(watcher_->stats(Resource::kPods).malformed_events, 1u);
  EXPECT_EQ(watcher_->stats(Resource::kPods).errors, 1u);
}

TEST_F(KubeWatchTest, ServerThatStopsAnsweringIsDetectedAndRecovered) {
  options_.dead_timeout = std::chrono::milliseconds(700);
  start_and_sync();
  wait_for_watches("pods", 1);
  server_->set_stalled(true);  // open watches go silent, new requests hang
  server_->apply("pods", pod_object("shop", "web-2", {{"app", "web"}}, "10.0.0.9"));
  ASSERT_TRUE(test::wait_until([&] { return watcher_->stats(Resource::kPods).dead_connections >= 2; }));
  EXPECT_EQ(watcher_->snapshot()->state.pods.size(), 3u);  // the change is not known yet
  server_->set_stalled(false);
  expect_converged();
  EXPECT_EQ(server_->count("pods", "list"), 1);
  EXPECT_GE(watcher_->stats(Resource::kPods).errors, 2u);
}

TEST_F(KubeWatchTest, ExpiredContinueTokenRestartsTheList) {
  for (int i = 0; i < 4; ++i) {
    server_->apply("pods", pod_object("ops", "batch-" + std::to_string(i), {{"app", "batch"}}, "10.0.2." + std::to_string(i + 1)));
  }
  options_.page_size = 3;  // 7 pods: pages of 3, 3, 1
  server_->expire_next_continues(1);
  start_and_sync();
  // First attempt: page 1, then 410 on page 2; then pages 1, 2, 3.
  EXPECT_EQ(verbs_and_statuses("pods").substr(0, 48), "list 200, list 410, list 200, list 200, list 200");
  EXPECT_EQ(requests_of("pods", "list").at(2).query.count("continue"), 0u);
  EXPECT_EQ(watcher_->stats(Resource::kPods).lists, 1u);
  EXPECT_EQ(watcher_->snapshot()->state.pods.size(), 7u);
}

}  // namespace
}  // namespace npv::kube
