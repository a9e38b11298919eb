/* Events from npv's eBPF programs (bpf/) to userspace (agent/observe/), through BPF ring buffers.
 *
 * Pure C, shared by both sides: fixed-size integer types, explicit padding, no pointers. The C++
 * side static_asserts the size and offsets (agent/observe/event_abi_check.cpp), so a change here
 * that breaks the layout fails the build instead of corrupting events.
 *
 * Direction: `saddr:sport -> daddr:dport` is always the direction of the flow's first packet
 * (client to server for TCP, sender to receiver for UDP), whichever end the event was seen at:
 *  - TCP client events (SYN_SENT, ESTABLISHED, CLOSED, RST_RECEIVED): s = local, d = remote;
 *    an attempt is reported once, at its outcome (ESTABLISHED or CLOSED stand for the attempt
 *    too); SYN_SENT only says that an attempt is still waiting for an answer;
 *  - TCP_ACCEPTED (server side): s = remote client, d = local server;
 *  - DROP: the dropped packet's own source and destination (a dropped SYN-ACK is server -> client);
 *  - UDP_SENT: s = local sender; UDP_DELIVERED: s = remote sender, d = local receiver.
 * Addresses are in network byte order (IPv4 in the first 4 bytes, rest zero); ports in host
 * byte order.
 */
#ifndef NPV_ABI_FLOW_EVENT_H
#define NPV_ABI_FLOW_EVENT_H

#ifdef __BPF__
/* vmlinux.h provides __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

enum npv_event_type {
	NPV_EV_TCP_SYN_SENT = 1,     /* client: an attempt without an answer so far (a SYN was
	                              * retransmitted; once per retransmission) */
	NPV_EV_TCP_ESTABLISHED = 2,  /* client: an attempt that succeeded (SYN_SENT -> ESTABLISHED) */
	NPV_EV_TCP_CLOSED = 3,       /* client: an attempt that failed (SYN_SENT -> CLOSE); sk_err says
	                              * why (0: closed by the application before any answer, e.g. a
	                              * connect timeout) */
	NPV_EV_TCP_RST_RECEIVED = 4, /* a RST arrived for a socket in SYN_SENT (tcp_receive_reset) */
	NPV_EV_TCP_ACCEPTED = 5,     /* server: SYN_RECV -> ESTABLISHED, a connection accepted */
	NPV_EV_DROP = 6,             /* kfree_skb with a drop reason of interest; for TCP, tcp_flags
	                              * tells a dropped SYN (an attempt) from a dropped reply */
	NPV_EV_UDP_SENT = 7,         /* cgroup_skb egress: first datagram of a 5-tuple per interval */
	NPV_EV_UDP_DELIVERED = 8,    /* cgroup_skb ingress: delivered to a socket, same dedup */
};

/* Indexes of the per-CPU counter array each BPF object exports as `npv_counters`. */
enum npv_counter {
	NPV_CNT_EMITTED = 0,      /* events written to the ring buffer */
	NPV_CNT_RB_FULL = 1,      /* bpf_ringbuf_reserve failed: event lost, counted here */
	NPV_CNT_MAX = 2,          /* hits the in-kernel filter rejects are not counted (cost) */
};

/* Bits of npv_event::tcp_flags, as in the TCP header. */
#define NPV_TCP_FLAG_SYN 0x02
#define NPV_TCP_FLAG_RST 0x04
#define NPV_TCP_FLAG_ACK 0x10

struct npv_event {
	__u64 ts_ns;       /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u64 cookie;      /* socket cookie (bpf_get_socket_cookie), 0 if no socket */
	__u32 netns;       /* network namespace inode number, 0 if unknown */
	__u32 drop_reason; /* DROP: the kernel's enum skb_drop_reason value (names via BTF) */
	__s32 sk_err;      /* TCP_CLOSED: the socket error (ECONNREFUSED, ETIMEDOUT, ...) */
	__u8 type;         /* enum npv_event_type */
	__u8 family;       /* AF_INET (2) or AF_INET6 (10) */
	__u8 protocol;     /* IPPROTO_TCP (6), IPPROTO_UDP (17), IPPROTO_SCTP (132) */
	__u8 tcp_flags;    /* DROP of a TCP packet: its flags byte (NPV_TCP_FLAG_*), else 0 */
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u32 pad1;
};

#endif /* NPV_ABI_FLOW_EVENT_H */
