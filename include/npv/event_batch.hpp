// EventBatch: the events one Observer::poll read from its ring buffers, delivered in time order.
//
// Each hook group has one ring buffer per CPU (bpf/lib/npv_event.bpf.h). A poll reads the rings
// one after the other, so what it read is a sequence of runs, one per ring, each in the order its
// CPU produced them; events of different CPUs (and groups) interleave in time. The batch merges
// the runs by npv_event::ts_ns before delivering, so that the FlowTracker sees the events of one
// connection in the order they happened (a SYN retransmission before the CLOSED it led to, on
// another CPU). A run that is not in ts order on its own (a program preempted between reserving
// and stamping its record) is sorted first. Events with equal ts_ns keep their ring order.
//
// Delivery may stop half-way (the callback throws): the rest stays, and is delivered before
// anything newer by the next deliver().
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "npv/abi/flow_event.h"

namespace npv {

class EventBatch {
 public:
  // Starts the run of another ring: the events added next come from it.
  void begin_run();
  // Appends an event to the current run (a first add without begin_run() starts one).
  void add(const npv_event& event);
  // Orders what was added since the last deliver() (with what that one left) by ts_ns, then
  // calls on_event for each, oldest first. Returns the number delivered. If on_event throws,
  // the exception propagates; the event that threw counts as delivered, the rest stays.
  int deliver(const std::function<void(const npv_event&)>& on_event);
  // Events added and not delivered yet.
  std::size_t pending() const { return events_.size() - next_; }

 private:
  void order();

  std::vector<npv_event> events_;
  std::size_t next_ = 0;           // first undelivered event
  std::vector<std::size_t> runs_;  // start of each run in events_, from next_ on
};

}  // namespace npv
