// Compile-time check of the event ABI shared with bpf/ (include/npv/abi/flow_event.h): the BPF
// side writes this exact layout into the ring buffers; a change that moves a field fails here.
#include <cstddef>

#include "npv/abi/flow_event.h"

namespace npv::observe {

static_assert(sizeof(npv_event) == 72);
static_assert(alignof(npv_event) == 8);
static_assert(offsetof(npv_event, ts_ns) == 0);
static_assert(offsetof(npv_event, cookie) == 8);
static_assert(offsetof(npv_event, netns) == 16);
static_assert(offsetof(npv_event, drop_reason) == 20);
static_assert(offsetof(npv_event, sk_err) == 24);
static_assert(offsetof(npv_event, type) == 28);
static_assert(offsetof(npv_event, family) == 29);
static_assert(offsetof(npv_event, protocol) == 30);
static_assert(offsetof(npv_event, tcp_flags) == 31);
static_assert(offsetof(npv_event, saddr) == 32);
static_assert(offsetof(npv_event, daddr) == 48);
static_assert(offsetof(npv_event, sport) == 64);
static_assert(offsetof(npv_event, dport) == 66);
static_assert(offsetof(npv_event, pad1) == 68);

static_assert(NPV_CNT_EMITTED == 0 && NPV_CNT_RB_FULL == 1 && NPV_CNT_MAX == 2);
static_assert(NPV_EV_TCP_SYN_SENT == 1 && NPV_EV_UDP_DELIVERED == 8);

}  // namespace npv::observe
