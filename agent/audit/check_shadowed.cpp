// NPV-AUD-012: a rule B that allows nothing some other rule A does not already allow.
//
// Structural and conservative (sound: a reported B really is redundant for every pod and label
// set, not only the input's). The rules implemented:
//  S1 A applies wherever B does: same policy, or a policy of the same namespace affecting the same
//     direction whose spec.podSelector is {} or has the same canonical text as B's policy's.
//  S2 Peers: A without peers covers anything; B without peers is covered only by that. Otherwise
//     every peer of B is covered by some peer of A (S3, S4); mixed ipBlock/selector never covers.
//  S3 ipBlock a covers b: same family, b's cidr inside a's, and each except of a is disjoint from
//     b's cidr or inside one of b's excepts.
//  S4 Selector peers: A's namespace scope covers B's (the same policy namespace; a namespaceSelector
//     covering B's by S5; or B restricted by kubernetes.io/metadata.name to the namespaces A's
//     scope holds) and A's pod selector covers B's (absent or {} covers all; else S5).
//  S5 Selector a covers selector b when each requirement of a is implied by a requirement of b on
//     the same key: In Va by In Vb (Vb within Va); NotIn Va by NotIn Vb (Va within Vb), by In Vb
//     (disjoint from Va) or by DoesNotExist; Exists by In or Exists; DoesNotExist by DoesNotExist.
//  S6 Ports: A without ports covers anything; B without ports only that. Otherwise each port of B
//     is covered by a port of A of the same protocol: all ports, a range holding B's range, or the
//     same name (a name never covers a number or the reverse: which number it is depends on pods).
//  S7 Two rules covering each other: the later one (policy order, then rule order) is reported.
// Missed, by design: shadowing by a union of several rules, or that holds only for current labels.
#include <algorithm>
#include <map>

#include "audit/audit_context.hpp"

namespace npv::audit {

namespace {

bool contains(const std::vector<std::string>& values, const std::string& v) {
  return std::binary_search(values.begin(), values.end(), v);  // Requirement::values are sorted
}

bool subset(const std::vector<std::string>& small, const std::vector<std::string>& big) {
  return std::includes(big.begin(), big.end(), small.begin(), small.end());
}

// [S5] requirement `a` holds for every label set requirement `b` holds for.
bool implies(const Requirement& b, const Requirement& a) {
  if (a.key != b.key) return false;
  switch (a.op) {
    case SelectorOp::kIn: return b.op == SelectorOp::kIn && subset(b.values, a.values);
    case SelectorOp::kNotIn:
      if (b.op == SelectorOp::kNotIn) return subset(a.values, b.values);
      if (b.op == SelectorOp::kDoesNotExist) return true;
      if (b.op == SelectorOp::kIn) {
        return std::none_of(b.values.begin(), b.values.end(), [&](const std::string& v) { return contains(a.values, v); });
      }
      return false;
    case SelectorOp::kExists: return b.op == SelectorOp::kIn || b.op == SelectorOp::kExists;
    case SelectorOp::kDoesNotExist: return b.op == SelectorOp::kDoesNotExist;
  }
  return false;
}

bool selector_covers(const LabelSelector& a, const LabelSelector& b) {  // [S5]
  for (const auto& ra : a.requirements()) {
    bool implied = std::any_of(b.requirements().begin(), b.requirements().end(),
                               [&](const Requirement& rb) { return implies(rb, ra); });
    if (!implied) return false;
  }
  return true;
}

// A selector that holds for namespace `ns` whatever its other labels: {} or requirements on
// kubernetes.io/metadata.name only, which Kubernetes sets to the name and nobody can change.
bool surely_matches_namespace(const LabelSelector& s, const std::string& ns) {
  Labels name_only{{std::string(kNamespaceNameLabel), ns}};
  return std::all_of(s.requirements().begin(), s.requirements().end(),
                     [&](const Requirement& r) { return r.key == kNamespaceNameLabel; }) &&
         s.matches(name_only);
}

// A selector that can only match namespace `ns`: it requires kubernetes.io/metadata.name In (ns).
bool only_namespace(const LabelSelector& s, const std::string& ns) {
  return std::any_of(s.requirements().begin(), s.requirements().end(), [&](const Requirement& r) {
    return r.key == kNamespaceNameLabel && r.op == SelectorOp::kIn && r.values.size() == 1 && r.values[0] == ns;
  });
}

bool cidr_inside(const Cidr& inner, const Cidr& outer) {
  return inner.base.family == outer.base.family && outer.prefix <= inner.prefix && outer.contains(inner.base);
}

bool ip_block_covers(const IpBlock& a, const IpBlock& b) {  // [S3]
  if (!cidr_inside(b.cidr, a.cidr)) return false;
  for (const Cidr& ea : a.except) {
    bool disjoint = !cidr_inside(ea, b.cidr) && !cidr_inside(b.cidr, ea);
    if (disjoint) continue;
    bool excepted_by_b = std::any_of(b.except.begin(), b.except.end(), [&](const Cidr& eb) { return cidr_inside(ea, eb); });
    if (!excepted_by_b) return false;
  }
  return true;
}

bool peer_covers(const PolicyPeer& a, const PolicyPeer& b, const std::string& ns) {  // [S2][S3][S4]
  if (a.ip_block || b.ip_block) return a.ip_block && b.ip_block && ip_block_covers(*a.ip_block, *b.ip_block);
  bool ns_ok;
  if (!a.namespace_selector) {
    ns_ok = !b.namespace_selector || only_namespace(*b.namespace_selector, ns);
  } else if (!b.namespace_selector) {
    ns_ok = surely_matches_namespace(*a.namespace_selector, ns);
  } else {
    ns_ok = selector_covers(*a.namespace_selector, *b.namespace_selector);
  }
  if (!ns_ok) return false;
  if (!a.pod_selector || a.pod_selector->selects_everything()) return true;
  return b.pod_selector && selector_covers(*a.pod_selector, *b.pod_selector);
}

bool port_covers(const PolicyPort& a, const PolicyPort& b) {  // [S6]
  if (a.proto != b.proto) return false;
  switch (a.kind) {
    case PolicyPort::Kind::kAllPorts: return true;
    case PolicyPort::Kind::kNumber:
      return b.kind == PolicyPort::Kind::kNumber && a.port <= b.port && b.end_port <= a.end_port;
    case PolicyPort::Kind::kNamed: return b.kind == PolicyPort::Kind::kNamed && a.name == b.name;
  }
  return false;
}

bool rule_covers(const PolicyRule& a, const PolicyRule& b, const std::string& ns) {
  bool peers = a.peers.empty() ||
               (!b.peers.empty() && std::all_of(b.peers.begin(), b.peers.end(), [&](const PolicyPeer& pb) {
                 return std::any_of(a.peers.begin(), a.peers.end(), [&](const PolicyPeer& pa) { return peer_covers(pa, pb, ns); });
               }));
  if (!peers) return false;
  return a.ports.empty() ||
         (!b.ports.empty() && std::all_of(b.ports.begin(), b.ports.end(), [&](const PolicyPort& pb) {
           return std::any_of(a.ports.begin(), a.ports.end(), [&](const PolicyPort& pa) { return port_covers(pa, pb); });
         }));
}

}  // namespace

void check_shadowed(AuditContext& ctx) {
  const ClusterState& c = ctx.cluster;
  std::vector<std::string> selector_text(c.policies.size());
  for (std::uint32_t i = 0; i < c.policies.size(); ++i) selector_text[i] = c.policies[i].pod_selector.to_string();
  for (NamespaceId ns = 0; ns < c.namespaces.size(); ++ns) {
    const std::string& ns_name = c.namespaces[ns].name;
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      std::vector<RuleRef> rules;  // every rule of the namespace in direction d, in policy then rule order
      for (std::uint32_t pol : ctx.ns_policies[ns]) {
        if (!affects(c.policies[pol], d)) continue;
        for (std::uint32_t r = 0; r < rules_of(c.policies[pol], d).size(); ++r) rules.push_back({pol, r});
      }
      for (const RuleRef& b : rules) {
        const PolicyRule& rb = rules_of(c.policies[b.policy], d)[b.rule];
        for (const RuleRef& a : rules) {
          if (a == b) continue;
          const std::string& sa = selector_text[a.policy];
          if (a.policy != b.policy && sa != "{}" && sa != selector_text[b.policy]) continue;  // [S1]
          const PolicyRule& ra = rules_of(c.policies[a.policy], d)[a.rule];
          if (!rule_covers(ra, rb, ns_name)) continue;
          // [S7] mutual cover: only the later rule is redundant. B's policy must apply wherever A's
          // does for this, so mutual cover across policies needs equal selectors (or both {}).
          bool mutual = rule_covers(rb, ra, ns_name) &&
                        (a.policy == b.policy || selector_text[b.policy] == "{}" || selector_text[b.policy] == sa);
          if (mutual && b < a) continue;
          const NetworkPolicy& pa = c.policies[a.policy];
          std::string where = a.policy == b.policy ? "rule " + rule_field(d, a.rule) + " of the same policy"
                                                   : pa.ref() + " " + rule_field(d, a.rule);
          Finding& f = ctx.add("NPV-AUD-012", ns_name,
                               rule_field(d, b.rule) + " allows no " + direction_word(d) + " flow that " + where +
                                   " does not already allow, for every pod it applies to");
          f.objects.push_back(ctx.policy_ref(b.policy, rule_field(d, b.rule)));
          f.objects.push_back(ctx.policy_ref(a.policy, rule_field(d, a.rule)));
          break;
        }
      }
    }
  }
}

}  // namespace npv::audit
