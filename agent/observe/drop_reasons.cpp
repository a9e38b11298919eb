#include "observe/drop_reasons.hpp"

#include <bpf/btf.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>

namespace npv::observe {

namespace {

constexpr std::string_view kPrefix = "SKB_DROP_REASON_";

std::string strip_prefix(std::string_view name) {
  if (name.starts_with(kPrefix)) name.remove_prefix(kPrefix.size());
  return std::string(name);
}

}  // namespace

DropReasonNames DropReasonNames::load() {
  DropReasonNames names;
  std::unique_ptr<struct btf, decltype(&btf__free)> vmlinux(btf__load_vmlinux_btf(), &btf__free);
  if (!vmlinux) {
    spdlog::debug("drop reasons: cannot load vmlinux BTF: {}", std::strerror(errno));
    return names;
  }
  const struct btf* b = vmlinux.get();
  if (int id = btf__find_by_name_kind(b, "skb_drop_reason", BTF_KIND_ENUM); id > 0) {
    const struct btf_type* t = btf__type_by_id(b, static_cast<__u32>(id));
    const struct btf_enum* e = btf_enum(t);
    for (int i = 0; i < btf_vlen(t); ++i, ++e)
      names.names_[static_cast<std::uint32_t>(e->val)] = strip_prefix(btf__name_by_offset(b, e->name_off));
  } else if (id = btf__find_by_name_kind(b, "skb_drop_reason", BTF_KIND_ENUM64); id > 0) {
    const struct btf_type* t = btf__type_by_id(b, static_cast<__u32>(id));
    const struct btf_enum64* e = btf_enum64(t);
    for (int i = 0; i < btf_vlen(t); ++i, ++e)
      names.names_[static_cast<std::uint32_t>(btf_enum64_value(e))] = strip_prefix(btf__name_by_offset(b, e->name_off));
  } else {
    spdlog::debug("drop reasons: this kernel's BTF has no enum skb_drop_reason");
  }
  return names;
}

std::string DropReasonNames::name(std::uint32_t value) const {
  if (auto it = names_.find(value); it != names_.end()) return it->second;
  return "UNKNOWN(" + std::to_string(value) + ")";
}

}  // namespace npv::observe
