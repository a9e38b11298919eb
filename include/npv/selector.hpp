// Kubernetes label selectors (metav1.LabelSelector): matchLabels and matchExpressions.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace npv {

using Labels = std::map<std::string, std::string, std::less<>>;

enum class SelectorOp { kIn, kNotIn, kExists, kDoesNotExist };

const char* to_string(SelectorOp op);

struct Requirement {
  std::string key;
  SelectorOp op = SelectorOp::kIn;
  std::vector<std::string> values;  // sorted, unique; empty for Exists/DoesNotExist
};

// A parsed selector. matchLabels {k: v} is stored as the requirement "k In (v)", which is what
// Kubernetes defines it to mean; requirements are ANDed. An empty selector matches everything.
class LabelSelector {
 public:
  LabelSelector() = default;
  explicit LabelSelector(std::vector<Requirement> requirements);

  bool matches(const Labels& labels) const;
  bool selects_everything() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }

  // Canonical text (kubectl style, e.g. "app=web,tier notin (db)"); equal selectors give equal
  // text, so it doubles as an interning key. "{}" for the empty selector.
  std::string to_string() const;

 private:
  std::vector<Requirement> requirements_;  // sorted by key then op, so to_string is canonical
};

}  // namespace npv
