#include "policy/label_codec.hpp"

#include <algorithm>

namespace npv {

namespace {

const std::uint32_t* find_key(const EncodedLabels& labels, std::uint32_t key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return &v;
    if (k > key) break;
  }
  return nullptr;
}

}  // namespace

// In: key present with a listed value; NotIn: key absent or value not listed; Exists; DoesNotExist.
bool EncodedSelector::matches(const EncodedLabels& labels) const {
  for (const auto& r : requirements) {
    const std::uint32_t* value = r.key == LabelCodec::kUnknown ? nullptr : find_key(labels, r.key);
    bool listed = value && std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
    switch (r.op) {
      case SelectorOp::kIn: if (!listed) return false; break;
      case SelectorOp::kNotIn: if (listed) return false; break;
      case SelectorOp::kExists: if (!value) return false; break;
      case SelectorOp::kDoesNotExist: if (value) return false; break;
    }
  }
  return true;
}

EncodedLabels LabelCodec::encode(const Labels& labels) {
  EncodedLabels out;
  out.reserve(labels.size());
  for (const auto& [k, v] : labels) {
    auto key = keys_.emplace(k, static_cast<std::uint32_t>(keys_.size())).first->second;
    auto value = values_.emplace(v, static_cast<std::uint32_t>(values_.size())).first->second;
    out.emplace_back(key, value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

EncodedSelector LabelCodec::encode(const LabelSelector& selector) const {
  EncodedSelector out;
  for (const auto& r : selector.requirements()) {
    EncodedSelector::Requirement req{kUnknown, r.op, {}};
    if (auto k = keys_.find(r.key); k != keys_.end()) req.key = k->second;
    for (const auto& v : r.values) {
      if (auto id = values_.find(v); id != values_.end()) req.values.push_back(id->second);
    }
    std::sort(req.values.begin(), req.values.end());
    out.requirements.push_back(std::move(req));
  }
  return out;
}

}  // namespace npv
