#include "observe/probe.hpp"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "npv/unique_fd.hpp"

namespace npv::observe {

namespace {
constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";
}

Result<void> probe_bpf_support() {
  if (::access(kVmlinuxBtf, R_OK) != 0) {
    const int err = errno;
    if (is_privilege_errno(err)) return make_error(Errc::kEnvironment, kNeedPrivileges, err);
    return make_error(Errc::kEnvironment,
                      std::string("kernel BTF is not available (") + kVmlinuxBtf + ": " + std::strerror(err) +
                          "): npv needs a kernel built with CONFIG_DEBUG_INFO_BTF",
                      err);
  }
  // The cheapest privileged bpf() call; also tells a kernel without bpf() apart.
  UniqueFd map(bpf_map_create(BPF_MAP_TYPE_ARRAY, "npv_probe", sizeof(__u32), sizeof(__u32), 1, nullptr));
  if (!map) {
    const int err = errno;
    if (is_privilege_errno(err)) return make_error(Errc::kEnvironment, kNeedPrivileges, err);
    if (err == ENOSYS)
      return make_error(Errc::kEnvironment, "the kernel has no bpf() system call (CONFIG_BPF_SYSCALL)", err);
    return make_error(Errc::kEnvironment, std::string("cannot create a BPF map: ") + std::strerror(err), err);
  }
  return {};
}

}  // namespace npv::observe
