// EmptyHooks: empty BPF programs on every hook npv's observer uses (empty_hooks.bpf.c), for the
// "empty hooks" phase of npv_observer_bench: the cost of the hooks themselves, before any work.
#pragma once

#include <memory>

#include "npv/error.hpp"

namespace npv::bench {

class EmptyHooks {
 public:
  // Loads and attaches them all (tp_btf programs; cgroup_skb on the cgroup v2 root, found as the
  // observer finds it); detached when destroyed.
  static Result<EmptyHooks> attach();
  EmptyHooks(EmptyHooks&&) noexcept;
  EmptyHooks& operator=(EmptyHooks&&) noexcept;
  ~EmptyHooks();

 private:
  struct Impl;
  explicit EmptyHooks(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace npv::bench
