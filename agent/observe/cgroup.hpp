// The cgroup v2 hierarchy, where cgroup_skb programs attach.
#pragma once

#include <string>

#include "npv/error.hpp"
#include "npv/unique_fd.hpp"

namespace npv::observe {

// The mount point of the cgroup v2 hierarchy, from /proc/self/mounts (the first cgroup2 entry:
// /sys/fs/cgroup on a unified system, /sys/fs/cgroup/unified on a hybrid one).
// Errc::kEnvironment if there is none.
Result<std::string> find_cgroup2_mount();

// A read-only directory fd of the cgroup v2 root, for bpf_program__attach_cgroup: `root` when
// given (a container that mounts the host's hierarchy elsewhere: its own /sys/fs/cgroup shows
// only its cgroup namespace), else find_cgroup2_mount(). kEnvironment when `root` is not a
// cgroup v2 directory.
Result<UniqueFd> open_cgroup2_root(const std::string& root = {});

}  // namespace npv::observe
