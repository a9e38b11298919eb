// EventRecorder against the test API server (rules in kube_events.hpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "npv/kube_events.hpp"
#include "npv/model.hpp"
#include "support/fake_api_server.hpp"

namespace npv::kube {
namespace {

using nlohmann::json;
using test::FakeApiServer;
using namespace std::chrono_literals;

class KubeEventsTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = std::make_unique<FakeApiServer>(); }

  // Options for a test: a fast retry and a generous rate unless the test sets its own.
  static EventRecorderOptions fast() {
    EventRecorderOptions o;
    o.qps = 1000;
    o.retry_delay = std::chrono::milliseconds(10);
    return o;
  }

  std::unique_ptr<EventRecorder> recorder(EventRecorderOptions o = fast()) {
    KubeConfig config;
    config.server = server_->url();
    auto client = KubeClient::create(config);
    EXPECT_TRUE(client);
    o.host = "node-1";
    // A fake wall clock: every reading is one second later.
    o.clock = [this] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000 + ticks_++)); };
    return std::make_unique<EventRecorder>(*client, o);
  }

  std::vector<test::RecordedRequest> event_requests() const {
    std::vector<test::RecordedRequest> out;
    for (auto& r : server_->requests()) {
      if (r.resource == "events") out.push_back(r);
    }
    return out;
  }

  const ObjectRef policy_{"NetworkPolicy", "networking.k8s.io/v1", "shop", "allow-web-to-db", "8d1f-uid"};
  std::unique_ptr<FakeApiServer> server_;
  std::atomic<long> ticks_{0};
};

TEST_F(KubeEventsTest, CreatesThenPatchesTheSameEventWithItsCount) {
  auto rec = recorder();
  ASSERT_TRUE(rec->record(policy_, "Warning", "SilentNonEnforcement", "shop/web-1 -> shop/db-1:5432/TCP was established"));
  ASSERT_TRUE(rec->flush(10s));
  auto events = server_->events();
  ASSERT_EQ(events.size(), 1u);
  const json e = events[0];
  EXPECT_EQ(e["metadata"]["namespace"], "shop");
  EXPECT_THAT(e["metadata"]["name"].get<std::string>(), ::testing::StartsWith("allow-web-to-db."));
  EXPECT_EQ(e["involvedObject"],
            (json{{"kind", "NetworkPolicy"}, {"apiVersion", "networking.k8s.io/v1"}, {"namespace", "shop"},
                  {"name", "allow-web-to-db"}, {"uid", "8d1f-uid"}}));
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["reason"], "SilentNonEnforcement");
  EXPECT_EQ(e["source"], (json{{"component", "npv-agent"}, {"host", "node-1"}}));
  EXPECT_EQ(e["reportingComponent"], "npv-agent");
  EXPECT_EQ(e["reportingInstance"], "node-1");
  EXPECT_EQ(e["count"], 1);
  EXPECT_EQ(e["firstTimestamp"], e["lastTimestamp"]);
  EXPECT_TRUE(is_rfc3339_utc(e["firstTimestamp"].get<std::string>()));
  const std::string first = e["firstTimestamp"];

  ASSERT_TRUE(rec->record(policy_, "Warning", "SilentNonEnforcement", "shop/web-1 -> shop/db-1:5432/TCP was established"));
  ASSERT_TRUE(rec->flush(10s));
  events = server_->events();
  ASSERT_EQ(events.size(), 1u);  // the same Event, patched
  EXPECT_EQ(events[0]["count"], 2);
  EXPECT_EQ(events[0]["firstTimestamp"], first);
  EXPECT_GT(events[0]["lastTimestamp"].get<std::string>(), first);
  auto requests = event_requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/api/v1/namespaces/shop/events");
  EXPECT_EQ(requests[1].method, "PATCH");
  EXPECT_EQ(requests[1].path, "/api/v1/namespaces/shop/events/" + e["metadata"]["name"].get<std::string>());
  EXPECT_EQ(requests[1].content_type, "application/strategic-merge-patch+json");
  EXPECT_EQ(json::parse(requests[1].body)["count"], 2);

  // Another message is another Event.
  ASSERT_TRUE(rec->record(policy_, "Warning", "SilentNonEnforcement", "shop/web-2 -> shop/db-1:5432/TCP was established"));
  ASSERT_TRUE(rec->flush(10s));
  EXPECT_EQ(server_->events().size(), 2u);
  auto stats = rec->stats();
  EXPECT_EQ(stats.created, 2u);
  EXPECT_EQ(stats.patched, 1u);
  EXPECT_EQ(stats.failed, 0u);
}

TEST_F(KubeEventsTest, RepeatsAreMergedOrPatchedAndTheCountIsExact) {
  EventRecorderOptions o = fast();
  o.qps = 2;  // slow enough that repeats pile up behind the first request
  o.burst = 1;
  auto rec = recorder(o);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(rec->record(policy_, "Warning", "UnexpectedDrop", "dropped"));
  ASSERT_TRUE(rec->flush(20s));
  auto events = server_->events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["count"], 6);
  auto stats = rec->stats();
  EXPECT_EQ(stats.recorded, 6u);
  EXPECT_EQ(stats.created, 1u);
  EXPECT_EQ(stats.patched + stats.merged, 5u);  // each repeat went out in a PATCH or merged into one
  EXPECT_EQ(event_requests().size(), 1u + stats.patched);
}

TEST_F(KubeEventsTest, APatchOfAVanishedEventCreatesItAgain) {
  auto rec = recorder();
  ASSERT_TRUE(rec->record(policy_, "Warning", "UnexpectedDrop", "dropped"));
  ASSERT_TRUE(rec->flush(10s));
  const std::string name = server_->events().at(0)["metadata"]["name"];
  ASSERT_TRUE(server_->remove_event("shop", name));  // events expire after an hour by default
  ASSERT_TRUE(rec->record(policy_, "Warning", "UnexpectedDrop", "dropped"));
  ASSERT_TRUE(rec->flush(10s));
  auto events = server_->events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0]["metadata"]["name"], name);
  EXPECT_EQ(events[0]["count"], 2);
  auto requests = event_requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].status, 404);
  EXPECT_EQ(requests[2].method, "POST");
}

TEST_F(KubeEventsTest, ClusterScopedObjectsReportInTheDefaultNamespace) {
  auto rec = recorder();
  ASSERT_TRUE(rec->record(ObjectRef{"Namespace", "v1", "", "shop", "ns-uid"}, "Normal", "Synced", "ok"));
  ASSERT_TRUE(rec->flush(10s));
  auto e = server_->events().at(0);
  EXPECT_EQ(e["metadata"]["namespace"], "default");
  EXPECT_FALSE(e["involvedObject"].contains("namespace"));
  EXPECT_EQ(event_requests().at(0).path, "/api/v1/namespaces/default/events");
}

TEST_F(KubeEventsTest, ServerErrorsAreRetriedAndRejectionsCounted) {
  auto rec = recorder();
  server_->fail_next_events(503, 1);
  ASSERT_TRUE(rec->record(policy_, "Warning", "UnexpectedDrop", "dropped"));
  ASSERT_TRUE(rec->flush(10s));
  EXPECT_EQ(server_->events().size(), 1u);
  EXPECT_EQ(event_requests().size(), 2u);

  server_->fail_next_events(422, 1);  // the API rejects it: logged, counted, not retried
  ASSERT_TRUE(rec->record(policy_, "Warning", "Other", "x"));
  ASSERT_TRUE(rec->flush(10s));
  auto stats = rec->stats();
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.created, 1u);
  EXPECT_EQ(event_requests().size(), 3u);

  server_->fail_next_events(500, 10);  // down for good: given up after max_attempts
  ASSERT_TRUE(rec->record(policy_, "Warning", "Third", "y"));
  ASSERT_TRUE(rec->flush(10s));
  EXPECT_EQ(rec->stats().failed, 2u);
  EXPECT_EQ(event_requests().size(), 6u);
}

TEST_F(KubeEventsTest, NeverBlocksTheCallerAndBoundsTheQueue) {
  server_->set_stalled(true);  // the first request hangs
  EventRecorderOptions o = fast();
  o.max_pending = 1;
  o.request_timeout = 60s;
  auto rec = recorder(o);
  int accepted = 0;
  for (int i = 0; i < 3; ++i) accepted += rec->record(policy_, "Warning", "Drop", "flow " + std::to_string(i)) ? 1 : 0;
  EXPECT_LE(accepted, 2);  // one in flight, one pending
  EXPECT_EQ(rec->stats().dropped, static_cast<std::uint64_t>(3 - accepted));
  // Destruction cancels the hung request at once.
  auto done = std::async(std::launch::async, [&] { rec.reset(); });
  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  server_->set_stalled(false);
}

}  // namespace
}  // namespace npv::kube
