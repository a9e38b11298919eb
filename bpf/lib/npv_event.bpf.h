/* SPDX-License-Identifier: GPL-2.0 */
/* The two maps every npv BPF object exports, and the helpers to emit events through them.
 *
 * Include this header exactly once per object (it defines maps):
 *  - `events`: one BPF ring buffer of struct npv_event per CPU, in an array of maps indexed by
 *    CPU number. Userspace sizes the array (possible CPUs) and the rings (a power of two, >= one
 *    page) before load, and creates and inserts the rings after load, before attaching. A ring
 *    per CPU because one ring shared by all CPUs made every event fight over its lock, producer
 *    position and the cache lines of its neighbours' records: ~100 ns per reserve+submit with two
 *    CPUs emitting, ~20 ns with a ring each. Events of different CPUs are ordered by ts_ns in
 *    userspace (Observer::poll).
 *  - `npv_counters`: per-CPU array indexed by enum npv_counter. Userspace sums the CPUs.
 *
 * Wakeups: records are submitted with BPF_RB_NO_WAKEUP - waking the reader for every record (an
 * irq_work and a wake_up per event) cost more than everything else the hooks do. The reader reads
 * on its own timer (Observer::poll's timeout bounds the latency) and is woken early, with
 * BPF_RB_FORCE_WAKEUP, by the records that bring the unread data to npv_wakeup_bytes (set by
 * userspace before load to a quarter of the ring), so that a burst cannot fill the ring between
 * two timer reads. Only the records within NPV_WAKEUP_WINDOW bytes past that mark force a wakeup
 * (a window, not one exact record: producers on several CPUs race): past it, a reader that is
 * already awake, or that does not read at all, is not sent a wakeup (an IPI, microseconds) per
 * record.
 *
 * Accounting contract: every hook hit that passes the in-kernel filter ends in exactly one of
 * NPV_CNT_EMITTED (event submitted) or NPV_CNT_RB_FULL (reserve failed, event lost). Nothing is
 * lost silently. Hits that the filter rejects are not counted: most hits are filtered (about 11
 * per TCP connection), and counting them cost ~30 ns each, more than the filter itself (the
 * counter's per-CPU page is rarely in the TLB under load). With kernel.bpf_stats_enabled the
 * programs' run counts give them: runs - emitted - lost.
 */
#ifndef NPV_BPF_LIB_NPV_EVENT_H
#define NPV_BPF_LIB_NPV_EVENT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "npv/abi/flow_event.h"

#define NPV_AF_INET 2
#define NPV_AF_INET6 10
#define NPV_ETH_P_IP 0x0800
#define NPV_ETH_P_IPV6 0x86DD

#define NPV_RINGBUF_DEFAULT_BYTES (1 << 22)

/* Unread bytes from which a submit wakes the reader; set by userspace before load. */
const volatile __u64 npv_wakeup_bytes = NPV_RINGBUF_DEFAULT_BYTES / 4;
/* Bytes past that mark within which a submit still wakes it (16 records of up to 128 bytes). */
#define NPV_WAKEUP_WINDOW (16 * 128)

struct npv_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, NPV_RINGBUF_DEFAULT_BYTES);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct npv_ring);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NPV_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} npv_counters SEC(".maps");

static __always_inline void npv_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&npv_counters, &idx);

	/* atomic: on a preemptible kernel two programs can interleave on one CPU */
	if (v)
		__sync_fetch_and_add(v, 1);
}

/* This CPU's ring (NULL only if userspace did not insert one: counted as lost by the callers). */
static __always_inline void *npv_this_cpu_ring(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&events, &cpu);
}

/* Reserves a zeroed event of type @type in @ring, or counts NPV_CNT_RB_FULL and returns NULL. */
static __always_inline struct npv_event *npv_event_reserve(void *ring, __u8 type)
{
	struct npv_event *e = NULL;

	if (ring)
		e = bpf_ringbuf_reserve(ring, sizeof(*e), 0);
	if (!e) {
		npv_count(NPV_CNT_RB_FULL);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->ts_ns = bpf_ktime_get_ns();
	return e;
}

/* Submits @e, reserved in @ring. */
static __always_inline void npv_event_submit(void *ring, struct npv_event *e)
{
	__u64 flags = BPF_RB_NO_WAKEUP;
	/* the record is reserved, so it is counted in the unread data already */
	__u64 unread = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);

	if (unread >= npv_wakeup_bytes && unread < npv_wakeup_bytes + NPV_WAKEUP_WINDOW)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
	npv_count(NPV_CNT_EMITTED);
}

/* Copies an event built on the stack into the ring buffer (counts EMITTED or RB_FULL). */
static __always_inline void npv_event_emit(const struct npv_event *ev)
{
	void *ring = npv_this_cpu_ring();
	struct npv_event *e = NULL;

	if (ring)
		e = bpf_ringbuf_reserve(ring, sizeof(*e), 0);
	if (!e) {
		npv_count(NPV_CNT_RB_FULL);
		return;
	}
	__builtin_memcpy(e, ev, sizeof(*e));
	npv_event_submit(ring, e);
}

#endif /* NPV_BPF_LIB_NPV_EVENT_H */
