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
  // Slots are uint32 and index_ buckets come from a 32-bit hash: far above any real table.
  options_.max_flows = std::clamp<std::size_t>(options_.max_flows, 1, SlotIndex::kMaxKeys);
  // Sized once in the common case; a larger max_flows grows on demand (allocate()).
  slab_capacity_ = std::min<std::size_t>(options_.max_flows, 1 << 16);
  slab_.reserve(slab_capacity_);
  index_.reserve(slab_capacity_);
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
    std::uint32_t slot = find(*tuple);
    if (syn && slot != kNil && slab_[slot].has_client_outcome && ev.ts_ns > slab_[slot].client_outcome_ns) {
      complete(slot, false);
      slot = kNil;
    }
    if (slot == kNil && !syn) slot = find(tuple->reversed());
    if (slot == kNil) slot = open(*tuple, ev.ts_ns, true);
    if (syn) slab_[slot].syn_dropped = true;
    record_drop(slab_[slot], ev.drop_reason);
    touch(slot, ev.ts_ns);
    return;
  }
  const bool tcp = is_tcp_event(ev.type);
  const bool udp = ev.type == NPV_EV_UDP_SENT || ev.type == NPV_EV_UDP_DELIVERED;
  if ((!tcp && !udp) || (tcp && tuple->proto != Protocol::kTCP) || (udp && tuple->proto != Protocol::kUDP)) {
    ++stats_.ignored_events;
    return;
  }

  std::uint32_t slot = find(*tuple);
  if (slot != kNil) {
    const Entry& old = slab_[slot];
    // Rule 6: a new attempt on the key of a finished one completes the old flow now.
    const bool new_tcp_attempt = tcp && ev.type != NPV_EV_TCP_ACCEPTED && old.has_client_outcome;
    const bool new_udp_interval = ev.type == NPV_EV_UDP_SENT && old.client_seen && known_outcome(old).has_value();
    if (new_tcp_attempt || new_udp_interval) {
      complete(slot, false);
      slot = kNil;
    }
  }
  if (slot == kNil) slot = open(*tuple, ev.ts_ns, false);
  Entry& e = slab_[slot];

  switch (ev.type) {
    case NPV_EV_TCP_SYN_SENT:  // rule 2: an attempt still waiting for an answer
      e.client_seen = true;
      break;
    case NPV_EV_TCP_ESTABLISHED:  // rule 2
      e.client_seen = true;
      e.client_outcome = Outcome::kEstablished;
      e.has_client_outcome = true;
      e.client_outcome_ns = ev.ts_ns;
      break;
    case NPV_EV_TCP_RST_RECEIVED:  // rule 2: refused, once CLOSED confirms
      e.client_seen = true;
      e.reset_seen = true;
      break;
    case NPV_EV_TCP_CLOSED:  // rule 2a-e
      e.client_seen = true;
      e.sk_err = ev.sk_err;
      e.client_outcome = classify_closed(e.reset_seen, ev.sk_err);
      e.has_client_outcome = true;
      e.client_outcome_ns = ev.ts_ns;
      break;
    case NPV_EV_TCP_ACCEPTED:  // rule 3
      e.server_seen = true;
      break;
    case NPV_EV_UDP_SENT:  // rule 5
      e.client_seen = true;
      break;
    case NPV_EV_UDP_DELIVERED:  // rule 5
      e.server_seen = true;
      e.delivered = true;
      break;
    default:
      break;
  }
  // Rule 10: each end reports its own netns.
  if (ev.netns != 0) {
    if (ev.type == NPV_EV_TCP_ACCEPTED || ev.type == NPV_EV_UDP_DELIVERED)
      e.dst_netns = ev.netns;
    else
      e.src_netns = ev.netns;
  }
  touch(slot, ev.ts_ns);
}

std::vector<ObservedFlow> FlowTracker::take_completed(std::uint64_t now_ns) {
  // Rule 8: every flow whose deadline has passed.
  while (!due_.empty() && due_.top().at <= now_ns) {
    const Due d = due_.top();
    due_.pop();
    Entry& e = slab_[d.slot];
    if (e.id != d.id || !e.queued || e.queued_ns != d.at) continue;  // stale
    if (e.due_ns == d.at) {
      complete(d.slot, true);
    } else {  // the deadline moved later since this was queued
      e.queued_ns = e.due_ns;
      due_.push({e.due_ns, e.id, d.slot});
    }
  }
  return take_ready();
}

std::vector<ObservedFlow> FlowTracker::flush() {
  while (oldest_ != kNil) complete(oldest_, true);
  due_ = {};
  return take_ready();
}

TrackerStats FlowTracker::stats() const {
  TrackerStats s = stats_;
  s.pending = pending_;
  return s;
}

std::uint32_t FlowTracker::find(const FlowTuple& key) const {
  const auto hash = static_cast<std::uint32_t>(TupleHash{}(key));
  return index_.find(hash, [&](std::uint32_t slot) { return slab_[slot].key == key; });
}

std::uint32_t FlowTracker::allocate() {
  if (free_ != kNil) {
    const std::uint32_t slot = free_;
    free_ = slab_[slot].older;
    return slot;
  }
  if (slab_.size() == slab_capacity_) {  // only when max_flows is above the initial capacity
    slab_capacity_ = std::min(2 * slab_capacity_, options_.max_flows);
    slab_.reserve(slab_capacity_);
    index_.reserve(slab_capacity_);
  }
  slab_.emplace_back();
  return static_cast<std::uint32_t>(slab_.size() - 1);
}

void FlowTracker::unlink(std::uint32_t slot) {
  Entry& e = slab_[slot];
  (e.newer == kNil ? newest_ : slab_[e.newer].older) = e.older;
  (e.older == kNil ? oldest_ : slab_[e.older].newer) = e.newer;
}

void FlowTracker::link_front(std::uint32_t slot) {
  Entry& e = slab_[slot];
  e.newer = kNil;
  e.older = newest_;
  (newest_ == kNil ? oldest_ : slab_[newest_].newer) = slot;
  newest_ = slot;
}

void FlowTracker::erase(std::uint32_t slot) {
  Entry& e = slab_[slot];
  if (e.opened_by_drop) --opened_by_drop_;
  index_.erase(e.hash, slot);
  unlink(slot);
  --pending_;
  e.id = kNoId;
  e.older = free_;
  free_ = slot;
}

std::uint32_t FlowTracker::open(const FlowTuple& key, std::uint64_t ts_ns, bool by_drop) {
  // Rule 7: adopt an orphan drop of this flow's reply direction that arrived first (only a flow
  // that a DROP opened can be one: skip the lookup when there is none).
  std::optional<Entry> orphan;
  if (const std::uint32_t r = opened_by_drop_ ? find(key.reversed()) : kNil; r != kNil) {
    const Entry& o = slab_[r];
    if (!o.client_seen && !o.server_seen && !o.syn_dropped) {
      orphan = o;
      erase(r);
    }
  }
  // Rule 9: bounded memory, evict the least recently updated flow.
  while (pending_ >= options_.max_flows) {
    ++stats_.evicted;
    if (!complete(oldest_, false)) ++stats_.evicted_discarded;
  }
  const std::uint32_t slot = allocate();
  Entry& e = slab_[slot];
  e = Entry{};
  e.key = key;
  e.hash = static_cast<std::uint32_t>(TupleHash{}(key));
  e.first_ns = e.last_ns = ts_ns;
  e.id = next_id_++;
  e.opened_by_drop = by_drop;
  opened_by_drop_ += by_drop;
  if (orphan) {
    e.dropped = true;
    e.drop_reason = orphan->drop_reason;
    e.first_ns = std::min(ts_ns, orphan->first_ns);
    e.last_ns = std::max(ts_ns, orphan->last_ns);
  }
  index_.insert(e.hash, slot);
  link_front(slot);
  ++pending_;
  return slot;
}

void FlowTracker::touch(std::uint32_t slot, std::uint64_t ts_ns) {
  Entry& e = slab_[slot];
  e.first_ns = std::min(e.first_ns, ts_ns);  // rule 7: events may arrive out of order
  e.last_ns = std::max(e.last_ns, ts_ns);
  if (newest_ != slot) {
    unlink(slot);
    link_front(slot);
  }
  e.due_ns = deadline(e);
  if (!e.queued || e.due_ns < e.queued_ns) {  // else take_completed() pushes it again (Due)
    e.queued = true;
    e.queued_ns = e.due_ns;
    due_.push({e.due_ns, e.id, slot});
  }
}

void FlowTracker::record_drop(Entry& e, std::uint32_t reason) {
  // Rule 4: the first drop explains the flow (named when the flow is emitted).
  if (e.dropped) return;
  e.dropped = true;
  e.drop_reason = reason;
}

std::string FlowTracker::drop_reason_text(const Entry& e) const {
  if (!e.dropped) return {};
  std::string text;  // rule 4: the name, else the number
  if (options_.drop_reason_name) text = options_.drop_reason_name(e.drop_reason);
  return text.empty() ? std::to_string(e.drop_reason) : text;
}

std::optional<Outcome> FlowTracker::known_outcome(const Entry& e) {
  if (e.key.proto == Protocol::kUDP) {
    if (e.delivered) return Outcome::kDelivered;  // rule 5: delivered wins
    if (e.dropped) return Outcome::kDropped;      // rule 5
    return std::nullopt;
  }
  if (e.has_client_outcome) return e.client_outcome;   // rule 2: the client is authoritative
  if (e.server_seen) return Outcome::kEstablished;     // rule 3: seen by the server only
  return std::nullopt;
}

std::uint64_t FlowTracker::deadline(const Entry& e) const {
  const std::uint64_t settled = after(e.last_ns, options_.settle);  // rule 8
  const bool orphan = !e.client_seen && !e.server_seen && !e.syn_dropped;  // rule 4: waits
  if (known_outcome(e) || orphan) return settled;
  const auto timeout = e.key.proto == Protocol::kUDP ? options_.udp_timeout : options_.tcp_attempt_timeout;
  return std::max(settled, after(e.first_ns, timeout));
}

bool FlowTracker::complete(std::uint32_t slot, bool expired) {
  const Entry& e = slab_[slot];
  std::optional<Outcome> outcome = known_outcome(e);
  const bool orphan = !e.client_seen && !e.server_seen;  // seen by a drop only
  if (!outcome && expired && !orphan)  // rules 5 and 8: no answer in time
    outcome = e.key.proto == Protocol::kUDP ? Outcome::kNotDelivered : Outcome::kTimeout;
  if (outcome) {
    // One allocation per batch instead of a doubling series: each fresh buffer costs page faults.
    if (ready_.capacity() == 0) ready_.reserve(last_batch_size_);
    ObservedFlow& f = ready_.emplace_back();
    f.src = e.key.src;
    f.dst = e.key.dst;
    f.src_port = e.key.src_port;
    f.dst_port = e.key.dst_port;
    f.proto = e.key.proto;
    f.outcome = *outcome;
    f.drop_reason = drop_reason_text(e);
    f.client_seen = e.client_seen;
    f.server_seen = e.server_seen;
    f.sk_err = e.sk_err;
    f.src_netns = e.src_netns;
    f.dst_netns = e.dst_netns;
    f.first_ns = e.first_ns;
    f.last_ns = e.last_ns;
    if (cluster_ != nullptr) {  // rule 10
      f.src_pod = cluster_->find_pod_by_ip(f.src);
      f.dst_pod = cluster_->find_pod_by_ip(f.dst);
    }
    ++stats_.flows_emitted;
  } else if (orphan) {
    ++stats_.unmatched_drops;  // rule 7: a TCP drop that no flow claimed
  }
  erase(slot);
  return outcome.has_value();
}

std::vector<ObservedFlow> FlowTracker::take_ready() {
  std::vector<ObservedFlow> out = std::move(ready_);
  ready_ = {};
  last_batch_size_ = out.size();
  const auto earlier = [](const ObservedFlow& a, const ObservedFlow& b) { return a.first_ns < b.first_ns; };
  if (!std::is_sorted(out.begin(), out.end(), earlier)) std::stable_sort(out.begin(), out.end(), earlier);
  return out;
}

}  // namespace npv
