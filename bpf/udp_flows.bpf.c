// SPDX-License-Identifier: GPL-2.0
/* UDP datagrams sent by and delivered to local sockets, on the cgroup v2 root (every socket).
 *
 *   cgroup_skb/egress   UDP over IPv4/IPv6  -> NPV_EV_UDP_SENT       s = local sender
 *   cgroup_skb/ingress  UDP over IPv4/IPv6  -> NPV_EV_UDP_DELIVERED  s = remote sender,
 *                                                                    d = local receiver
 *
 * Both see the packet with the network header at offset 0, so s/d are the packet's own
 * source/destination. One event per (direction, family, saddr, daddr, sport, dport) per
 * dedup_ns: the LRU map `udp_last_emit` holds the last emit time of each key. Anything else, and
 * repeats within the interval, count NPV_CNT_FILTERED. The programs always return 1: they never
 * affect traffic.
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

#define NPV_UDP_DEDUP_ENTRIES 65536

/* Minimum time between two events for the same key; set by userspace before load. */
const volatile __u64 dedup_ns = 1000000000ULL;

struct udp_key {
	__u8 direction; /* NPV_EV_UDP_SENT or NPV_EV_UDP_DELIVERED */
	__u8 family;
	__u16 sport;
	__u16 dport;
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NPV_UDP_DEDUP_ENTRIES);
	__type(key, struct udp_key);
	__type(value, __u64);
} udp_last_emit SEC(".maps");

#ifndef NPV_UDP_NO_NETNS
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
#endif

/* The network namespace inode of the socket that sends (egress) or receives (ingress). */
static __always_inline __u32 sock_netns(struct __sk_buff *skb)
{
#ifdef NPV_UDP_NO_NETNS
	return 0;
#else
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);

	return BPF_CORE_READ(kskb, sk, __sk_common.skc_net.net, ns.inum);
#endif
}

/* Fills @k from the packet; returns false unless it is an IPv4/IPv6 UDP datagram. */
static __always_inline bool parse_udp(struct __sk_buff *skb, struct udp_key *k)
{
	struct udphdr udp;
	__u32 l4_off;
	__u8 first;

	if (bpf_skb_load_bytes(skb, 0, &first, sizeof(first)))
		return false;

	if (skb->protocol == bpf_htons(NPV_ETH_P_IP) && (first >> 4) == 4) {
		struct iphdr ip4;

		if (bpf_skb_load_bytes(skb, 0, &ip4, sizeof(ip4)) || ip4.protocol != IPPROTO_UDP)
			return false;
		/* a non-first fragment carries no UDP header */
		if ((first & 0xf) < 5 || (ip4.frag_off & bpf_htons(0x1fff)))
			return false;
		k->family = NPV_AF_INET;
		__builtin_memcpy(k->saddr, &ip4.saddr, 4);
		__builtin_memcpy(k->daddr, &ip4.daddr, 4);
		l4_off = (first & 0xf) * 4;
	} else if (skb->protocol == bpf_htons(NPV_ETH_P_IPV6) && (first >> 4) == 6) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) || ip6.nexthdr != IPPROTO_UDP)
			return false;
		k->family = NPV_AF_INET6;
		__builtin_memcpy(k->saddr, &ip6.saddr, 16);
		__builtin_memcpy(k->daddr, &ip6.daddr, 16);
		l4_off = sizeof(ip6);
	} else {
		return false;
	}

	if (bpf_skb_load_bytes(skb, l4_off, &udp, sizeof(udp)))
		return false;
	k->sport = bpf_ntohs(udp.source);
	k->dport = bpf_ntohs(udp.dest);
	return true;
}

/* Claims the right to emit for @k at @now: true if no event for @k within dedup_ns. Exact under
 * concurrency: a new key is inserted with BPF_NOEXIST, an old one advanced with compare-and-swap,
 * so of two CPUs racing on the same key only one wins.
 */
static __always_inline bool dedup_claim(const struct udp_key *k, __u64 now)
{
	__u64 *last, seen;

	last = bpf_map_lookup_elem(&udp_last_emit, k);
	if (!last)
		return bpf_map_update_elem(&udp_last_emit, k, &now, BPF_NOEXIST) == 0;
	seen = *last;
	if (now - seen < dedup_ns)
		return false;
	return __sync_val_compare_and_swap(last, seen, now) == seen;
}

/* True if the packet is certainly not UDP over IPv4/IPv6: the common case (every TCP packet of
 * every socket passes here), decided with direct packet loads instead of helper calls. False when
 * unsure (header not in the linear area): parse_udp() decides then.
 */
static __always_inline bool surely_not_udp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 proto = skb->protocol;

	if (proto == bpf_htons(NPV_ETH_P_IP)) {
		struct iphdr *ip4 = data;

		return (void *)(ip4 + 1) <= data_end && ip4->protocol != IPPROTO_UDP;
	}
	if (proto == bpf_htons(NPV_ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data;

		return (void *)(ip6 + 1) <= data_end && ip6->nexthdr != IPPROTO_UDP;
	}
	return true;
}

static __always_inline void handle(struct __sk_buff *skb, __u8 type)
{
	struct udp_key k;
	struct npv_event *e;
	void *ring;
	__u64 now;

	if (surely_not_udp(skb))
		goto filtered;
	__builtin_memset(&k, 0, sizeof(k));
	if (!parse_udp(skb, &k))
		goto filtered;
	k.direction = type;

	now = bpf_ktime_get_ns();
	if (!dedup_claim(&k, now))
		goto filtered;

	ring = npv_this_cpu_ring();
	e = npv_event_reserve(ring, type);
	if (!e) {
		/* let the next datagram of this flow try again rather than hide it for an interval */
		bpf_map_delete_elem(&udp_last_emit, &k);
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
	return;

filtered:
	npv_count(NPV_CNT_FILTERED);
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
