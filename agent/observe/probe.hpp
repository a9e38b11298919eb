// Can this process use eBPF at all? Checked before loading anything, so that a missing
// privilege is reported as one clear line (exit code 3) instead of three load failures.
#pragma once

#include <cerrno>

#include "npv/error.hpp"

namespace npv::observe {

// Ok if the kernel exposes BTF (needed for CO-RE and tp_btf) and this process may create BPF
// maps. Otherwise Errc::kEnvironment with a one-line reason and the errno.
Result<void> probe_bpf_support();

// EPERM or EACCES: the operation failed for lack of privilege.
inline bool is_privilege_errno(int err) { return err == EPERM || err == EACCES; }

// The one-line reason used for every privilege failure.
inline constexpr const char* kNeedPrivileges =
    "eBPF is not permitted for this process: run as root (or with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)";

}  // namespace npv::observe
