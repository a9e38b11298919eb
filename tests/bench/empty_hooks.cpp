// EmptyHooks (empty_hooks.hpp).
#include "empty_hooks.hpp"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "empty_hooks.skel.h"
#include "observe/cgroup.hpp"

namespace npv::bench {

struct EmptyHooks::Impl {
  std::unique_ptr<npv_empty_hooks, void (*)(npv_empty_hooks*)> skel{nullptr, &npv_empty_hooks::destroy};
};

namespace {

Error failed(const std::string& step, int err) {
  return Error{Errc::kEnvironment, "empty hooks: " + step + ": " + std::strerror(err), err};
}

}  // namespace

Result<EmptyHooks> EmptyHooks::attach() {
  auto impl = std::make_unique<Impl>();
  impl->skel.reset(npv_empty_hooks::open_and_load());
  if (!impl->skel) return std::unexpected(failed("load", errno));
  npv_empty_hooks& skel = *impl->skel;
  // tp_btf programs; the cgroup_skb ones are skipped by the skeleton (they need a cgroup).
  if (int err = npv_empty_hooks::attach(&skel); err != 0) return std::unexpected(failed("tp_btf attach", -err));
  auto cgroup = observe::open_cgroup2_root();  // where the observer's UDP programs attach
  if (!cgroup) return std::unexpected(cgroup.error());
  skel.links.empty_cgroup_egress = bpf_program__attach_cgroup(skel.progs.empty_cgroup_egress, cgroup->get());
  if (skel.links.empty_cgroup_egress == nullptr) return std::unexpected(failed("cgroup_skb attach", errno));
  skel.links.empty_cgroup_ingress = bpf_program__attach_cgroup(skel.progs.empty_cgroup_ingress, cgroup->get());
  if (skel.links.empty_cgroup_ingress == nullptr) return std::unexpected(failed("cgroup_skb attach", errno));
  return EmptyHooks(std::move(impl));
}

EmptyHooks::EmptyHooks(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EmptyHooks::EmptyHooks(EmptyHooks&&) noexcept = default;
EmptyHooks& EmptyHooks::operator=(EmptyHooks&&) noexcept = default;
EmptyHooks::~EmptyHooks() = default;

}  // namespace npv::bench
