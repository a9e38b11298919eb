// Fixture of the ClusterWatcher tests: a FakeApiServer seeded with a small cluster, a watcher with
// fast backoffs, and helpers that wait for conditions (never for a fixed time).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "npv/kube_watch.hpp"
#include "support/fake_api_server.hpp"
#include "support/kube_fixtures.hpp"

namespace npv::kube {

class KubeWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.watch_timeout_min = options_.watch_timeout_max = std::chrono::seconds(60);
    options_.backoff_base = std::chrono::milliseconds(10);
    options_.backoff_cap = std::chrono::milliseconds(100);
    options_.dead_timeout = std::chrono::seconds(30);
    options_.debounce = std::chrono::milliseconds(20);
    options_.seed = 1;
    restart_server();
  }
  void TearDown() override {
    watcher_.reset();  // stops before the server goes
    server_.reset();
  }

  void restart_server() {
    watcher_.reset();
    server_ = std::make_unique<test::FakeApiServer>(options_of_server_);
    test::seed_cluster(*server_);
  }

  // A watcher for the server with options_, not started.
  void make_watcher() {
    KubeConfig config = client_config_;
    config.server = server_->url();
    auto client = KubeClient::create(config);
    ASSERT_TRUE(client) << client.error().message;
    watcher_ = std::make_unique<ClusterWatcher>(*client, options_);
  }

  void start() {
    make_watcher();
    watcher_->start();
  }

  void start_and_sync() {
    start();
    ASSERT_TRUE(watcher_->wait_for_generation(0, std::chrono::seconds(10))) << "never synced";
    EXPECT_TRUE(watcher_->synced());
    expect_converged();
  }

  // Waits until the watcher's snapshot describes what the server holds.
  void expect_converged() {
    std::string mine, theirs;
    bool ok = test::wait_until([&] {
      auto snap = watcher_->snapshot();
      mine = snap ? test::describe(snap->state) : "(no snapshot)";
      theirs = test::describe_server(*server_);
      return mine == theirs;
    });
    EXPECT_TRUE(ok) << "watcher:\n" << mine << "server:\n" << theirs;
  }

  // Waits until `resource` has had `n` WATCH requests and one is open.
  void wait_for_watches(const std::string& resource, int n) {
    ASSERT_TRUE(test::wait_until([&] { return server_->count(resource, "watch") >= n && server_->open_watches(resource) == 1; }))
        << resource << ": " << verbs_and_statuses(resource);
    EXPECT_EQ(server_->count(resource, "watch"), n) << verbs_and_statuses(resource);
  }

  // Makes the open watch of `resource` receive something (a bookmark), so that its end counts
  // as a normal end rather than a suspiciously short watch.
  void settle_watch(const std::string& resource, Resource r) {
    auto before = watcher_->stats(r).bookmarks;
    server_->send_bookmark(resource);
    ASSERT_TRUE(test::wait_until([&] { return watcher_->stats(r).bookmarks > before; }));
  }

  std::vector<test::RecordedRequest> requests_of(const std::string& resource, const std::string& verb) const {
    std::vector<test::RecordedRequest> out;
    for (auto& r : server_->requests()) {
      if (r.resource == resource && r.verb == verb) out.push_back(r);
    }
    return out;
  }

  // "list 200, watch 200, watch 410, ..." for one resource, in request order.
  std::string verbs_and_statuses(const std::string& resource) const {
    std::string out;
    for (auto& r : server_->requests()) {
      if (r.resource != resource) continue;
      out += (out.empty() ? "" : ", ") + r.verb + " " + std::to_string(r.status);
    }
    return out;
  }

  test::FakeApiServerOptions options_of_server_;
  KubeConfig client_config_;  // server is filled in by make_watcher()
  WatchOptions options_;
  std::unique_ptr<test::FakeApiServer> server_;
  std::unique_ptr<ClusterWatcher> watcher_;
};

}  // namespace npv::kube
