// Coverage: NPV-AUD-001 (no policy at all), -002/-003 (no default deny per namespace and
// direction), -005 (pods no policy selects, in a namespace that has policies).
//
// A default deny for direction D is a policy with podSelector: {} whose policyTypes (after the
// loader's defaulting) include D and that has no rule for D, or an admin/baseline deny-all
// (check_tiers.cpp). Only pods NetworkPolicy governs count
// (AuditContext::governed: no hostNetwork pods, not the assumed kube-dns pod).
#include "audit/audit_context.hpp"

namespace npv::audit {

namespace {

bool is_default_deny(const NetworkPolicy& p, Direction d) {
  return p.pod_selector.selects_everything() && affects(p, d) && rules_of(p, d).empty();
}

void check_default_deny(AuditContext& ctx, NamespaceId ns, Direction d) {
  const auto& c = ctx.cluster;
  for (std::uint32_t pol : ctx.ns_policies[ns]) {
    if (is_default_deny(c.policies[pol], d)) return;
  }
  if (tier_default_deny(ctx, ns, d)) return;  // an admin or baseline deny-all plays the same role
  const auto& pods = ctx.ns_pods[ns];
  std::vector<PodId> open;
  for (PodId p : pods) {
    if (ctx.engine.isolating_policies(p, d).empty()) open.push_back(p);
  }
  const std::string n = std::to_string(pods.size());
  const std::string what = d == Direction::kIngress ? "accept traffic from anywhere" : "may connect anywhere";
  std::string message;
  std::vector<std::string> names;
  for (PodId p : open) names.push_back(c.pods[p].name);
  if (ctx.ns_policies[ns].empty() && !c.tier_policies.empty()) {
    message = "no NetworkPolicy in namespace " + c.namespaces[ns].name + " and no admin or baseline deny-all for " +
              direction_word(d) + ": its " + n + " pod(s) " + what + " unless a cluster-wide rule stops them";
  } else if (ctx.ns_policies[ns].empty()) {
    message = "no NetworkPolicy in namespace " + c.namespaces[ns].name + ": its " + n + " pod(s) " + what;
  } else if (!open.empty()) {
    message = "no default-deny " + std::string(direction_word(d)) + " policy: " + std::to_string(open.size()) +
              " of " + n + " pod(s) are not isolated for " + direction_word(d) + " and " + what + " (" +
              name_list(names) + ")";
  } else {
    message = "no default-deny " + std::string(direction_word(d)) + " policy: the " + n +
              " pod(s) are isolated by narrower policies today, but a pod added later, or one whose labels "
              "change, would not be";
  }
  Finding& f = ctx.add(d == Direction::kIngress ? "NPV-AUD-002" : "NPV-AUD-003", c.namespaces[ns].name, std::move(message));
  f.objects.push_back(ctx.namespace_ref(ns));
  for (PodId p : open) f.objects.push_back(ctx.pod_ref(p));
}

}  // namespace

void check_coverage(AuditContext& ctx) {
  const auto& c = ctx.cluster;
  std::size_t governed = 0, namespaces = 0;
  for (const auto& pods : ctx.ns_pods) {
    governed += pods.size();
    namespaces += pods.empty() ? 0 : 1;
  }
  if (c.policies.empty() && c.tier_policies.empty() && governed > 0) {
    Finding& f = ctx.add("NPV-AUD-001", "",
                         "no NetworkPolicy in the input, which has " + std::to_string(governed) + " pod(s) in " +
                             std::to_string(namespaces) + " namespace(s): every pod accepts and sends any traffic");
    for (NamespaceId ns = 0; ns < c.namespaces.size(); ++ns) {
      if (!ctx.ns_pods[ns].empty()) f.objects.push_back(ctx.namespace_ref(ns));
    }
  }
  for (NamespaceId ns = 0; ns < c.namespaces.size(); ++ns) {
    if (ctx.ns_pods[ns].empty()) continue;
    check_default_deny(ctx, ns, Direction::kIngress);
    check_default_deny(ctx, ns, Direction::kEgress);
    if (ctx.ns_policies[ns].empty()) continue;  // NPV-AUD-002/003 said it all
    std::vector<PodId> unselected;
    for (PodId p : ctx.ns_pods[ns]) {
      if (ctx.engine.isolating_policies(p, Direction::kIngress).empty() &&
          ctx.engine.isolating_policies(p, Direction::kEgress).empty()) {
        unselected.push_back(p);
      }
    }
    if (unselected.empty()) continue;
    std::vector<std::string> names;
    for (PodId p : unselected) names.push_back(c.pods[p].name);
    Finding& f = ctx.add("NPV-AUD-005", c.namespaces[ns].name,
                         std::to_string(unselected.size()) + " of " + std::to_string(ctx.ns_pods[ns].size()) +
                             " pod(s) are selected by no NetworkPolicy of the namespace (it has " +
                             std::to_string(ctx.ns_policies[ns].size()) + "), so they accept and send anything: " +
                             name_list(names));
    for (PodId p : unselected) f.objects.push_back(ctx.pod_ref(p));
  }
}

}  // namespace npv::audit
