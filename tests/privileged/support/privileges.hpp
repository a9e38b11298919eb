// NPV_REQUIRE_PRIVILEGES(): the first statement of a privileged test (or of its fixture's SetUp).
//
// Without root or without eBPF the test is skipped (GTEST_SKIP), so the suite still runs on a
// developer laptop. Under CI=true it fails instead: in CI a skipped privileged test would report
// success for something that was never tested.
//
// Header-only and independent of libbpf, so every privileged test binary can use it.
#pragma once

#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace npv::test {

// Why privileged tests cannot run here, or nullopt if they can: root, a bpf() that may create a
// map, and kernel BTF (every npv BPF object is CO-RE).
inline std::optional<std::string> missing_privileges() {
  if (::geteuid() != 0) return std::string("not running as root");
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  const long fd = ::syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
  if (fd < 0) return std::string("eBPF unavailable: bpf(BPF_MAP_CREATE): ") + std::strerror(errno);
  ::close(static_cast<int>(fd));
  if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) return std::string("no kernel BTF at /sys/kernel/btf/vmlinux");
  return std::nullopt;
}

// CI=true, as GitHub Actions and GitLab CI set it.
inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

}  // namespace npv::test

#define NPV_REQUIRE_PRIVILEGES()                                                      \
  do {                                                                                \
    if (const auto npv_missing_ = ::npv::test::missing_privileges()) {                \
      if (::npv::test::in_ci()) FAIL() << "privileged test under CI=true cannot run: " \
                                       << *npv_missing_;                              \
      GTEST_SKIP() << "needs root and eBPF: " << *npv_missing_;                       \
    }                                                                                 \
  } while (false)
