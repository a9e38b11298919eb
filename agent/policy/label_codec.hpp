// Integer-coded labels and selectors for index compilation (internal to agent/policy).
//
// Keys and values are interned once; a pod's labels become a short sorted array of (key, value)
// ids and a selector a list of requirements on ids, so matching thousands of selectors against
// thousands of pods compares integers instead of strings. Semantics are those of
// LabelSelector::matches (rule R17 in policy_engine.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "npv/selector.hpp"

namespace npv {

using EncodedLabels = std::vector<std::pair<std::uint32_t, std::uint32_t>>;  // sorted by key id

struct EncodedSelector {
  struct Requirement {
    std::uint32_t key;  // kUnknown when no labelled object has this key
    SelectorOp op;
    std::vector<std::uint32_t> values;  // sorted ids of the values some object has
  };
  std::vector<Requirement> requirements;
  bool matches(const EncodedLabels& labels) const;
};

class LabelCodec {
 public:
  static constexpr std::uint32_t kUnknown = UINT32_MAX;

  // Interns every key and value of `labels`.
  EncodedLabels encode(const Labels& labels);
  // Uses only what encode() has seen: unknown keys and values can match no label.
  EncodedSelector encode(const LabelSelector& selector) const;

 private:
  std::unordered_map<std::string, std::uint32_t> keys_;
  std::unordered_map<std::string, std::uint32_t> values_;
};

}  // namespace npv
