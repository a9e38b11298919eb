// FlowTracker: npv_events -> ObservedFlows. The rules are numbered in include/npv/flow_tracker.hpp;
// each branch below names the rule it implements.
#include "npv/flow_tracker.hpp"

#include <time.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

namespace npv {

std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

namespace {

// t + d, saturating; a non-positive d leaves t unchanged.
std::uint64_t after(std::uint64_t t, std::chrono::nanoseconds d) {
  if (d.count() <= 0) return t;
  const auto add = static_cast<std::uint64_t>(d.count());
  return t > std::numeric_limits<std::uint64_t>::max() - add ? std::numeric_limits<std::uint64_t>::max() : t + add;
}

// Rule 2 (CLOSED): how an attempt that ended without a handshake failed.
Outcome classify_closed(bool reset_seen, int sk_err) {
  if (reset_seen) return Outcome::kRefused;  // 2a
  const int err = sk_err < 0 ? -sk_err : sk_err;
  switch (err) {
    case ECONNREFUSED:  // 2b: refused without a RST is an ICMP port-unreachable (nftables reject)
      return Outcome::kUnreachable;
    case EHOSTUNREACH:  // 2c
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case EACCES:
    case EPERM:
      return Outcome::kUnreachable;
    case 0:  // 2d: no answer
    case ETIMEDOUT:
      return Outcome::kTimeout;
    default:  // 2e
      return Outcome::kUnreachable;
  }
}

bool is_tcp_event(std::uint8_t type) {
  return type == NPV_EV_TCP_SYN_SENT || type == NPV_EV_TCP_ESTABLISHED || type == NPV_EV_TCP_CLOSED ||
         type == NPV_EV_TCP_RST_RECEIVED || type == NPV_EV_TCP_ACCEPTED;
}

}  // namespace

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::kEstablished: return "established";
    case Outcome::kRefused: return "refused";
    case Outcome::kTimeout: return "timeout";
    case Outcome::kUnreachable: return "unreachable";
    case Outcome::kDelivered: return "delivered";
    case Outcome::kDropped: return "dropped";
    case Outcome::kNotDelivered: return "not_delivered";
  }
  return "unknown";
}

std::optional<FlowTuple> decode_tuple(const npv_event& ev) {
  FlowTuple t;
  std::size_t len = 0;
  switch (ev.family) {
    case AF_INET: t.src.family = t.dst.family = 4; len = 4; break;
    case AF_INET6: t.src.family = t.dst.family = 6; len = 16; break;
    default: return std::nullopt;
  }
  switch (ev.protocol) {
    case IPPROTO_TCP: t.proto = Protocol::kTCP; break;
    case IPPROTO_UDP: t.proto = Protocol::kUDP; break;
    case IPPROTO_SCTP: t.proto = Protocol::kSCTP; break;
    default: return std::nullopt;
  }
  std::memcpy(t.src.bytes.data(), ev.saddr, len);  // IPv4: the rest stays zero, as IpAddr requires
  std::memcpy(t.dst.bytes.data(), ev.daddr, len);
  t.src_port = ev.sport;
  t.dst_port = ev.dport;
  return t;
}

std::size_t FlowTracker::TupleHash::operator()(const FlowTuple& t) const {
  // 64-bit words through a multiply-xorshift mix (one multiply per word, not per byte).
  auto mix = [](std::uint64_t h, std::uint64_t w) {
    h ^= w + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
  };
  std::uint64_t w[4];
  std::memcpy(&w[0], t.src.bytes.data(), 8);
  std::memcpy(&w[1], t.src.bytes.data() + 8, 8);
  std::memcpy(&w[2], t.dst.bytes.data(), 8);
  std::memcpy(&w[3], t.dst.bytes.data() + 8, 8);
  std::uint64_t h = (std::uint64_t{t.src_port} << 32) | (std::uint64_t{t.dst_port} << 16) |
                    (std::uint64_t{t.src.family} << 8) | static_cast<std::uint64_t>(t.proto);
  for (std::uint64_t x : w) h = mix(h, x);
  return static_cast<std::size_t>(h);
}

FlowTracker::FlowTracker(const ClusterState* cluster, TrackerOptions options)
    : cluster_(cluster), options_(std::move(options)) {
  options_.max_flows = std::max<std::size_t>(options_.max_flows, 1);
  index_.reserve(std::min<std::size_t>(options_.max_flows, 1 << 16));  // no rehash in the common case
}

void FlowTracker::on_event(const npv_event& ev) {
  ++stats_.events;
  const auto tuple = decode_tuple(ev);
  if (!tuple) {
    ++stats_.ignored_events;
    return;
  }
  if (ev.type == NPV_EV_DROP) {
    const bool syn = tuple->proto == Protocol::kTCP &&
                     (ev.tcp_flags & (NPV_TCP_FLAG_SYN | NPV_TCP_FLAG_ACK)) == NPV_TCP_FLAG_SYN;
    // Rule 1: the drop's own key, then the reversed key (a dropped reply); rule 7: else an orphan.
    // Rule 4: a dropped SYN only under its own key; rule 6: dropped after the client finished,
    // it is the next attempt (rule 7: a drop read after the outcome may still predate it).
    auto it = find(*tuple);
    if (syn && it != lru_.end() && it->client_outcome && ev.ts_ns > it->client_outcome_ns) {
      complete(it, false);
      it = lru_.end();
    }
    if (it == lru_.end() && !syn) it = find(tuple->reversed());
    if (it == lru_.end()) it = open(*tuple, ev.ts_ns, true);
    if (syn) it->syn_dropped = true;
    record_drop(*it, ev.drop_reason);
    touch(it, ev.ts_ns);
    return;
  }
  const bool tcp = is_tcp_event(ev.type);
  const bool udp = ev.type == NPV_EV_UDP_SENT || ev.type == NPV_EV_UDP_DELIVERED;
  if ((!tcp && !udp) || (tcp && tuple->proto != Protocol::kTCP) || (udp && tuple->proto != Protocol::kUDP)) {
    ++stats_.ignored_events;
    return;
  }

  auto it = find(*tuple);
  if (it != lru_.end()) {
    Entry& old = *it;
    // Rule 6: a new attempt on the key of a finished one completes the old flow now.
    const bool new_tcp_attempt = tcp && ev.type != NPV_EV_TCP_ACCEPTED && old.client_outcome;
    const bool new_udp_interval =
        ev.type == NPV_EV_UDP_SENT && old.flow.client_seen && known_outcome(old).has_value();
    if (new_tcp_attempt || new_udp_interval) {
      complete(it, false);
      it = lru_.end();
    }
  }
  if (it == lru_.end()) it = open(*tuple, ev.ts_ns, false);
  Entry& e = *it;
  ObservedFlow& f = e.flow;

  switch (ev.type) {
    case NPV_EV_TCP_SYN_SENT:  // rule 2: an attempt still waiting for an answer
      f.client_seen = true;
      break;
    case NPV_EV_TCP_ESTABLISHED:  // rule 2
      f.client_seen = true;
      e.client_outcome = Outcome::kEstablished;
      e.client_outcome_ns = ev.ts_ns;
      break;
    case NPV_EV_TCP_RST_RECEIVED:  // rule 2: refused, once CLOSED confirms
      f.client_seen = true;
      e.reset_seen = true;
      break;
    case NPV_EV_TCP_CLOSED:  // rule 2a-e
      f.client_seen = true;
      f.sk_err = ev.sk_err;
      e.client_outcome = classify_closed(e.reset_seen, ev.sk_err);
      e.client_outcome_ns = ev.ts_ns;
      break;
    case NPV_EV_TCP_ACCEPTED:  // rule 3
      f.server_seen = true;
      break;
    case NPV_EV_UDP_SENT:  // rule 5
      f.client_seen = true;
      break;
    case NPV_EV_UDP_DELIVERED:  // rule 5
      f.server_seen = true;
      e.delivered = true;
      break;
    default:
      break;
  }
  // Rule 10: each end reports its own netns.
  if (ev.netns != 0) {
    if (ev.type == NPV_EV_TCP_ACCEPTED || ev.type == NPV_EV_UDP_DELIVERED)
      f.dst_netns = ev.netns;
    else
      f.src_netns = ev.netns;
  }
  touch(it, ev.ts_ns);
}

std::vector<ObservedFlow> FlowTracker::take_completed(std::uint64_t now_ns) {
  // Rule 8: every flow whose deadline has passed.
  while (!due_.empty() && due_.top().at <= now_ns) {
    const Due d = due_.top();
    due_.pop();
    if (d.entry->id == d.id && d.entry->due_ns == d.at) complete(d.entry, true);  // else stale
  }
  return take_ready();
}

std::vector<ObservedFlow> FlowTracker::flush() {
  while (!lru_.empty()) complete(std::prev(lru_.end()), true);
  due_ = {};
  return take_ready();
}

TrackerStats FlowTracker::stats() const {
  TrackerStats s = stats_;
  s.pending = lru_.size();
  return s;
}

FlowTracker::Lru::iterator FlowTracker::find(const FlowTuple& key) {
  auto it = index_.find(key);
  return it == index_.end() ? lru_.end() : it->second;
}

void FlowTracker::erase(Lru::iterator it) {
  if (it->opened_by_drop) --opened_by_drop_;
  index_.erase(it->key);
  it->id = kNoId;
  spare_.splice(spare_.begin(), lru_, it);
}

FlowTracker::Lru::iterator FlowTracker::open(const FlowTuple& key, std::uint64_t ts_ns, bool by_drop) {
  // Rule 7: adopt an orphan drop of this flow's reply direction that arrived first (only a flow
  // that a DROP opened can be one: skip the lookup when there is none).
  std::optional<Entry> orphan;
  if (auto r = opened_by_drop_ ? find(key.reversed()) : lru_.end();
      r != lru_.end() && !r->flow.client_seen && !r->flow.server_seen && !r->syn_dropped) {
    orphan = *r;
    erase(r);
  }
  // Rule 9: bounded memory, evict the least recently updated flow.
  while (lru_.size() >= options_.max_flows) {
    ++stats_.evicted;
    if (!complete(std::prev(lru_.end()), false)) ++stats_.evicted_discarded;
  }
  if (spare_.empty()) {
    lru_.emplace_front();
  } else {
    lru_.splice(lru_.begin(), spare_, spare_.begin());
    lru_.front() = Entry{};
  }
  Entry& e = lru_.front();
  e.key = key;
  e.flow.src = key.src;
  e.flow.dst = key.dst;
  e.flow.src_port = key.src_port;
  e.flow.dst_port = key.dst_port;
  e.flow.proto = key.proto;
  e.flow.first_ns = e.flow.last_ns = ts_ns;
  e.id = next_id_++;
  e.opened_by_drop = by_drop;
  opened_by_drop_ += by_drop;
  if (orphan) {
    e.dropped = true;
    e.flow.drop_reason = orphan->flow.drop_reason;
    e.flow.first_ns = std::min(ts_ns, orphan->flow.first_ns);
    e.flow.last_ns = std::max(ts_ns, orphan->flow.last_ns);
  }
  index_.emplace(key, lru_.begin());
  return lru_.begin();
}

void FlowTracker::touch(Lru::iterator it, std::uint64_t ts_ns) {
  Entry& e = *it;
  e.flow.first_ns = std::min(e.flow.first_ns, ts_ns);  // rule 7: events may arrive out of order
  e.flow.last_ns = std::max(e.flow.last_ns, ts_ns);
  lru_.splice(lru_.begin(), lru_, it);  // iterators stay valid
  if (const std::uint64_t d = deadline(e); d != e.due_ns) {
    e.due_ns = d;
    due_.push({d, e.id, it});
  }
}

void FlowTracker::record_drop(Entry& e, std::uint32_t reason) {
  // Rule 4: the first drop explains the flow.
  e.dropped = true;
  if (!e.flow.drop_reason.empty()) return;
  if (options_.drop_reason_name) e.flow.drop_reason = options_.drop_reason_name(reason);
  if (e.flow.drop_reason.empty()) e.flow.drop_reason = std::to_string(reason);
}

std::optional<Outcome> FlowTracker::known_outcome(const Entry& e) const {
  if (e.flow.proto == Protocol::kUDP) {
    if (e.delivered) return Outcome::kDelivered;  // rule 5: delivered wins
    if (e.dropped) return Outcome::kDropped;      // rule 5
    return std::nullopt;
  }
  if (e.client_outcome) return e.client_outcome;             // rule 2: the client is authoritative
  if (e.flow.server_seen) return Outcome::kEstablished;      // rule 3: seen by the server only
  return std::nullopt;
}

std::uint64_t FlowTracker::deadline(const Entry& e) const {
  const std::uint64_t settled = after(e.flow.last_ns, options_.settle);  // rule 8
  const bool orphan = !e.flow.client_seen && !e.flow.server_seen && !e.syn_dropped;  // rule 4: waits
  if (known_outcome(e) || orphan) return settled;
  const auto timeout = e.flow.proto == Protocol::kUDP ? options_.udp_timeout : options_.tcp_attempt_timeout;
  return std::max(settled, after(e.flow.first_ns, timeout));
}

bool FlowTracker::complete(Lru::iterator it, bool expired) {
  Entry& e = *it;
  std::optional<Outcome> outcome = known_outcome(e);
  const bool orphan = !e.flow.client_seen && !e.flow.server_seen;  // seen by a drop only
  if (!outcome && expired && !orphan)  // rules 5 and 8: no answer in time
    outcome = e.flow.proto == Protocol::kUDP ? Outcome::kNotDelivered : Outcome::kTimeout;
  if (outcome) {
    ObservedFlow f = std::move(e.flow);
    f.outcome = *outcome;
    if (cluster_ != nullptr) {  // rule 10
      f.src_pod = cluster_->find_pod_by_ip(f.src);
      f.dst_pod = cluster_->find_pod_by_ip(f.dst);
    }
    ready_.push_back(std::move(f));
    ++stats_.flows_emitted;
  } else if (orphan) {
    ++stats_.unmatched_drops;  // rule 7: a TCP drop that no flow claimed
  }
  erase(it);
  return outcome.has_value();
}

std::vector<ObservedFlow> FlowTracker::take_ready() {
  std::vector<ObservedFlow> out = std::move(ready_);
  ready_.clear();
  const auto earlier = [](const ObservedFlow& a, const ObservedFlow& b) { return a.first_ns < b.first_ns; };
  if (!std::is_sorted(out.begin(), out.end(), earlier)) std::stable_sort(out.begin(), out.end(), earlier);
  return out;
}

}  // namespace npv
