// SPDX-License-Identifier: GPL-2.0
/* TCP connection attempts and how they end, seen at both ends through socket state changes.
 *
 *   inet_sock_set_state  SYN_SENT -> ESTABLISHED  NPV_EV_TCP_ESTABLISHED  s = local, d = remote
 *                        SYN_SENT -> CLOSE        NPV_EV_TCP_CLOSED       s = local, d = remote,
 *                                                 sk_err = sk->sk_err (set before tcp_done),
 *                                                 else sk_err_soft, else a queued ICMP error
 *                        SYN_RECV -> ESTABLISHED  NPV_EV_TCP_ACCEPTED     s = remote, d = local
 *   tcp_retransmit_skb   sk in SYN_SENT           NPV_EV_TCP_SYN_SENT     s = local, d = remote
 *   tcp_receive_reset    sk in SYN_SENT           NPV_EV_TCP_RST_RECEIVED s = local, d = remote
 *   inet_sk_error_report sk in SYN_SENT           nothing: records the error for CLOSED (below)
 *
 * One event per attempt, at its outcome: ESTABLISHED and CLOSED stand for the attempt as well
 * (the ABI says so), and the attempt itself is only reported while it waits for an answer, by
 * its SYN retransmissions (the first one leaves after the initial RTO, 1 s). Reporting every
 * attempt when it starts would double the events of the common case, and needs a hook after
 * connect() has picked the local port: CLOSE -> SYN_SENT happens before that (tcp_v4_connect:
 * tcp_set_state(SYN_SENT), then inet_hash_connect()), and the one hook after it, a sockops
 * program, runs for every callback of every TCP socket (about 9 per connection). A SYN dropped
 * by a policy is reported at once anyway, by the drops group, with its TCP flags.
 *
 * CLOSED's sk_err beyond sk->sk_err: an ICMP error (e.g. the port unreachable of an nftables
 * `reject`) that arrives while connect() holds the socket lock - always so over loopback or
 * veth, where the answer is processed inside the connect() call - does not close the socket: it
 * is only recorded in sk_err_soft (and, for IPv4, queued on the error queue). The socket closes
 * later: on the retransmitted SYN's answer (with sk_err set), or, with sk_err 0, when the
 * application gives up (e.g. a non-blocking connect whose SO_ERROR returned, and cleared, the
 * soft error, followed by close()). So sk_err 0 falls
 * back to sk_err_soft (what the kernel itself reports when the SYN retries run out), then to the
 * errno of an ICMP error still queued on the socket, then to the error recorded when the ICMP
 * error was reported (inet_sk_error_report: the queueing reports it), in case the application
 * consumed both (SO_ERROR clears sk_err_soft, MSG_ERRQUEUE dequeues).
 *
 * A dual-stack (AF_INET6) socket talking IPv4 (v4-mapped peer) is reported as AF_INET with the
 * IPv4 addresses, like the packets on the wire. Every other transition, protocol or family is
 * filtered out.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "lib/npv_event.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The ICMP error reported to a SYN_SENT socket (see closed_errno), in the socket's own local
 * storage: it goes away with the socket, and looking it up on a socket that has none (every
 * connection that succeeds) is a pointer test, where a hash map keyed by cookie cost a locked
 * delete on every ESTABLISHED.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __s32);
} syn_sent_errors SEC(".maps");

#define NPV_SO_EE_ORIGIN_ICMP 2
#define NPV_SO_EE_ORIGIN_ICMP6 3

/* The errno of the ICMP error at the head of @sk's error queue (tcp_v4_err queues the ICMP
 * errors of a SYN_SENT socket there), or 0.
 */
static __always_inline int queued_icmp_errno(const struct sock *sk)
{
	struct sock_exterr_skb *serr;
	struct sk_buff *skb;
	__u8 origin;

	if (!BPF_CORE_READ(sk, sk_error_queue.qlen))
		return 0;
	skb = BPF_CORE_READ(sk, sk_error_queue.next);
	if (!skb)
		return 0;
	serr = (void *)skb + bpf_core_field_offset(struct sk_buff, cb);
	origin = BPF_CORE_READ(serr, ee.ee_origin);
	if (origin != NPV_SO_EE_ORIGIN_ICMP && origin != NPV_SO_EE_ORIGIN_ICMP6)
		return 0;
	return BPF_CORE_READ(serr, ee.ee_errno);
}

/* The error a SYN_SENT socket holds now: sk_err, else the soft error, else a queued ICMP error. */
static __always_inline int pending_errno(const struct sock *sk)
{
	int err = BPF_CORE_READ(sk, sk_err);

	if (!err)
		err = BPF_CORE_READ(sk, sk_err_soft);
	if (!err)
		err = queued_icmp_errno(sk);
	return err;
}

/* Why a SYN_SENT socket closed: what it holds now, else the ICMP error recorded when it was
 * reported (the application may have consumed it since).
 */
static __always_inline int closed_errno(struct sock *sk)
{
	int err = pending_errno(sk);
	__s32 *reported;

	if (!err) {
		reported = bpf_sk_storage_get(&syn_sent_errors, sk, NULL, 0);
		if (reported)
			err = *reported;
	}
	return err;
}

/* Forgets the recorded ICMP error of @sk when it leaves SYN_SENT (a socket may connect again
 * after a failed attempt); nothing to do, and no lock taken, on a socket that has none.
 */
static __always_inline void forget_error(struct sock *sk)
{
	if (bpf_sk_storage_get(&syn_sent_errors, sk, NULL, 0))
		bpf_sk_storage_delete(&syn_sent_errors, sk);
}

static __always_inline bool is_v4mapped_peer(const struct sock *sk)
{
	const __u32 *w = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff);
}

/* Fills netns, family, addresses and ports of @e from @sk (AF_INET or AF_INET6, checked by the
 * caller); the cookie is filled by the caller (the helper's argument differs per program type).
 * @swap puts the socket's remote end in s (server side: the first packet came from the client).
 * @sk is a BTF pointer (tp_btf argument, bpf_skc_to_tcp_sock): fields are loaded directly (CO-RE
 * relocated, fault-safe), which costs a fraction of a bpf_probe_read_kernel() call each.
 */
static __always_inline void fill_from_sock(struct npv_event *e, const struct sock *sk, bool swap)
{
	const struct sock_common *skc = &sk->__sk_common;
	__u16 family = skc->skc_family;
	__u16 lport = skc->skc_num;
	__u16 rport = bpf_ntohs(skc->skc_dport);
	__u32 *local = (__u32 *)(swap ? e->daddr : e->saddr);
	__u32 *remote = (__u32 *)(swap ? e->saddr : e->daddr);

	/* on SYN_SENT -> CLOSE the port is already released (inet_num = 0); inet_sport remains
	 * (outside struct sock: read through CO-RE, this path is rare)
	 */
	if (!lport)
		lport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));

	if (family == NPV_AF_INET6 && !is_v4mapped_peer(sk)) {
		const __u32 *l = skc->skc_v6_rcv_saddr.in6_u.u6_addr32;
		const __u32 *r = skc->skc_v6_daddr.in6_u.u6_addr32;

		local[0] = l[0], local[1] = l[1], local[2] = l[2], local[3] = l[3];
		remote[0] = r[0], remote[1] = r[1], remote[2] = r[2], remote[3] = r[3];
	} else {
		family = NPV_AF_INET;
		local[0] = skc->skc_rcv_saddr;
		remote[0] = skc->skc_daddr;
	}
	e->family = family;
	e->protocol = IPPROTO_TCP;
	e->sport = swap ? rport : lport;
	e->dport = swap ? lport : rport;
	e->netns = skc->skc_net.net->ns.inum;
}

static __always_inline bool is_inet_tcp(const struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	return sk->sk_protocol == IPPROTO_TCP && (family == NPV_AF_INET || family == NPV_AF_INET6);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(npv_inet_sock_set_state, const struct sock *sk, int oldstate, int newstate)
{
	struct npv_event *e;
	void *ring;
	bool swap = false;
	__u8 type;

	/* the transitions of interest first: most hits are other transitions */
	if (oldstate != TCP_SYN_SENT && oldstate != TCP_SYN_RECV)
		return 0;
	if (!is_inet_tcp(sk))
		return 0;

	if (oldstate == TCP_SYN_SENT && newstate == TCP_ESTABLISHED) {
		type = NPV_EV_TCP_ESTABLISHED;
	} else if (oldstate == TCP_SYN_SENT && newstate == TCP_CLOSE) {
		type = NPV_EV_TCP_CLOSED;
	} else if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		type = NPV_EV_TCP_ACCEPTED;
		swap = true;
	} else {
		return 0;
	}

	ring = npv_this_cpu_ring();
	e = npv_event_reserve(ring, type);
	if (!e)
		return 0;
	fill_from_sock(e, sk, swap);
	e->cookie = bpf_get_socket_cookie((void *)sk);
	if (type == NPV_EV_TCP_CLOSED)
		e->sk_err = closed_errno((struct sock *)sk);
	if (type != NPV_EV_TCP_ACCEPTED)
		forget_error((struct sock *)sk);
	npv_event_submit(ring, e);
	return 0;
}

/* Records the ICMP error of a SYN_SENT socket when it is reported, before the application can
 * consume it (SO_ERROR clears the soft error, MSG_ERRQUEUE dequeues the queued one). Emits nothing.
 */
SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(npv_inet_sk_error_report, const struct sock *sk)
{
	__s32 *recorded;
	__s32 err;

	if (is_inet_tcp(sk) && sk->__sk_common.skc_state == TCP_SYN_SENT) {
		err = pending_errno(sk);
		if (err) {
			recorded = bpf_sk_storage_get(&syn_sent_errors, (struct sock *)sk, NULL,
						      BPF_SK_STORAGE_GET_F_CREATE);
			if (recorded)
				*recorded = err;
		}
	}
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(npv_tcp_receive_reset, struct sock *sk)
{
	struct npv_event *e;
	void *ring;

	if (!is_inet_tcp(sk) || sk->__sk_common.skc_state != TCP_SYN_SENT)
		return 0;
	ring = npv_this_cpu_ring();
	e = npv_event_reserve(ring, NPV_EV_TCP_RST_RECEIVED);
	if (!e)
		return 0;
	fill_from_sock(e, sk, false);
	e->cookie = bpf_get_socket_cookie(sk);
	npv_event_submit(ring, e);
	return 0;
}

/* A SYN retransmitted: the attempt is still waiting for an answer (see the top of this file). */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(npv_tcp_retransmit_skb, const struct sock *sk, const struct sk_buff *skb, int err)
{
	struct npv_event *e;
	void *ring;

	if (sk->__sk_common.skc_state != TCP_SYN_SENT || !is_inet_tcp(sk))
		return 0;
	ring = npv_this_cpu_ring();
	e = npv_event_reserve(ring, NPV_EV_TCP_SYN_SENT);
	if (!e)
		return 0;
	fill_from_sock(e, sk, false);
	e->cookie = bpf_get_socket_cookie((void *)sk);
	npv_event_submit(ring, e);
	return 0;
}
