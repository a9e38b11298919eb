// FlowTracker: joins the kernel's per-event view of connections (npv_event, abi/flow_event.h)
// into one ObservedFlow per connection attempt, with its outcome (established, refused, timeout,
// delivered, dropped, ...), the pods at both ends and the drop reason that explains a failure.
//
// Pure userspace and deterministic: time is whatever the caller passes (CLOCK_MONOTONIC ns, the
// clock of npv_event::ts_ns); the tracker never reads a clock. Not thread-safe: one consumer thread
// feeds on_event() and calls take_completed().
//
// Joining rules (each branch in flow_tracker.cpp names its rule):
//  1. Key. A flow is keyed by (src ip, src port, dst ip, dst port, protocol) in the direction of
//     its first packet; the ABI orients every event that way, so both ends share the key. A DROP
//     is looked up under its own key, then under the reversed key (a dropped reply, e.g. SYN-ACK).
//  2. TCP client. Any client event opens an attempt if none is open (client_seen): the kernel
//     reports an attempt at its outcome, ESTABLISHED or CLOSED, and SYN_SENT only while it waits
//     for an answer (abi/flow_event.h). ESTABLISHED -> kEstablished.
//     RST_RECEIVED marks a reset. CLOSED -> (a) reset seen: kRefused; (b) ECONNREFUSED without a
//     reset (an ICMP port-unreachable, e.g. nftables `reject`): kUnreachable; (c) EHOSTUNREACH,
//     ENETUNREACH, EHOSTDOWN, ENETDOWN, EACCES, EPERM: kUnreachable; (d) 0 or ETIMEDOUT: kTimeout
//     (no answer); (e) any other error: kUnreachable (failed locally, sk_err tells why).
//     The client's outcome is authoritative once known.
//  3. TCP server. ACCEPTED sets server_seen; without a client outcome the flow is kEstablished
//     (a flow seen by the server only).
//  4. Drops. A DROP joined to a flow records drop_reason (options.drop_reason_name, else the
//     number; the first drop wins). For TCP it changes no outcome, it explains it (a kTimeout with
//     a NETFILTER_DROP is a policy drop). For UDP it makes the flow kDropped unless delivered.
//     A dropped TCP SYN (tcp_flags SYN without ACK) is an attempt in its own direction: it joins
//     only the flow under its own key, and opens one if there is none (or if that flow's client
//     had finished before the drop: rule 6), which then waits for the client like any attempt.
//  5. UDP. UDP_SENT opens a flow (client_seen); UDP_DELIVERED -> kDelivered (server_seen; also
//     without SENT: seen by the receiver only); a DROP -> kDropped; neither within udp_timeout
//     of the first event -> kNotDelivered. Delivered wins over dropped (a retransmission got through).
//  6. New attempt. A TCP client event (SYN_SENT, RST_RECEIVED, ESTABLISHED, CLOSED) or a dropped
//     SYN on a flow whose client already finished (ESTABLISHED/CLOSED), or UDP_SENT on a flow the
//     client opened that already has an outcome, completes the old flow at once and opens a new
//     one on the same key (port reuse, the next UDP dedup interval). The client finishes an
//     attempt once, so a second outcome on one key is always a new attempt.
//  7. Order. Events of one flow may arrive out of order (several ring buffers): first_ns/last_ns
//     are the min/max of the events' ts_ns; an event of the other end merges into a flow whatever
//     arrived first; a DROP that matches nothing is kept for `settle` as an orphan, and a flow
//     opened later under its key or reversed key absorbs it. An orphan UDP drop then becomes a
//     kDropped flow seen by neither end; an orphan TCP drop is discarded (counted in
//     unmatched_drops): a TCP flow needs an end that saw it. A flow opened by a dropped SYN
//     (rule 4) that no client event joins within tcp_attempt_timeout is discarded the same way.
//  8. Emission. A flow with a known outcome is emitted by take_completed() once `settle` has
//     passed since its last event, so late evidence joins it. A TCP attempt without an outcome is
//     emitted as kTimeout once tcp_attempt_timeout has passed since its first event (and settle
//     since its last); flush() emits every pending flow (attempts as kTimeout/kNotDelivered).
//  9. Memory. At most max_flows flows are pending; opening one more evicts the least recently
//     updated: emitted with what is known if it has an outcome, else discarded (both counted).
// 10. Attribution. src_pod/dst_pod are resolved by IP (ClusterState::find_pod_by_ip) when the flow
//     is emitted; unknown IPs stay IPs. Client events (SYN_SENT, ESTABLISHED, RST_RECEIVED,
//     CLOSED, UDP_SENT) carry src_netns; ACCEPTED and UDP_DELIVERED carry dst_netns.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "npv/abi/flow_event.h"
#include "npv/cidr.hpp"
#include "npv/model.hpp"
#include "npv/port.hpp"
#include "npv/slot_index.hpp"

namespace npv {

enum class Outcome : std::uint8_t {
  kEstablished,   // TCP: handshake completed (client ESTABLISHED or server ACCEPTED)
  kRefused,       // TCP: the client received a RST
  kTimeout,       // TCP: no answer (dropped, or no route that answers)
  kUnreachable,   // TCP: an ICMP error or a local error (ECONNREFUSED without RST, EHOSTUNREACH, EPERM, ...)
  kDelivered,     // UDP: delivered to a socket
  kDropped,       // UDP: dropped with a kernel drop reason
  kNotDelivered,  // UDP: sent, neither delivered nor seen dropped within udp_timeout
};

// "established", "refused", "timeout", "unreachable", "delivered", "dropped", "not_delivered".
const char* to_string(Outcome o);

struct ObservedFlow {
  IpAddr src, dst;  // direction of the first packet: client -> server, sender -> receiver
  std::uint16_t src_port = 0, dst_port = 0;
  Protocol proto = Protocol::kTCP;
  std::optional<PodId> src_pod, dst_pod;  // ids in the ClusterState given to the tracker
  Outcome outcome = Outcome::kTimeout;
  std::string drop_reason;  // empty: no drop seen; else a kernel drop reason name or number
  bool client_seen = false;  // an event from the client / sender side
  bool server_seen = false;  // an event from the server / receiver side
  int sk_err = 0;            // TCP CLOSED: the socket error, else 0
  std::uint32_t src_netns = 0, dst_netns = 0;  // netns inode numbers, 0 if unknown
  std::uint64_t first_ns = 0, last_ns = 0;     // ts_ns of the first and last joined events
};

struct TrackerOptions {
  std::chrono::nanoseconds settle{std::chrono::milliseconds{250}};  // quiet time before emission
  std::chrono::nanoseconds udp_timeout{std::chrono::seconds{1}};    // SENT, no outcome: kNotDelivered
  std::chrono::nanoseconds tcp_attempt_timeout{std::chrono::seconds{30}};  // no outcome: kTimeout
  std::size_t max_flows = 65536;  // pending flows (0 is treated as 1)
  // Kernel drop reason -> name, called as a flow with a drop is emitted; may be empty.
  std::function<std::string(std::uint32_t)> drop_reason_name;
};

struct TrackerStats {
  std::uint64_t events = 0;             // events passed to on_event()
  std::uint64_t ignored_events = 0;     // unknown type, family or protocol
  std::uint64_t flows_emitted = 0;
  std::uint64_t evicted = 0;            // pending flows pushed out by max_flows (emitted or discarded)
  std::uint64_t evicted_discarded = 0;  // of those, discarded because their outcome was unknown
  std::uint64_t unmatched_drops = 0;    // TCP drops that joined no flow within settle
  std::size_t pending = 0;              // flows pending now
};

// The 5-tuple of an event, decoded from the ABI (family AF_INET 2 / AF_INET6 10; IPPROTO_TCP,
// IPPROTO_UDP, IPPROTO_SCTP). nullopt for any other family or protocol.
struct FlowTuple {
  IpAddr src, dst;
  std::uint16_t src_port = 0, dst_port = 0;
  Protocol proto = Protocol::kTCP;

  FlowTuple reversed() const { return {dst, src, dst_port, src_port, proto}; }
  bool operator==(const FlowTuple&) const = default;
};
std::optional<FlowTuple> decode_tuple(const npv_event& ev);

// Now on CLOCK_MONOTONIC, in ns: the clock of npv_event::ts_ns, and so the `now_ns` that
// FlowTracker::take_completed() expects from its callers.
std::uint64_t monotonic_ns();

class FlowTracker {
 public:
  // `cluster` may be null (no attribution); otherwise it must outlive the tracker and stay
  // unchanged while the tracker uses it.
  FlowTracker(const ClusterState* cluster, TrackerOptions options);

  void on_event(const npv_event& ev);
  // Flows that are complete at `now_ns` (rule 8), plus any completed early (rules 6, 9); ordered
  // by first_ns.
  std::vector<ObservedFlow> take_completed(std::uint64_t now_ns);
  // Every pending flow, whatever its age (shutdown); ordered by first_ns.
  std::vector<ObservedFlow> flush();
  TrackerStats stats() const;

 private:
  struct TupleHash {
    std::size_t operator()(const FlowTuple& t) const;
  };
  // A pending flow, in slab_. The key doubles as the flow's src/dst/ports/proto, and the drop
  // reason is kept as the kernel's number until emission, so an entry owns no heap memory.
  struct Entry {
    FlowTuple key;
    std::uint64_t first_ns = 0, last_ns = 0;  // ts_ns of the first and last joined events
    std::uint64_t id = 0;      // unique per opened flow (kNoId once removed): tells stale Dues
    std::uint64_t due_ns = 0;     // the deadline (rule 8)
    std::uint64_t queued_ns = 0;  // the earliest of this entry's Dues in due_, valid when `queued`
    std::uint64_t client_outcome_ns = 0;  // ts_ns of the ESTABLISHED / CLOSED event
    std::uint32_t newer = kNil, older = kNil;  // LRU neighbours; `older` also links free_
    std::uint32_t hash = 0;                    // of key, for index_
    std::uint32_t drop_reason = 0;             // of the first drop, valid when `dropped`
    std::uint32_t src_netns = 0, dst_netns = 0;
    int sk_err = 0;
    Outcome client_outcome = Outcome::kTimeout;  // valid when has_client_outcome
    bool has_client_outcome = false;             // from ESTABLISHED / CLOSED
    bool client_seen = false;
    bool server_seen = false;
    bool reset_seen = false;
    bool delivered = false;
    bool dropped = false;
    bool syn_dropped = false;  // rule 4: opened by (or holds) a dropped SYN: waits like an attempt
    bool opened_by_drop = false;
    bool queued = false;
  };
  static constexpr std::uint64_t kNoId = ~std::uint64_t{0};
  static constexpr std::uint32_t kNil = SlotIndex::kNone;  // no entry
  // A deadline in due_; stale (skipped) unless slab_[slot] still has this id (a removed entry has
  // kNoId, a reused slot a new id) and this is its queued_ns. A touch pushes only a deadline earlier
  // than queued_ns; one that moved later is pushed again when the queued one comes up, so the
  // usual later deadline of each further event costs no heap push and no stale pop.
  struct Due {
    std::uint64_t at = 0, id = 0;
    std::uint32_t slot = 0;
    bool operator>(const Due& o) const { return at != o.at ? at > o.at : id > o.id; }
  };

  std::uint32_t find(const FlowTuple& key) const;  // kNil when absent
  // Inserts a new flow at the LRU front, adopting an orphan drop under the reversed key (rule 7)
  // and evicting the LRU back when full (rule 9).
  std::uint32_t open(const FlowTuple& key, std::uint64_t ts_ns, bool by_drop);
  std::uint32_t allocate();  // a free slot of slab_, growing it (and index_) up to max_flows
  void erase(std::uint32_t slot);
  void unlink(std::uint32_t slot);      // from the LRU list
  void link_front(std::uint32_t slot);  // at the LRU front (most recently updated)
  // After a change: widens first_ns/last_ns, moves to the LRU front, recomputes the deadline.
  void touch(std::uint32_t slot, std::uint64_t ts_ns);
  static void record_drop(Entry& e, std::uint32_t reason);
  std::string drop_reason_text(const Entry& e) const;
  static std::optional<Outcome> known_outcome(const Entry& e);
  std::uint64_t deadline(const Entry& e) const;
  // Removes the flow. Emits it into ready_ if its outcome is known or, when `expired`, can be
  // concluded (kTimeout / kNotDelivered); returns whether it was emitted.
  bool complete(std::uint32_t slot, bool expired);
  std::vector<ObservedFlow> take_ready();

  const ClusterState* cluster_;
  TrackerOptions options_;
  // Pending flows live in one contiguous slab addressed by uint32 slot, found through index_ and
  // ordered by an intrusive LRU list: no allocation per flow, and a working set of tens of
  // thousands of flows touches a few cache lines per event instead of chasing list and map nodes.
  std::vector<Entry> slab_;
  std::size_t slab_capacity_ = 0;  // slots reserved in slab_ (and index_); grows up to max_flows
  std::uint32_t free_ = kNil;      // removed entries, linked by `older`
  std::uint32_t newest_ = kNil, oldest_ = kNil;  // LRU ends
  std::size_t pending_ = 0;
  SlotIndex index_;
  // Min-heap of deadlines for take_completed() (no per-flow tree node to allocate, rebalance and
  // free on every event).
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  std::uint64_t next_id_ = 0;
  std::size_t opened_by_drop_ = 0;  // flows a DROP opened: only they can be adopted (rule 7)
  std::vector<ObservedFlow> ready_;  // emitted, not yet returned
  std::size_t last_batch_size_ = 0;  // of the last take_ready(): the next one reserves as much
  TrackerStats stats_;
};

// JSON, one object per flow (stable schema): {"src": "10.0.0.1", "src_port": 40000,
// "dst": "10.0.0.2", "port": "80/TCP", "protocol": "TCP", "outcome": "established",
// "drop_reason": null | "NETFILTER_DROP", "src_pod": "ns/name" | null, "dst_pod": "ns/name" | null,
// "client_seen": bool, "server_seen": bool}. Pod names come from `cluster` (null: all null).
nlohmann::json flow_to_json(const ObservedFlow& flow, const ClusterState* cluster);
// One human line: "prod/frontend (10.0.0.1:40000) -> prod/backend (10.0.0.2) 8080/TCP established",
// then " (drop: NETFILTER_DROP)" and " [server only]" / " [drop only]" when they apply.
std::string flow_to_text(const ObservedFlow& flow, const ClusterState* cluster);

}  // namespace npv
