// SPDX-License-Identifier: GPL-2.0
/* UDP datagrams sent by and delivered to local sockets, on the cgroup v2 root (every socket).
 *
 *   cgroup_skb/egress   UDP over IPv4/IPv6  -> NPV_EV_UDP_SENT       s = local sender
 *   cgroup_skb/ingress  UDP over IPv4/IPv6  -> NPV_EV_UDP_DELIVERED  s = remote sender,
 *                                                                    d = local receiver
 *
 * Both see the packet with the network header at offset 0, so s/d are the packet's own
 * source/destination. One event per (direction, family, saddr, daddr, sport, dport) per
 * dedup_ns: `udp_recent` remembers the last emit time of the most recent keys (see below).
 * Anything else, and repeats within the interval, are filtered out. The programs always
 * return 1: they never affect traffic.
 *
 * netns: the inode of the socket's network namespace, through the kernel sk_buff behind the
 * context (kfunc bpf_cast_to_kern_ctx, Linux >= 6.3). Built a second time with
 * -DNPV_UDP_NO_NETNS (skeleton udp_flows_compat, netns 0) for kernels without that kfunc.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lib/npv_event.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The dedup cache: an LRU cache of recent keys in a BPF array, 4-way set-associative. A key is
 * reduced to a 64-bit fingerprint (keyed with dedup_seed, random per load, so that nobody can
 * pick a flow whose fingerprint collides with another's); its set is one 64-byte cache line of
 * four (fingerprint, last emit time) ways. A hit within dedup_ns is filtered; a miss replaces
 * the way that emitted longest ago. An LRU hash map did the same with a lock, a free-list refill
 * and, once full, an eviction walk over cold entries per new key: ~1 us per fresh 5-tuple (a DNS
 * client's every query), against one cache line here. The difference: capacity is per set, so
 * more than four busy flows on one set (of 16,384) take turns and emit more often than once per
 * interval; never less.
 */
#define NPV_UDP_DEDUP_WAYS 4
#define NPV_UDP_DEDUP_SETS 16384 /* a power of two: 65,536 keys in 1 MiB */

/* Minimum time between two events for the same key; set by userspace before load. */
const volatile __u64 dedup_ns = 1000000000ULL;
/* Keys the fingerprint; set by userspace before load. */
const volatile __u64 dedup_seed = 0;

/* Five 64-bit words for fingerprint(): 8-byte aligned, no implicit padding. */
struct udp_key {
	__u8 direction; /* NPV_EV_UDP_SENT or NPV_EV_UDP_DELIVERED */
	__u8 family;
	__u16 sport;
	__u16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
} __attribute__((aligned(8)));

struct dedup_way {
	__u64 fingerprint; /* 0: empty */
	__u64 last_ns;     /* bpf_ktime_get_ns() of its last event */
};

struct dedup_set {
	struct dedup_way way[NPV_UDP_DEDUP_WAYS];
};

/* BPF_F_MMAPABLE only for its layout: the values of an mmapable array start on a page, so each
 * set is exactly one cache line (in a plain array they start 16 bytes into one).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, NPV_UDP_DEDUP_SETS);
	__type(key, __u32);
	__type(value, struct dedup_set);
} udp_recent SEC(".maps");

#ifndef NPV_UDP_NO_NETNS
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
#endif

/* The network namespace inode of the socket that sends (egress) or receives (ingress). */
static __always_inline __u32 sock_netns(struct __sk_buff *skb)
{
#ifdef NPV_UDP_NO_NETNS
	return 0;
#else
	/* a BTF pointer: direct (CO-RE relocated, fault-safe) loads, not bpf_probe_read_kernel() */
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct sock *sk = kskb->sk;

	return sk ? sk->__sk_common.skc_net.net->ns.inum : 0;
#endif
}

/* The @len bytes at @off of the packet: in place when they are in the linear area (nearly
 * always: a direct load is far cheaper than a helper call, and every TCP packet of every socket
 * passes these programs), else copied into @buf by bpf_skb_load_bytes(). NULL if the packet is
 * shorter.
 */
static __always_inline const void *header_at(struct __sk_buff *skb, __u32 off, void *buf, __u32 len)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (data + off + len <= data_end)
		return data + off;
	if (bpf_skb_load_bytes(skb, off, buf, len))
		return NULL;
	return buf;
}

/* Fills @k (zeroed first) from the packet; returns false unless it is an IPv4/IPv6 UDP datagram.
 * A TCP packet leaves after one load.
 */
static __always_inline bool parse_udp(struct __sk_buff *skb, struct udp_key *k)
{
	union {
		struct iphdr v4;
		struct ipv6hdr v6;
	} ip_copy;
	struct udphdr udp_copy;
	const struct udphdr *udp;
	__u32 l4_off;

	if (skb->protocol == bpf_htons(NPV_ETH_P_IP)) {
		const struct iphdr *ip4 = header_at(skb, 0, &ip_copy, sizeof(ip_copy.v4));

		if (!ip4 || ip4->protocol != IPPROTO_UDP)
			return false;
		/* a non-first fragment carries no UDP header */
		if (ip4->version != 4 || ip4->ihl < 5 || (ip4->frag_off & bpf_htons(0x1fff)))
			return false;
		l4_off = ip4->ihl * 4;
		__builtin_memset(k, 0, sizeof(*k));
		k->family = NPV_AF_INET;
		__builtin_memcpy(k->saddr, &ip4->saddr, 4);
		__builtin_memcpy(k->daddr, &ip4->daddr, 4);
	} else if (skb->protocol == bpf_htons(NPV_ETH_P_IPV6)) {
		const struct ipv6hdr *ip6 = header_at(skb, 0, &ip_copy, sizeof(ip_copy.v6));

		if (!ip6 || ip6->nexthdr != IPPROTO_UDP || ip6->version != 6)
			return false;
		l4_off = sizeof(*ip6);
		__builtin_memset(k, 0, sizeof(*k));
		k->family = NPV_AF_INET6;
		__builtin_memcpy(k->saddr, &ip6->saddr, 16);
		__builtin_memcpy(k->daddr, &ip6->daddr, 16);
	} else {
		return false;
	}

	udp = header_at(skb, l4_off, &udp_copy, sizeof(udp_copy));
	if (!udp)
		return false;
	k->sport = bpf_ntohs(udp->source);
	k->dport = bpf_ntohs(udp->dest);
	return true;
}

static __always_inline __u64 mix64(__u64 h, __u64 w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/* The seeded 64-bit fingerprint of @k (never 0, the empty way): its five words mixed, then
 * murmur3's finalizer.
 */
static __always_inline __u64 fingerprint(const struct udp_key *k)
{
	const __u64 *w = (const __u64 *)k;
	__u64 h = dedup_seed;

	h = mix64(h, w[0]);
	h = mix64(h, w[1]);
	h = mix64(h, w[2]);
	h = mix64(h, w[3]);
	h = mix64(h, w[4]);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h ? h : 1;
}

/* Whether the key with fingerprint @fp may emit at @now: false if it emitted within dedup_ns.
 * When true, *@claim is the last_ns set to @now (for forget_claim), or NULL if there is nothing
 * to undo. Racing CPUs: of two that find the same key due, one wins the compare-and-swap; a new
 * key takes the way that emitted longest ago and always emits (two CPUs racing on one new key
 * may both emit: a duplicate, never a loss).
 */
static __always_inline bool dedup_claim(__u64 fp, __u64 now, __u64 **claim)
{
	__u32 idx = (__u32)(fp >> 32) & (NPV_UDP_DEDUP_SETS - 1);
	struct dedup_set *set = bpf_map_lookup_elem(&udp_recent, &idx);
	__u64 oldest = ~0ULL, seen;
	__u32 victim = 0;
	struct dedup_way *w;

	*claim = NULL;
	if (!set)
		return true; /* cannot happen (idx < max_entries); emitting is the safe side */
#pragma unroll
	for (__u32 i = 0; i < NPV_UDP_DEDUP_WAYS; i++) {
		w = &set->way[i];
		seen = w->last_ns;
		if (w->fingerprint == fp) {
			/* signed: another CPU may have stamped it a little after our `now` */
			if ((__s64)(now - seen) < (__s64)dedup_ns)
				return false;
			if (__sync_val_compare_and_swap(&w->last_ns, seen, now) == seen) {
				*claim = &w->last_ns;
				return true;
			}
			/* lost a race: to a CPU emitting this key now (filter), or to a new key that
			 * took the way (emit)
			 */
			return w->fingerprint != fp;
		}
		if (seen < oldest) {
			oldest = seen;
			victim = i;
		}
	}
	w = &set->way[victim & (NPV_UDP_DEDUP_WAYS - 1)];
	if (__sync_val_compare_and_swap(&w->last_ns, oldest, now) == oldest) {
		w->fingerprint = fp;
		*claim = &w->last_ns;
	}
	return true;
}

/* Undoes a claim whose event could not be written: the next datagram of the flow tries again
 * rather than being hidden for an interval.
 */
static __always_inline void forget_claim(__u64 *last_ns, __u64 now)
{
	if (last_ns)
		__sync_val_compare_and_swap(last_ns, now, 0);
}

static __always_inline void handle(struct __sk_buff *skb, __u8 type)
{
	struct udp_key k;
	struct npv_event *e;
	__u64 now, *claim;
	void *ring;

	if (!parse_udp(skb, &k))
		return;
	k.direction = type;

	now = bpf_ktime_get_ns();
	if (!dedup_claim(fingerprint(&k), now, &claim))
		return;

	ring = npv_this_cpu_ring();
	e = npv_event_reserve(ring, type);
	if (!e) {
		forget_claim(claim, now);
		return;
	}
	e->ts_ns = now;
	e->family = k.family;
	e->protocol = IPPROTO_UDP;
	__builtin_memcpy(e->saddr, k.saddr, 16);
	__builtin_memcpy(e->daddr, k.daddr, 16);
	e->sport = k.sport;
	e->dport = k.dport;
	e->cookie = bpf_get_socket_cookie(skb);
	e->netns = sock_netns(skb);
	npv_event_submit(ring, e);
}

SEC("cgroup_skb/egress")
int npv_udp_egress(struct __sk_buff *skb)
{
	handle(skb, NPV_EV_UDP_SENT);
	return 1;
}

SEC("cgroup_skb/ingress")
int npv_udp_ingress(struct __sk_buff *skb)
{
	handle(skb, NPV_EV_UDP_DELIVERED);
	return 1;
}
