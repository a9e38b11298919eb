// NPV-AUD-030/031/032: the CNI detection (detect_cni) judged against the policies that exist.
// Nothing is reported when the input has no NetworkPolicy (nothing to enforce) or no DaemonSet at
// all (a repository of manifests: nothing to detect; the summary says so).
#include "audit/audit_context.hpp"

namespace npv::audit {

void check_cni(AuditContext& ctx, const CniDetection& cni) {
  const std::size_t policies = ctx.cluster.policies.size();
  if (policies == 0 || cni.node_agents == 0) return;
  const std::string n = std::to_string(policies) + " NetworkPolicies";
  if (cni.components.empty()) {
    ctx.add("NPV-AUD-032", "",
            n + " exist, and none of the input's " + std::to_string(cni.node_agents) +
                " DaemonSet(s)/DaemonSet pod(s) is a CNI npv recognises: enforcement unknown");
    return;
  }
  if (cni.enforcement == Enforcement::kEnforces) return;
  const bool cannot = cni.enforcement == Enforcement::kDoesNotEnforce;
  std::string message = n + " exist but " + (cannot ? "the CNI does not enforce them: " : "whether the CNI enforces them is unknown: ");
  for (std::size_t i = 0; i < cni.components.size(); ++i) {
    const auto& c = cni.components[i];
    message += (i ? "; " : "") + c.name + " in " + c.object.kind + " " + c.object.ns + "/" + c.object.name + ": " + c.evidence;
  }
  Finding& f = ctx.add(cannot ? "NPV-AUD-030" : "NPV-AUD-031", "", std::move(message));
  for (const auto& c : cni.components) f.objects.push_back(c.object);
}

}  // namespace npv::audit
