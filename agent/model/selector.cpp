#include "npv/selector.hpp"

#include <algorithm>
#include <tuple>

namespace npv {

const char* to_string(SelectorOp op) {
  switch (op) {
    case SelectorOp::kIn: return "In";
    case SelectorOp::kNotIn: return "NotIn";
    case SelectorOp::kExists: return "Exists";
    case SelectorOp::kDoesNotExist: return "DoesNotExist";
  }
  return "?";
}

LabelSelector::LabelSelector(std::vector<Requirement> requirements)
    : requirements_(std::move(requirements)) {
  for (auto& r : requirements_) {
    std::sort(r.values.begin(), r.values.end());
    r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
  }
  std::sort(requirements_.begin(), requirements_.end(), [](const Requirement& a, const Requirement& b) {
    return std::tie(a.key, a.op, a.values) < std::tie(b.key, b.op, b.values);
  });
  requirements_.erase(std::unique(requirements_.begin(), requirements_.end(),
                                  [](const Requirement& a, const Requirement& b) {
                                    return a.key == b.key && a.op == b.op && a.values == b.values;
                                  }),
                      requirements_.end());
}

// Semantics follow k8s.io/apimachinery/pkg/labels Requirement.Matches:
//   In: key present and value in the set; NotIn: key absent, or value not in the set;
//   Exists: key present; DoesNotExist: key absent.
bool LabelSelector::matches(const Labels& labels) const {
  for (const auto& r : requirements_) {
    auto it = labels.find(r.key);
    bool present = it != labels.end();
    switch (r.op) {
      case SelectorOp::kIn:
        if (!present || !std::binary_search(r.values.begin(), r.values.end(), it->second)) return false;
        break;
      case SelectorOp::kNotIn:
        if (present && std::binary_search(r.values.begin(), r.values.end(), it->second)) return false;
        break;
      case SelectorOp::kExists:
        if (!present) return false;
        break;
      case SelectorOp::kDoesNotExist:
        if (present) return false;
        break;
    }
  }
  return true;
}

std::string LabelSelector::to_string() const {
  if (requirements_.empty()) return "{}";
  std::string out;
  for (const auto& r : requirements_) {
    if (!out.empty()) out += ',';
    switch (r.op) {
      case SelectorOp::kIn:
        if (r.values.size() == 1) {
          out += r.key + "=" + r.values[0];
          continue;
        }
        out += r.key + " in (";
        break;
      case SelectorOp::kNotIn:
        out += r.key + " notin (";
        break;
      case SelectorOp::kExists:
        out += r.key;
        continue;
      case SelectorOp::kDoesNotExist:
        out += "!" + r.key;
        continue;
    }
    for (std::size_t i = 0; i < r.values.size(); ++i) out += (i ? "," : "") + r.values[i];
    out += ')';
  }
  return out;
}

}  // namespace npv
