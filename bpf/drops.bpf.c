// SPDX-License-Identifier: GPL-2.0
/* Packets a policy datapath dropped: kfree_skb with a drop reason of interest.
 *
 *   kfree_skb  reason in NETFILTER_DROP, TC_INGRESS, TC_EGRESS and the tc error reasons
 *              (TC_ERROR, TC_COOKIE_ERROR, TC_CHAIN_NOTFOUND, TC_RECLASSIFY_LOOP) that exist
 *              on the running kernel; IPv4 or IPv6 packet
 *              -> NPV_EV_DROP: s/d = the dropped packet's own source/destination,
 *                 drop_reason = the raw enum skb_drop_reason value, netns of skb->dev
 *                 (else of skb->sk, else 0), the cookie skb->sk already has (0 without a
 *                 socket or if none was ever assigned), tcp_flags = the TCP flags byte of a
 *                 TCP packet (a dropped SYN is a connection attempt: its client may not report
 *                 it before the outcome, see tcp_state.bpf.c)
 *
 * Every other reason, and packets that are not IPv4/IPv6, are filtered out (not counted: see
 * bpf/lib/npv_event.bpf.h).
 * Reason values differ between kernels: they are resolved through BTF at load time (CO-RE),
 * from a local flavor of the enum so that the object also builds against a vmlinux.h that lacks
 * some of them.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/npv_event.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Names matched against the kernel's enum skb_drop_reason; the values here are placeholders. */
enum skb_drop_reason___npv {
	SKB_DROP_REASON_NETFILTER_DROP___npv = 1,
	SKB_DROP_REASON_TC_INGRESS___npv,
	SKB_DROP_REASON_TC_EGRESS___npv,
	SKB_DROP_REASON_TC_ERROR___npv,
	SKB_DROP_REASON_TC_COOKIE_ERROR___npv,
	SKB_DROP_REASON_TC_CHAIN_NOTFOUND___npv,
	SKB_DROP_REASON_TC_RECLASSIFY_LOOP___npv,
};

#define NPV_IS_REASON(r, name)                                                              \
	(bpf_core_enum_value_exists(enum skb_drop_reason___npv,                             \
				    SKB_DROP_REASON_##name##___npv) &&                      \
	 (r) == bpf_core_enum_value(enum skb_drop_reason___npv, SKB_DROP_REASON_##name##___npv))

static __always_inline bool reason_of_interest(__u32 r)
{
	return NPV_IS_REASON(r, NETFILTER_DROP) || NPV_IS_REASON(r, TC_INGRESS) ||
	       NPV_IS_REASON(r, TC_EGRESS) || NPV_IS_REASON(r, TC_ERROR) ||
	       NPV_IS_REASON(r, TC_COOKIE_ERROR) || NPV_IS_REASON(r, TC_CHAIN_NOTFOUND) ||
	       NPV_IS_REASON(r, TC_RECLASSIFY_LOOP);
}

/* The fixed headers we parse, in wire format (no bitfields: version/IHL are read as a byte). */
struct npv_ipv4 {
	__u8 version_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__be16 check;
	__u8 saddr[4];
	__u8 daddr[4];
};

struct npv_ipv6 {
	__be32 version_class_flow;
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* The first 14 bytes of a TCP header; UDP and SCTP start with the same two ports. */
struct npv_l4_head {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
	__u8 doff_res;
	__u8 flags;
};

static __always_inline bool has_ports(__u8 protocol)
{
	return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP;
}

/* Fills family, protocol, addresses and ports of @e from the packet at @nh.
 * Returns false if it is not an IPv4/IPv6 packet. The transport header is located from the IP
 * header, not skb->transport_header, which is not yet set on the receive path.
 */
static __always_inline bool parse_packet(struct npv_event *e, const void *nh, __be16 proto)
{
	struct npv_l4_head l4 = {};
	const void *th = NULL;
	__u8 first;

	if (bpf_probe_read_kernel(&first, sizeof(first), nh))
		return false;

	if (proto == bpf_htons(NPV_ETH_P_IP) && (first >> 4) == 4) {
		struct npv_ipv4 ip4;

		if (bpf_probe_read_kernel(&ip4, sizeof(ip4), nh) || (first & 0xf) < 5)
			return false;
		e->family = NPV_AF_INET;
		e->protocol = ip4.protocol;
		__builtin_memcpy(e->saddr, ip4.saddr, 4);
		__builtin_memcpy(e->daddr, ip4.daddr, 4);
		/* a non-first fragment carries no transport header */
		if (!(ip4.frag_off & bpf_htons(0x1fff)))
			th = nh + (first & 0xf) * 4;
	} else if (proto == bpf_htons(NPV_ETH_P_IPV6) && (first >> 4) == 6) {
		struct npv_ipv6 ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), nh))
			return false;
		e->family = NPV_AF_INET6;
		e->protocol = ip6.nexthdr;
		__builtin_memcpy(e->saddr, ip6.saddr, 16);
		__builtin_memcpy(e->daddr, ip6.daddr, 16);
		th = nh + sizeof(ip6);
	} else {
		return false;
	}

	if (th && e->protocol == IPPROTO_TCP && !bpf_probe_read_kernel(&l4, sizeof(l4), th)) {
		e->sport = bpf_ntohs(l4.source);
		e->dport = bpf_ntohs(l4.dest);
		e->tcp_flags = l4.flags;
	} else if (th && has_ports(e->protocol) && !bpf_probe_read_kernel(&l4, 4, th)) {
		e->sport = bpf_ntohs(l4.source);
		e->dport = bpf_ntohs(l4.dest);
	}
	return true;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(npv_kfree_skb, struct sk_buff *skb, void *location, unsigned int reason)
{
	struct npv_event ev;
	struct net_device *dev;
	struct sock *sk;
	__u16 network_header;
	unsigned char *head;
	__be16 proto;

	if (!reason_of_interest(reason))
		return 0;

	/* skb is a BTF pointer: direct (CO-RE relocated, fault-safe) loads; the packet bytes it
	 * points to are not typed, so parse_packet() reads them with bpf_probe_read_kernel()
	 */
	head = skb->head;
	network_header = skb->network_header;
	proto = skb->protocol;
	if (!head || network_header == (__u16)~0U)
		return 0;

	__builtin_memset(&ev, 0, sizeof(ev));
	if (!parse_packet(&ev, head + network_header, proto))
		return 0;
	ev.type = NPV_EV_DROP;
	ev.ts_ns = bpf_ktime_get_ns();
	ev.drop_reason = reason;
	dev = skb->dev;
	sk = skb->sk;
	if (dev)
		ev.netns = dev->nd_net.net->ns.inum;
	if (!ev.netns && sk)
		ev.netns = sk->__sk_common.skc_net.net->ns.inum;
	/* bpf_get_socket_cookie() rejects skb->sk here (an RCU pointer): read the cookie the socket
	 * already has. Every socket npv's TCP/UDP hooks saw has one; others read 0.
	 */
	if (sk)
		ev.cookie = sk->__sk_common.skc_cookie.counter;
	npv_event_emit(&ev);
	return 0;
}
