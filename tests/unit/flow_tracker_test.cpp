// FlowTracker (flow_tracker.hpp) with synthetic npv_events and explicit timestamps: every joining
// rule, emission timing (settle, timeouts, flush), LRU eviction, IPv6, pod attribution and the
// renderers' exact output.
#include "npv/flow_tracker.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "support/manifest_builder.hpp"

namespace npv {
namespace {

using nlohmann::json;

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint32_t kNetfilterDrop = 42;  // a made-up kernel enum value, named by the options

// One synthetic event; setters chain: Ev(...).err(ECONNREFUSED).
struct Ev {
  npv_event e{};
  Ev(npv_event_type type, std::string_view src, std::uint16_t sport, std::string_view dst, std::uint16_t dport,
     std::uint64_t ts_ms) {
    const IpAddr s = *IpAddr::parse(src), d = *IpAddr::parse(dst);
    e.type = static_cast<std::uint8_t>(type);
    e.family = s.family == 4 ? AF_INET : AF_INET6;
    e.protocol = type == NPV_EV_UDP_SENT || type == NPV_EV_UDP_DELIVERED ? IPPROTO_UDP : IPPROTO_TCP;
    std::memcpy(e.saddr, s.bytes.data(), 16);
    std::memcpy(e.daddr, d.bytes.data(), 16);
    e.sport = sport;
    e.dport = dport;
    e.ts_ns = ts_ms * kMs;
  }
  Ev& udp() { e.protocol = IPPROTO_UDP; return *this; }
  Ev& netns(std::uint32_t n) { e.netns = n; return *this; }
  Ev& err(int sk_err) { e.sk_err = sk_err; return *this; }
  Ev& reason(std::uint32_t r) { e.drop_reason = r; return *this; }
  Ev& flags(std::uint8_t f) { e.tcp_flags = f; return *this; }
};

// The standard flow: client 10.0.0.1:40000 -> server 10.0.0.2:80.
Ev c2s(npv_event_type type, std::uint64_t ts_ms) { return Ev(type, "10.0.0.1", 40000, "10.0.0.2", 80, ts_ms); }
// Its reply direction (what a dropped SYN-ACK carries).
Ev s2c(npv_event_type type, std::uint64_t ts_ms) { return Ev(type, "10.0.0.2", 80, "10.0.0.1", 40000, ts_ms); }

TrackerOptions named_drops() {
  TrackerOptions o;
  o.drop_reason_name = [](std::uint32_t r) { return r == kNetfilterDrop ? std::string("NETFILTER_DROP") : ""; };
  return o;
}

// Feeds events, then returns what is complete `settle_ms` after the last one (250 ms default).
std::vector<ObservedFlow> run(FlowTracker& t, std::initializer_list<Ev> events, std::uint64_t at_ms) {
  for (const Ev& ev : events) t.on_event(ev.e);
  return t.take_completed(at_ms * kMs);
}

TEST(FlowTracker, OutcomeNames) {
  EXPECT_STREQ(to_string(Outcome::kEstablished), "established");
  EXPECT_STREQ(to_string(Outcome::kRefused), "refused");
  EXPECT_STREQ(to_string(Outcome::kTimeout), "timeout");
  EXPECT_STREQ(to_string(Outcome::kUnreachable), "unreachable");
  EXPECT_STREQ(to_string(Outcome::kDelivered), "delivered");
  EXPECT_STREQ(to_string(Outcome::kDropped), "dropped");
  EXPECT_STREQ(to_string(Outcome::kNotDelivered), "not_delivered");
}

TEST(FlowTracker, DecodeTuple) {
  auto v4 = decode_tuple(c2s(NPV_EV_TCP_SYN_SENT, 0).e);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->src.to_string(), "10.0.0.1");
  EXPECT_EQ(v4->dst.to_string(), "10.0.0.2");
  EXPECT_EQ(v4->src, *IpAddr::parse("10.0.0.1"));  // bytes past the first 4 are zero
  EXPECT_EQ(v4->src_port, 40000);
  EXPECT_EQ(v4->dst_port, 80);
  EXPECT_EQ(v4->proto, Protocol::kTCP);
  EXPECT_EQ(v4->reversed().src.to_string(), "10.0.0.2");

  Ev v4_garbage = c2s(NPV_EV_TCP_SYN_SENT, 0);
  v4_garbage.e.saddr[7] = 0xff;  // beyond an IPv4 address: ignored
  EXPECT_EQ(decode_tuple(v4_garbage.e)->src, *IpAddr::parse("10.0.0.1"));

  auto v6 = decode_tuple(Ev(NPV_EV_UDP_SENT, "fd00::1", 5353, "fd00::2", 53, 0).e);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->src.family, 6);
  EXPECT_EQ(v6->dst.to_string(), "fd00::2");
  EXPECT_EQ(v6->proto, Protocol::kUDP);

  Ev sctp = c2s(NPV_EV_DROP, 0);
  sctp.e.protocol = IPPROTO_SCTP;
  EXPECT_EQ(decode_tuple(sctp.e)->proto, Protocol::kSCTP);
  Ev bad_family = c2s(NPV_EV_TCP_SYN_SENT, 0);
  bad_family.e.family = 0;
  EXPECT_FALSE(decode_tuple(bad_family.e));
  Ev bad_proto = c2s(NPV_EV_TCP_SYN_SENT, 0);
  bad_proto.e.protocol = IPPROTO_ICMP;
  EXPECT_FALSE(decode_tuple(bad_proto.e));
}

TEST(FlowTracker, EstablishedClientOnly) {
  FlowTracker t(nullptr, {});
  auto flows = run(t, {c2s(NPV_EV_TCP_SYN_SENT, 10).netns(7), c2s(NPV_EV_TCP_ESTABLISHED, 11).netns(7)}, 261);
  ASSERT_EQ(flows.size(), 1u);
  const ObservedFlow& f = flows[0];
  EXPECT_EQ(f.outcome, Outcome::kEstablished);
  EXPECT_EQ(f.src.to_string(), "10.0.0.1");
  EXPECT_EQ(f.dst.to_string(), "10.0.0.2");
  EXPECT_EQ(f.src_port, 40000);
  EXPECT_EQ(f.dst_port, 80);
  EXPECT_EQ(f.proto, Protocol::kTCP);
  EXPECT_TRUE(f.client_seen);
  EXPECT_FALSE(f.server_seen);
  EXPECT_EQ(f.src_netns, 7u);
  EXPECT_EQ(f.dst_netns, 0u);
  EXPECT_EQ(f.first_ns, 10 * kMs);
  EXPECT_EQ(f.last_ns, 11 * kMs);
  EXPECT_FALSE(f.src_pod);
  EXPECT_TRUE(f.drop_reason.empty());
}

TEST(FlowTracker, EstablishedBothEndsMergedIntoOneFlow) {
  FlowTracker t(nullptr, {});
  auto flows = run(t,
                   {c2s(NPV_EV_TCP_SYN_SENT, 10).netns(7), c2s(NPV_EV_TCP_ACCEPTED, 11).netns(9),
                    c2s(NPV_EV_TCP_ESTABLISHED, 11).netns(7)},
                   1000);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kEstablished);
  EXPECT_TRUE(flows[0].client_seen);
  EXPECT_TRUE(flows[0].server_seen);
  EXPECT_EQ(flows[0].src_netns, 7u);
  EXPECT_EQ(flows[0].dst_netns, 9u);
  EXPECT_EQ(t.stats().flows_emitted, 1u);
  EXPECT_EQ(t.stats().events, 3u);
  EXPECT_EQ(t.stats().pending, 0u);
}

TEST(FlowTracker, ServerEventArrivingFirstStillMerges) {
  // Rule 7: separate ring buffers may deliver the server's ACCEPTED before the client's events.
  FlowTracker t(nullptr, {});
  auto flows = run(t,
                   {c2s(NPV_EV_TCP_ACCEPTED, 12), c2s(NPV_EV_TCP_SYN_SENT, 10), c2s(NPV_EV_TCP_ESTABLISHED, 11)},
                   1000);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kEstablished);
  EXPECT_TRUE(flows[0].client_seen && flows[0].server_seen);
  EXPECT_EQ(flows[0].first_ns, 10 * kMs);
  EXPECT_EQ(flows[0].last_ns, 12 * kMs);
}

TEST(FlowTracker, ServerOnlyAccepted) {
  FlowTracker t(nullptr, {});
  auto flows = run(t, {c2s(NPV_EV_TCP_ACCEPTED, 10).netns(9)}, 260);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kEstablished);
  EXPECT_FALSE(flows[0].client_seen);
  EXPECT_TRUE(flows[0].server_seen);
  EXPECT_EQ(flows[0].dst_netns, 9u);
  EXPECT_EQ(flows[0].src_netns, 0u);
}

TEST(FlowTracker, RefusedAfterReset) {
  FlowTracker t(nullptr, {});
  auto flows = run(t,
                   {c2s(NPV_EV_TCP_SYN_SENT, 10), c2s(NPV_EV_TCP_RST_RECEIVED, 11),
                    c2s(NPV_EV_TCP_CLOSED, 11).err(ECONNREFUSED)},
                   1000);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kRefused);
  EXPECT_EQ(flows[0].sk_err, ECONNREFUSED);
}

TEST(FlowTracker, ConnRefusedWithoutResetIsUnreachable) {
  // An ICMP port-unreachable (nftables `reject`) also gives ECONNREFUSED, but no RST arrived.
  FlowTracker t(nullptr, {});
  auto flows = run(t, {c2s(NPV_EV_TCP_SYN_SENT, 10), c2s(NPV_EV_TCP_CLOSED, 11).err(ECONNREFUSED)}, 1000);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kUnreachable);
}

TEST(FlowTracker, UnreachableErrors) {
  for (int err : {EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN, EACCES, EPERM, EADDRNOTAVAIL}) {
    FlowTracker t(nullptr, {});
    auto flows = run(t, {c2s(NPV_EV_TCP_SYN_SENT, 10), c2s(NPV_EV_TCP_CLOSED, 11).err(err)}, 1000);
    ASSERT_EQ(flows.size(), 1u) << err;
    EXPECT_EQ(flows[0].outcome, Outcome::kUnreachable) << err;
    EXPECT_EQ(flows[0].sk_err, err);
  }
}

TEST(FlowTracker, TimeoutExplainedByNamedNetfilterDrop) {
  FlowTracker t(nullptr, named_drops());
  auto flows = run(t,
                   {c2s(NPV_EV_TCP_SYN_SENT, 10), c2s(NPV_EV_DROP, 10).reason(kNetfilterDrop).netns(9),
                    c2s(NPV_EV_DROP, 1010).reason(7), c2s(NPV_EV_TCP_CLOSED, 2000).err(0)},
                   2250);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kTimeout);
  EXPECT_EQ(flows[0].drop_reason, "NETFILTER_DROP");  // the first drop explains it
  EXPECT_EQ(flows[0].dst_netns, 0u);                  // a drop says nothing about either end's netns
  EXPECT_EQ(t.stats().unmatched_drops, 0u);

  FlowTracker etimedout(nullptr, {});
  flows = run(etimedout, {c2s(NPV_EV_TCP_SYN_SENT, 10), c2s(NPV_EV_TCP_CLOSED, 20).err(ETIMEDOUT)}, 1000);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kTimeout);
  EXPECT_TRUE(flows[0].drop_reason.empty());
}

TEST(FlowTracker, DropReasonIsTheNumberWithoutAName) {
  FlowTracker t(nullptr, named_drops());  // the namer knows 42 only: 7 stays a number
  auto flows = run(t, {c2s(NPV_EV_TCP_SYN_SENT, 10), c2s(NPV_EV_DROP, 11).reason(7), c2s(NPV_EV_TCP_CLOSED, 20)}, 1000);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].drop_reason, "7");
}

TEST(FlowTracker, DroppedSynAckJoinsByReversedKey) {
  FlowTracker t(nullptr, named_drops());
  auto flows = run(t,
                   {c2s(NPV_EV_TCP_SYN_SENT, 10), s2c(NPV_EV_DROP, 11).reason(kNetfilterDrop),
                    c2s(NPV_EV_TCP_CLOSED, 3000).err(ETIMEDOUT)},
                   3250);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kTimeout);
  EXPECT_EQ(flows[0].src.to_string(), "10.0.0.1");  // oriented client -> server
  EXPECT_EQ(flows[0].dst_port, 80);
  EXPECT_EQ(flows[0].drop_reason, "NETFILTER_DROP");
  EXPECT_EQ(t.stats().unmatched_drops, 0u);
}

TEST(FlowTracker, DropArrivingBeforeItsFlowIsAdopted) {
  // Rule 7: the drop's ring buffer was read first. Reply direction, then forward direction.
  for (bool reply : {true, false}) {
    FlowTracker t(nullptr, named_drops());
    Ev drop = reply ? s2c(NPV_EV_DROP, 12) : c2s(NPV_EV_DROP, 12);
    auto flows = run(t, {drop.reason(kNetfilterDrop), c2s(NPV_EV_TCP_SYN_SENT, 10), c2s(NPV_EV_TCP_CLOSED, 900)}, 1200);
    ASSERT_EQ(flows.size(), 1u) << reply;
    EXPECT_EQ(flows[0].outcome, Outcome::kTimeout);
    EXPECT_EQ(flows[0].src.to_string(), "10.0.0.1");
    EXPECT_EQ(flows[0].drop_reason, "NETFILTER_DROP");
    EXPECT_EQ(flows[0].first_ns, 10 * kMs);
    EXPECT_EQ(t.stats().unmatched_drops, 0u);
  }
}

TEST(FlowTracker, UnmatchedTcpDropIsCountedNotEmitted) {
  FlowTracker t(nullptr, {});
  EXPECT_TRUE(run(t, {c2s(NPV_EV_DROP, 10).reason(3)}, 259).empty());
  EXPECT_EQ(t.stats().pending, 1u);  // kept for `settle`, in case its flow's events are late
  EXPECT_TRUE(t.take_completed(260 * kMs).empty());
  EXPECT_EQ(t.stats().unmatched_drops, 1u);
  EXPECT_EQ(t.stats().pending, 0u);
  EXPECT_EQ(t.stats().flows_emitted, 0u);
}

TEST(FlowTracker, AttemptWithoutOutcomeTimesOut) {
  TrackerOptions o;
  o.tcp_attempt_timeout = std::chrono::seconds(30);
  FlowTracker t(nullptr, o);
  EXPECT_TRUE(run(t, {c2s(NPV_EV_TCP_SYN_SENT, 10)}, 29'000).empty());
  EXPECT_TRUE(t.take_completed(30'009 * kMs).empty());
  auto flows = t.take_completed(30'010 * kMs);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kTimeout);
  EXPECT_EQ(flows[0].sk_err, 0);
}

TEST(FlowTracker, UdpDeliveredOnce) {
  FlowTracker t(nullptr, {});
  auto flows = run(t, {c2s(NPV_EV_UDP_SENT, 10).netns(7), c2s(NPV_EV_UDP_DELIVERED, 11).netns(9)}, 300);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kDelivered);
  EXPECT_EQ(flows[0].proto, Protocol::kUDP);
  EXPECT_TRUE(flows[0].client_seen && flows[0].server_seen);
  EXPECT_EQ(flows[0].src_netns, 7u);
  EXPECT_EQ(flows[0].dst_netns, 9u);
  EXPECT_TRUE(t.flush().empty());
}

TEST(FlowTracker, UdpDeliveredSeenByReceiverOnly) {
  FlowTracker t(nullptr, {});
  auto flows = run(t, {c2s(NPV_EV_UDP_DELIVERED, 10)}, 300);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kDelivered);
  EXPECT_FALSE(flows[0].client_seen);
  EXPECT_TRUE(flows[0].server_seen);
}

TEST(FlowTracker, UdpDropped) {
  FlowTracker t(nullptr, named_drops());
  auto flows = run(t, {c2s(NPV_EV_UDP_SENT, 10), c2s(NPV_EV_DROP, 11).udp().reason(kNetfilterDrop)}, 300);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kDropped);
  EXPECT_EQ(flows[0].drop_reason, "NETFILTER_DROP");
  EXPECT_TRUE(flows[0].client_seen);
  EXPECT_FALSE(flows[0].server_seen);
}

TEST(FlowTracker, UdpDropSeenAloneIsADroppedFlow) {
  FlowTracker t(nullptr, {});
  auto flows = run(t, {c2s(NPV_EV_DROP, 10).udp().reason(5)}, 260);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kDropped);
  EXPECT_FALSE(flows[0].client_seen || flows[0].server_seen);
  EXPECT_EQ(t.stats().unmatched_drops, 0u);
}

TEST(FlowTracker, UdpDeliveryWinsOverADrop) {
  FlowTracker t(nullptr, {});
  auto flows = run(t,
                   {c2s(NPV_EV_UDP_SENT, 10), c2s(NPV_EV_DROP, 11).udp().reason(5), c2s(NPV_EV_UDP_DELIVERED, 200)},
                   500);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kDelivered);
  EXPECT_EQ(flows[0].drop_reason, "5");
}

TEST(FlowTracker, UdpNotDeliveredAfterTimeout) {
  FlowTracker t(nullptr, {});  // udp_timeout 1 s
  t.on_event(c2s(NPV_EV_UDP_SENT, 10).e);
  EXPECT_TRUE(t.take_completed(1009 * kMs).empty());
  auto flows = t.take_completed(1010 * kMs);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kNotDelivered);
  EXPECT_TRUE(flows[0].client_seen);
  EXPECT_FALSE(flows[0].server_seen);
}

TEST(FlowTracker, SettleDelayLetsLateEvidenceJoin) {
  FlowTracker t(nullptr, {});  // settle 250 ms
  t.on_event(c2s(NPV_EV_TCP_SYN_SENT, 10).e);
  t.on_event(c2s(NPV_EV_TCP_ESTABLISHED, 11).e);
  EXPECT_TRUE(t.take_completed(260 * kMs).empty());  // 249 ms after the last event
  t.on_event(c2s(NPV_EV_TCP_ACCEPTED, 200).e);       // late: restarts the settle time
  EXPECT_TRUE(t.take_completed(449 * kMs).empty());
  auto flows = t.take_completed(450 * kMs);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_TRUE(flows[0].server_seen);
  EXPECT_TRUE(t.take_completed(10'000 * kMs).empty());  // emitted once
}

TEST(FlowTracker, FlushEmitsEverythingPending) {
  FlowTracker t(nullptr, {});
  t.on_event(Ev(NPV_EV_UDP_SENT, "10.0.0.3", 5000, "10.0.0.4", 53, 30).e);  // pending UDP
  t.on_event(c2s(NPV_EV_TCP_SYN_SENT, 20).e);                                // pending attempt
  t.on_event(Ev(NPV_EV_TCP_ACCEPTED, "10.0.0.5", 1, "10.0.0.6", 2, 10).e);   // known, not settled
  t.on_event(Ev(NPV_EV_DROP, "10.0.0.7", 1, "10.0.0.8", 2, 40).e);          // orphan TCP drop
  auto flows = t.flush();
  ASSERT_EQ(flows.size(), 3u);  // ordered by first_ns
  EXPECT_EQ(flows[0].outcome, Outcome::kEstablished);
  EXPECT_EQ(flows[1].outcome, Outcome::kTimeout);
  EXPECT_EQ(flows[2].outcome, Outcome::kNotDelivered);
  EXPECT_EQ(t.stats().pending, 0u);
  EXPECT_EQ(t.stats().unmatched_drops, 1u);
  EXPECT_TRUE(t.flush().empty());
}

TEST(FlowTracker, NewAttemptOnTheSameKeyIsANewFlow) {
  // Rule 6: a finished attempt, then the same 5-tuple again.
  FlowTracker t(nullptr, {});
  t.on_event(c2s(NPV_EV_TCP_SYN_SENT, 10).e);
  t.on_event(c2s(NPV_EV_TCP_RST_RECEIVED, 11).e);
  t.on_event(c2s(NPV_EV_TCP_CLOSED, 11).err(ECONNREFUSED).e);
  t.on_event(c2s(NPV_EV_TCP_SYN_SENT, 100).e);
  t.on_event(c2s(NPV_EV_TCP_ESTABLISHED, 101).e);
  auto first = t.take_completed(101 * kMs);  // the old flow completed at once
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].outcome, Outcome::kRefused);
  auto second = t.take_completed(351 * kMs);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].outcome, Outcome::kEstablished);  // no reset carried over
  EXPECT_EQ(second[0].first_ns, 100 * kMs);

  // UDP: the next dedup interval's SENT after a delivery.
  FlowTracker u(nullptr, {});
  auto flows = run(u, {c2s(NPV_EV_UDP_SENT, 10), c2s(NPV_EV_UDP_DELIVERED, 11), c2s(NPV_EV_UDP_SENT, 100)}, 100);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kDelivered);
  EXPECT_EQ(u.stats().pending, 1u);
}

TEST(FlowTracker, SecondClientOutcomeOnOneKeyIsANewAttempt) {
  // Rule 6: the kernel reports an attempt at its outcome (no SYN_SENT before it), and a socket
  // finishes its attempt once: a second outcome on the key is the next socket (port reuse).
  FlowTracker t(nullptr, {});
  auto flows = run(t,
                   {c2s(NPV_EV_TCP_SYN_SENT, 10), c2s(NPV_EV_TCP_ESTABLISHED, 11),
                    c2s(NPV_EV_TCP_CLOSED, 12).err(ETIMEDOUT)},
                   300);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].outcome, Outcome::kEstablished);
  EXPECT_EQ(flows[1].outcome, Outcome::kTimeout);
  EXPECT_EQ(flows[1].first_ns, 12 * kMs);
  EXPECT_EQ(t.stats().ignored_events, 0u);
}

TEST(FlowTracker, AttemptsReportedAtTheirOutcomeOnly) {
  // What the kernel sends for a connection that was answered: no SYN_SENT (rule 2).
  FlowTracker t(nullptr, {});
  auto flows = run(t,
                   {c2s(NPV_EV_TCP_ESTABLISHED, 10).netns(7), c2s(NPV_EV_TCP_ACCEPTED, 11).netns(9),
                    c2s(NPV_EV_TCP_RST_RECEIVED, 20).netns(7), c2s(NPV_EV_TCP_CLOSED, 20).err(ECONNREFUSED),
                    c2s(NPV_EV_TCP_ESTABLISHED, 30), c2s(NPV_EV_TCP_ACCEPTED, 31)},
                   300);
  ASSERT_EQ(flows.size(), 3u);
  EXPECT_EQ(flows[0].outcome, Outcome::kEstablished);
  EXPECT_TRUE(flows[0].client_seen && flows[0].server_seen);
  EXPECT_EQ(flows[0].src_netns, 7u);
  EXPECT_EQ(flows[0].dst_netns, 9u);
  EXPECT_EQ(flows[1].outcome, Outcome::kRefused);  // the reset joins the attempt it belongs to
  EXPECT_FALSE(flows[1].server_seen);
  EXPECT_EQ(flows[2].outcome, Outcome::kEstablished);
  EXPECT_TRUE(flows[2].client_seen && flows[2].server_seen);
  EXPECT_EQ(t.stats().ignored_events, 0u);
}

constexpr std::uint8_t kSyn = NPV_TCP_FLAG_SYN, kSynAck = NPV_TCP_FLAG_SYN | NPV_TCP_FLAG_ACK;

TEST(FlowTracker, DroppedSynOpensTheAttemptItsClientReportsLater) {
  // Rule 4: the client reports the attempt only at its outcome (here: the application gave up
  // after 900 ms, longer than `settle`); the dropped SYN holds the flow until then.
  FlowTracker t(nullptr, named_drops());
  EXPECT_TRUE(run(t, {c2s(NPV_EV_DROP, 10).reason(kNetfilterDrop).flags(kSyn)}, 800).empty());
  auto flows = run(t, {c2s(NPV_EV_TCP_CLOSED, 900).netns(7)}, 1150);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kTimeout);
  EXPECT_EQ(flows[0].drop_reason, "NETFILTER_DROP");
  EXPECT_TRUE(flows[0].client_seen);
  EXPECT_FALSE(flows[0].server_seen);
  EXPECT_EQ(flows[0].src_netns, 7u);
  EXPECT_EQ(flows[0].first_ns, 10 * kMs);
  EXPECT_EQ(t.stats().unmatched_drops, 0u);

  // A dropped SYN-ACK is a reply: without a flow it is an orphan for `settle` only (rule 7).
  FlowTracker reply(nullptr, named_drops());
  EXPECT_TRUE(run(reply, {s2c(NPV_EV_DROP, 10).reason(kNetfilterDrop).flags(kSynAck)}, 260).empty());
  EXPECT_EQ(reply.stats().unmatched_drops, 1u);
}

TEST(FlowTracker, DroppedSynThatNoClientJoinsIsDiscardedAfterTheAttemptTimeout) {
  TrackerOptions o = named_drops();
  o.tcp_attempt_timeout = std::chrono::seconds(30);
  FlowTracker t(nullptr, o);
  EXPECT_TRUE(run(t, {c2s(NPV_EV_DROP, 10).reason(kNetfilterDrop).flags(kSyn)}, 29'000).empty());
  EXPECT_EQ(t.stats().pending, 1u);
  EXPECT_TRUE(t.take_completed(30'010 * kMs).empty());
  EXPECT_EQ(t.stats().pending, 0u);
  EXPECT_EQ(t.stats().unmatched_drops, 1u);
  EXPECT_EQ(t.stats().flows_emitted, 0u);
}

TEST(FlowTracker, DroppedSynOnAFinishedFlowIsTheNextAttempt) {
  // Rule 6: the port was reused; the drop belongs to the new attempt, not to the old flow.
  FlowTracker t(nullptr, named_drops());
  t.on_event(c2s(NPV_EV_TCP_ESTABLISHED, 10).e);
  t.on_event(c2s(NPV_EV_DROP, 100).reason(kNetfilterDrop).flags(kSyn).e);
  auto first = t.take_completed(100 * kMs);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].outcome, Outcome::kEstablished);
  EXPECT_TRUE(first[0].drop_reason.empty());
  auto second = run(t, {c2s(NPV_EV_TCP_CLOSED, 400)}, 650);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].outcome, Outcome::kTimeout);
  EXPECT_EQ(second[0].drop_reason, "NETFILTER_DROP");

  // Rule 7: the drops' ring buffer read after the outcome; the drop happened before it.
  FlowTracker late(nullptr, named_drops());
  auto flows = run(late,
                   {c2s(NPV_EV_TCP_CLOSED, 300), c2s(NPV_EV_DROP, 10).reason(kNetfilterDrop).flags(kSyn)}, 550);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].outcome, Outcome::kTimeout);
  EXPECT_EQ(flows[0].drop_reason, "NETFILTER_DROP");
  EXPECT_EQ(flows[0].first_ns, 10 * kMs);
}

TEST(FlowTracker, MalformedEventsAreIgnored) {
  FlowTracker t(nullptr, {});
  Ev bad_family = c2s(NPV_EV_TCP_SYN_SENT, 10);
  bad_family.e.family = 99;
  Ev bad_type = c2s(NPV_EV_TCP_SYN_SENT, 10);
  bad_type.e.type = 200;
  t.on_event(bad_family.e);
  t.on_event(bad_type.e);
  t.on_event(c2s(NPV_EV_TCP_SYN_SENT, 10).udp().e);          // a TCP event on a UDP tuple
  t.on_event(c2s(NPV_EV_UDP_DELIVERED, 10).udp().e);         // fine
  Ev tcp_udp = c2s(NPV_EV_UDP_SENT, 10);
  tcp_udp.e.protocol = IPPROTO_TCP;
  t.on_event(tcp_udp.e);
  EXPECT_EQ(t.stats().events, 5u);
  EXPECT_EQ(t.stats().ignored_events, 4u);
  EXPECT_EQ(t.flush().size(), 1u);
}

TEST(FlowTracker, LruEvictionAtMaxFlows) {
  TrackerOptions o;
  o.max_flows = 2;
  FlowTracker t(nullptr, o);
  auto client = [](std::uint16_t port, npv_event_type type, std::uint64_t ms) {
    return Ev(type, "10.0.0.1", port, "10.0.0.2", 80, ms).e;
  };
  t.on_event(client(1, NPV_EV_TCP_SYN_SENT, 1));    // A
  t.on_event(client(2, NPV_EV_TCP_SYN_SENT, 2));    // B
  t.on_event(client(1, NPV_EV_TCP_ESTABLISHED, 3));  // A is now the most recently updated
  t.on_event(client(3, NPV_EV_TCP_SYN_SENT, 4));    // C evicts B: no outcome, discarded
  EXPECT_EQ(t.stats().evicted, 1u);
  EXPECT_EQ(t.stats().evicted_discarded, 1u);
  EXPECT_EQ(t.stats().pending, 2u);
  t.on_event(client(4, NPV_EV_TCP_SYN_SENT, 5));  // D evicts A: established, emitted early
  EXPECT_EQ(t.stats().evicted, 2u);
  EXPECT_EQ(t.stats().evicted_discarded, 1u);
  auto flows = t.take_completed(5 * kMs);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].src_port, 1);
  EXPECT_EQ(flows[0].outcome, Outcome::kEstablished);
  flows = t.flush();
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].src_port, 3);
  EXPECT_EQ(flows[1].src_port, 4);
  EXPECT_EQ(t.stats().flows_emitted, 3u);
}

TEST(FlowTracker, Ipv6) {
  FlowTracker t(nullptr, named_drops());
  auto flows = run(t,
                   {Ev(NPV_EV_TCP_SYN_SENT, "fd00::1", 40000, "fd00::2", 443, 10),
                    Ev(NPV_EV_DROP, "fd00::2", 443, "fd00::1", 40000, 11).reason(kNetfilterDrop),
                    Ev(NPV_EV_TCP_CLOSED, "fd00::1", 40000, "fd00::2", 443, 50)},
                   300);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].src.family, 6);
  EXPECT_EQ(flows[0].dst.to_string(), "fd00::2");
  EXPECT_EQ(flows[0].outcome, Outcome::kTimeout);
  EXPECT_EQ(flows[0].drop_reason, "NETFILTER_DROP");
  EXPECT_EQ(flow_to_text(flows[0], nullptr), "[fd00::1]:40000 -> fd00::2 443/TCP timeout (drop: NETFILTER_DROP)");
  EXPECT_EQ(flow_to_json(flows[0], nullptr)["src"], "fd00::1");
}

const char* kCluster = R"(
apiVersion: v1
kind: Pod
metadata: {name: frontend, namespace: prod, labels: {app: frontend}}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: backend, namespace: prod, labels: {app: backend}}
status: {podIP: 10.0.0.2}
)";

TEST(FlowTracker, PodAttributionAndText) {
  auto cluster = test::load_yaml(kCluster);
  ASSERT_TRUE(cluster) << cluster.error().message;
  FlowTracker t(&*cluster, {});
  auto flows = run(t,
                   {Ev(NPV_EV_TCP_SYN_SENT, "10.0.0.1", 40000, "10.0.0.2", 8080, 10),
                    Ev(NPV_EV_TCP_ESTABLISHED, "10.0.0.1", 40000, "10.0.0.2", 8080, 11),
                    Ev(NPV_EV_TCP_ACCEPTED, "192.0.2.9", 5555, "10.0.0.2", 8080, 12)},
                   400);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].src_pod, cluster->find_pod("prod/frontend"));
  EXPECT_EQ(flows[0].dst_pod, cluster->find_pod("prod/backend"));
  EXPECT_EQ(flow_to_text(flows[0], &*cluster), "prod/frontend (10.0.0.1:40000) -> prod/backend (10.0.0.2) 8080/TCP established");
  EXPECT_FALSE(flows[1].src_pod);  // not in the cluster: stays an IP
  EXPECT_EQ(flow_to_text(flows[1], &*cluster), "192.0.2.9:5555 -> prod/backend (10.0.0.2) 8080/TCP established [server only]");
  EXPECT_EQ(flow_to_json(flows[1], &*cluster)["src_pod"], nullptr);
  EXPECT_EQ(flow_to_text(flows[0], nullptr), "10.0.0.1:40000 -> 10.0.0.2 8080/TCP established");
}

TEST(FlowTracker, JsonSchemaExact) {
  auto cluster = test::load_yaml(kCluster);
  ASSERT_TRUE(cluster) << cluster.error().message;
  FlowTracker t(&*cluster, named_drops());
  auto flows = run(t,
                   {Ev(NPV_EV_UDP_SENT, "10.0.0.1", 40000, "10.0.0.9", 53, 10),
                    Ev(NPV_EV_DROP, "10.0.0.1", 40000, "10.0.0.9", 53, 11).udp().reason(kNetfilterDrop)},
                   400);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flow_to_json(flows[0], &*cluster), json::parse(R"({
    "src": "10.0.0.1", "src_port": 40000, "dst": "10.0.0.9", "port": "53/UDP", "protocol": "UDP",
    "outcome": "dropped", "drop_reason": "NETFILTER_DROP", "src_pod": "prod/frontend", "dst_pod": null,
    "client_seen": true, "server_seen": false})"));
  flows[0].drop_reason.clear();
  EXPECT_EQ(flow_to_json(flows[0], nullptr)["drop_reason"], nullptr);
  EXPECT_EQ(flow_to_json(flows[0], nullptr)["src_pod"], nullptr);  // no cluster, no names
}

}  // namespace
}  // namespace npv
