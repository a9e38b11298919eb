// Names of the running kernel's enum skb_drop_reason values, read from its BTF.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace npv::observe {

class DropReasonNames {
 public:
  // Reads /sys/kernel/btf/vmlinux. Without BTF or without the enum, every name is UNKNOWN(n).
  static DropReasonNames load();

  // "NETFILTER_DROP" for SKB_DROP_REASON_NETFILTER_DROP (prefix removed; SKB_CONSUMED and
  // SKB_NOT_DROPPED_YET keep their names); "UNKNOWN(<n>)" if the value is not in the enum.
  std::string name(std::uint32_t value) const;

  bool empty() const { return names_.empty(); }

 private:
  std::unordered_map<std::uint32_t, std::string> names_;
};

}  // namespace npv::observe
