// SPDX-License-Identifier: GPL-2.0
/* npv_observer_bench's "empty hooks" phase: a do-nothing program on each of the hooks npv's
 * observer uses (the programs in bpf/). The storm's slowdown under these is what the hooks cost
 * before npv does any work: the kernel's dispatch to a BPF program (trampoline, RCU and
 * recursion guards, the cgroup program array for every packet), the floor under any observer of
 * these events.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/inet_sock_set_state")
int empty_inet_sock_set_state(void *ctx) { return 0; }

SEC("tp_btf/inet_sk_error_report")
int empty_inet_sk_error_report(void *ctx) { return 0; }

SEC("tp_btf/tcp_receive_reset")
int empty_tcp_receive_reset(void *ctx) { return 0; }

SEC("tp_btf/tcp_retransmit_skb")
int empty_tcp_retransmit_skb(void *ctx) { return 0; }

SEC("tp_btf/kfree_skb")
int empty_kfree_skb(void *ctx) { return 0; }

SEC("cgroup_skb/egress")
int empty_cgroup_egress(struct __sk_buff *skb) { return 1; }

SEC("cgroup_skb/ingress")
int empty_cgroup_ingress(struct __sk_buff *skb) { return 1; }
