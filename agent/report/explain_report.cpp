#include "npv/explain_report.hpp"

#include <set>

namespace npv {

namespace {

const char* dir_word(Direction d) { return d == Direction::kIngress ? "ingress" : "egress"; }

nlohmann::json endpoint_json(const ClusterState& cluster, const Endpoint& e) {
  nlohmann::json j;
  j["pod"] = e.pod ? nlohmann::json(cluster.pods[*e.pod].ref()) : nlohmann::json(nullptr);
  j["ip"] = e.ip ? nlohmann::json(e.ip->to_string()) : nlohmann::json(nullptr);
  return j;
}

// {tier, kind, policy, priority, rule, rule_name, action} for a tier rule.
nlohmann::json tier_rule_json(const ClusterState& cluster, Direction dir, const TierRuleRef& r) {
  const TierPolicy& p = cluster.tier_policies[r.policy];
  const auto& rules = dir == Direction::kIngress ? p.ingress : p.egress;
  return {{"tier", to_string(p.tier)},       {"kind", to_string(p.api)},
          {"policy", p.name},                {"priority", p.priority},
          {"rule", r.rule},                  {"rule_name", r.rule < rules.size() ? rules[r.rule].name : ""},
          {"action", to_string(r.action)}};
}

// "AdminNetworkPolicy/x (admin tier, priority 5) ingress[0] "name": Deny"
std::string tier_rule_text(const ClusterState& cluster, Direction dir, const TierRuleRef& r) {
  const TierPolicy& p = cluster.tier_policies[r.policy];
  const auto& rules = dir == Direction::kIngress ? p.ingress : p.egress;
  std::string out = p.ref() + " (" + to_string(p.tier) + " tier, priority " + std::to_string(p.priority) + ") " +
                    dir_word(dir) + "[" + std::to_string(r.rule) + "]";
  if (r.rule < rules.size() && !rules[r.rule].name.empty()) out += " \"" + rules[r.rule].name + "\"";
  return out + ": " + to_string(r.action);
}

nlohmann::json direction_json(const ClusterState& cluster, Direction dir, const DirectionVerdict& v) {
  nlohmann::json j;
  j["governed"] = v.governed;
  j["isolated"] = v.isolated();
  j["allowed"] = v.allowed();
  auto iso = nlohmann::json::array();
  for (auto id : v.isolating) iso.push_back(cluster.policies[id].ref());
  j["isolating_policies"] = std::move(iso);
  auto by = nlohmann::json::array();
  for (const auto& r : v.allowed_by) by.push_back({{"policy", cluster.policies[r.policy].ref()}, {"rule", r.rule}});
  j["allowed_by"] = std::move(by);
  j["decided_by"] = to_string(v.decided_by());
  j["admin_rule"] = v.admin ? tier_rule_json(cluster, dir, *v.admin) : nlohmann::json(nullptr);
  j["baseline_rule"] = v.baseline ? tier_rule_json(cluster, dir, *v.baseline) : nlohmann::json(nullptr);
  auto tied = nlohmann::json::array();
  for (const auto& r : v.tied) tied.push_back(tier_rule_json(cluster, dir, r));
  j["same_priority_conflicts"] = std::move(tied);
  return j;
}

void ties_text(std::string& out, const ClusterState& cluster, Direction dir, const DirectionVerdict& v) {
  for (const auto& r : v.tied) {
    out += "  note: " + tier_rule_text(cluster, dir, r) +
           " has the same priority and also matches: the API leaves the outcome undefined\n";
  }
}

void direction_text(std::string& out, const ClusterState& cluster, const Flow& flow, Direction dir,
                    const DirectionVerdict& v) {
  const Endpoint& subject = dir == Direction::kEgress ? flow.src : flow.dst;
  const Endpoint& peer = dir == Direction::kEgress ? flow.dst : flow.src;
  out += std::string(dir_word(dir)) + (dir == Direction::kEgress ? " from " : " to ") +
         endpoint_name(cluster, subject) + ":\n";
  if (!v.governed) {
    out += "  allowed: not a cluster pod, so no NetworkPolicy applies to its " + std::string(dir_word(dir)) + "\n";
    return;
  }
  if (v.admin) {
    out += "  admin tier: " + tier_rule_text(cluster, dir, *v.admin) + "\n";
    if (v.decided_by() == DecidingTier::kAdmin) {
      out += std::string(v.allowed() ? "  allowed" : "  DENIED") + " by the admin tier (NetworkPolicy and baseline not consulted)\n";
      ties_text(out, cluster, dir, v);
      return;
    }
    out += "  passed to NetworkPolicy\n";
    ties_text(out, cluster, dir, v);
  }
  if (!v.isolated()) {
    if (v.baseline) {
      out += "  not isolated by any NetworkPolicy; baseline tier: " + tier_rule_text(cluster, dir, *v.baseline) + "\n";
      if (v.decided_by() == DecidingTier::kBaseline) {
        out += std::string(v.allowed() ? "  allowed" : "  DENIED") + " by the baseline tier\n";
      } else {
        out += "  allowed: the baseline tier passes, the Kubernetes default applies\n";
      }
      if (!v.admin) ties_text(out, cluster, dir, v);
      return;
    }
    out += "  allowed: not isolated, no NetworkPolicy selects this pod for " + std::string(dir_word(dir)) + "\n";
    return;
  }
  out += "  isolated by: ";
  for (std::size_t i = 0; i < v.isolating.size(); ++i) {
    out += (i ? ", " : "") + cluster.policies[v.isolating[i]].ref();
  }
  out += '\n';
  if (v.allowed_by.empty()) {
    out += "  DENIED: no " + std::string(dir_word(dir)) + " rule of these policies matches " +
           endpoint_name(cluster, peer) + " on " + flow.port.to_string() + "\n";
    return;
  }
  out += "  allowed by: ";
  for (std::size_t i = 0; i < v.allowed_by.size(); ++i) {
    const auto& r = v.allowed_by[i];
    out += (i ? ", " : "") + cluster.policies[r.policy].ref() + " " + dir_word(dir) + "[" + std::to_string(r.rule) + "]";
  }
  out += '\n';
}

void add_deciding_policies(std::set<std::string>& out, const ClusterState& cluster, const DirectionVerdict& v,
                           bool flow_allowed) {
  if (!flow_allowed && v.allowed()) return;  // this direction did not deny
  switch (v.decided_by()) {
    case DecidingTier::kAdmin: out.insert(cluster.tier_policies[v.admin->policy].ref()); break;
    case DecidingTier::kBaseline: out.insert(cluster.tier_policies[v.baseline->policy].ref()); break;
    case DecidingTier::kNetworkPolicy:
      if (flow_allowed) {
        for (const RuleRef& rule : v.allowed_by) out.insert(cluster.policies[rule.policy].ref());
      } else {
        for (std::uint32_t id : v.isolating) out.insert(cluster.policies[id].ref());
      }
      break;
    default: break;
  }
}

}  // namespace

std::vector<std::string> deciding_policies(const ClusterState& cluster, const Explanation& e, bool flow_allowed) {
  std::set<std::string> refs;
  if (e.self) return {};
  for (const DirectionVerdict* v : {&e.egress, &e.ingress}) add_deciding_policies(refs, cluster, *v, flow_allowed);
  return {refs.begin(), refs.end()};
}

std::vector<std::string> deciding_rules(const ClusterState& cluster, Direction dir, const DirectionVerdict& v) {
  std::vector<std::string> out;
  switch (v.decided_by()) {
    case DecidingTier::kAdmin: out.push_back(tier_rule_text(cluster, dir, *v.admin)); break;
    case DecidingTier::kBaseline: out.push_back(tier_rule_text(cluster, dir, *v.baseline)); break;
    case DecidingTier::kNetworkPolicy:
      for (const RuleRef& r : v.allowed_by) {
        out.push_back(cluster.policies[r.policy].ref() + " " + dir_word(dir) + "[" + std::to_string(r.rule) + "]");
      }
      break;
    default: break;
  }
  return out;
}

std::string endpoint_name(const ClusterState& cluster, const Endpoint& e) {
  if (e.pod && e.ip) return cluster.pods[*e.pod].ref() + " (" + e.ip->to_string() + ")";
  if (e.pod) return cluster.pods[*e.pod].ref();
  return e.ip ? e.ip->to_string() : "?";
}

nlohmann::json explanation_to_json(const ClusterState& cluster, const Flow& flow, const Explanation& e) {
  nlohmann::json j;
  j["from"] = endpoint_json(cluster, flow.src);
  j["to"] = endpoint_json(cluster, flow.dst);
  j["port"] = flow.port.to_string();
  j["allowed"] = e.allowed();
  j["self"] = e.self;
  j["egress"] = direction_json(cluster, Direction::kEgress, e.egress);
  j["ingress"] = direction_json(cluster, Direction::kIngress, e.ingress);
  return j;
}

std::string explanation_to_text(const ClusterState& cluster, const Flow& flow, const Explanation& e) {
  std::string out = endpoint_name(cluster, flow.src) + " -> " + endpoint_name(cluster, flow.dst) + " on " +
                    flow.port.to_string() + ": " + (e.allowed() ? "ALLOWED" : "DENIED") + "\n";
  if (e.self) {
    out += "  a pod can always reach itself (NetworkPolicy does not apply to pod-to-self traffic)\n";
    return out;
  }
  direction_text(out, cluster, flow, Direction::kEgress, e.egress);
  direction_text(out, cluster, flow, Direction::kIngress, e.ingress);
  return out;
}

}  // namespace npv
