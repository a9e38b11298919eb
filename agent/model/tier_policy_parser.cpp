#include "model/tier_policy_parser.hpp"

#include "model/json_fields.hpp"
#include "model/object_parser.hpp"

namespace npv {

const char* to_string(TierKind t) { return t == TierKind::kAdmin ? "admin" : "baseline"; }

const char* to_string(TierAction a) {
  switch (a) {
    case TierAction::kAllow: return "Allow";
    case TierAction::kDeny: return "Deny";
    case TierAction::kPass: return "Pass";
  }
  return "?";
}

const char* to_string(TierApi a) {
  switch (a) {
    case TierApi::kAdminNetworkPolicy: return "AdminNetworkPolicy";
    case TierApi::kBaselineAdminNetworkPolicy: return "BaselineAdminNetworkPolicy";
    case TierApi::kClusterNetworkPolicy: return "ClusterNetworkPolicy";
  }
  return "?";
}

std::vector<PriorityTie> priority_ties(const std::vector<TierPolicy>& policies) {
  std::vector<PriorityTie> out;
  for (std::size_t i = 0; i < policies.size();) {
    std::size_t j = i + 1;
    while (j < policies.size() && policies[j].tier == policies[i].tier && policies[j].priority == policies[i].priority) ++j;
    if (j - i > 1) {
      PriorityTie tie{policies[i].tier, policies[i].priority, {}};
      for (std::size_t k = i; k < j; ++k) tie.policies.push_back(policies[k].ref());
      out.push_back(std::move(tie));
    }
    i = j;
  }
  return out;
}

std::string describe(const PriorityTie& tie) {
  std::string names;
  for (const auto& p : tie.policies) names += (names.empty() ? "" : ", ") + p;
  return std::string(to_string(tie.tier)) + " tier priority " + std::to_string(tie.priority) + " is shared by " + names +
         ": the API leaves the outcome undefined where they match the same connection; npv evaluates them in this order";
}

namespace detail {

using nlohmann::json;

namespace {

// What differs between the API generations, per parsed object (see tier_policy.hpp for the map).
struct Dialect {
  TierApi api;
  std::size_t max_rules;  // v1alpha1: 100 per direction; v1alpha2: 25
  std::size_t max_peers;  // v1alpha1: 100; v1alpha2: 25
  bool v1alpha2;          // Accept instead of Allow; protocols instead of ports
  bool pass_allowed;      // BANP has no Pass
};

// Exactly one of the listed members is set (the CRDs' MinProperties=1, MaxProperties=1).
const char* one_of(const json& v, const std::string& path, std::initializer_list<const char*> keys) {
  want_object(v, path);
  std::string all;
  for (const char* k : keys) all += all.empty() ? k : std::string(", ") + k;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.value().is_null()) continue;
    bool known = false;
    for (const char* k : keys) known = known || it.key() == k;
    if (!known) fail(join(path, it.key().c_str()), "unknown field (expected one of " + all + ")");
  }
  const char* found = nullptr;
  for (const char* k : keys) {
    if (!member(v, k)) continue;
    if (found) fail(path, "must set exactly one of " + all + ", got both " + found + " and " + k);
    found = k;
  }
  if (!found) fail(path, "must set exactly one of " + all);
  return found;
}

const json& want_list(const json& v, const std::string& path, std::size_t min, std::size_t max) {
  want_array(v, path);
  if (v.size() < min || v.size() > max) {
    fail(path, "must have " + std::to_string(min) + "-" + std::to_string(max) + " items, got " + std::to_string(v.size()));
  }
  return v;
}

void parse_namespaced_pod(const json& v, const std::string& path, bool ns_required, LabelSelector& ns,
                          LabelSelector& pod) {
  want_object(v, path);
  if (const json* s = member(v, "namespaceSelector")) ns = parse_selector(*s, join(path, "namespaceSelector"));
  else if (ns_required) fail(join(path, "namespaceSelector"), "required");
  const json* p = member(v, "podSelector");
  if (!p) fail(join(path, "podSelector"), "required");
  pod = parse_selector(*p, join(path, "podSelector"));
}

TierSubject parse_subject(const json& spec, const Dialect& d) {
  const json* v = member(spec, "subject");
  if (!v) fail("spec.subject", "required");
  TierSubject s;
  const std::string kind = one_of(*v, "spec.subject", {"namespaces", "pods"});
  if (kind == "namespaces") s.namespace_selector = parse_selector((*v)["namespaces"], "spec.subject.namespaces");
  else parse_namespaced_pod((*v)["pods"], "spec.subject.pods", !d.v1alpha2, s.namespace_selector, s.pod_selector);
  return s;
}

TierPeer parse_peer(const json& v, const std::string& path, bool egress, const Dialect& d) {
  TierPeer peer;
  const std::string kind = egress ? (d.v1alpha2 ? one_of(v, path, {"namespaces", "pods", "nodes", "networks", "domainNames"})
                                                : one_of(v, path, {"namespaces", "pods", "nodes", "networks"}))
                                  : one_of(v, path, {"namespaces", "pods"});
  const std::string p = join(path, kind.c_str());
  if (kind == "namespaces") {
    peer.kind = TierPeer::Kind::kNamespaces;
    peer.namespace_selector = parse_selector(v[kind], p);
  } else if (kind == "pods") {
    peer.kind = TierPeer::Kind::kPods;
    parse_namespaced_pod(v[kind], p, !d.v1alpha2, peer.namespace_selector, peer.pod_selector);
  } else if (kind == "nodes") {
    peer.kind = TierPeer::Kind::kNodes;
    peer.node_selector = parse_selector(v[kind], p);
  } else if (kind == "networks") {
    peer.kind = TierPeer::Kind::kNetworks;
    const json& list = want_list(v[kind], p, 1, 25);
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto cidr = Cidr::parse(want_string(list[i], index(p, i)));
      if (!cidr) fail(index(p, i), "invalid CIDR " + cidr.error());
      peer.networks.push_back(*cidr);
    }
  } else {
    peer.kind = TierPeer::Kind::kDomainNames;
    const json& list = want_list(v[kind], p, 1, 25);
    for (std::size_t i = 0; i < list.size(); ++i) peer.domain_names.push_back(want_string(list[i], index(p, i)));
  }
  return peer;
}

std::uint16_t want_port(const json& parent, const char* key, const std::string& path) {
  const json* v = member(parent, key);
  if (!v) fail(join(path, key), "required");
  return static_cast<std::uint16_t>(want_int(*v, join(path, key), 1, 65535));
}

// PortRange (both generations): start < end, inclusive (CRD rule "self.start < self.end").
void parse_range(const json& v, const std::string& path, TierPort& out) {
  want_object(v, path);
  out.port = want_port(v, "start", path);
  out.end_port = want_port(v, "end", path);
  if (out.port >= out.end_port) {
    fail(join(path, "end"), "must be greater than start (" + std::to_string(out.port) + "), got " +
                                std::to_string(out.end_port));
  }
}

void want_port_name(const std::string& name, const std::string& path) {
  if (!is_valid_port_name(name)) fail(path, "\"" + name + "\" is not a valid port name (1-15 of a-z, 0-9 and '-')");
}

// v1alpha1 AdminNetworkPolicyPort: exactly one of portNumber {protocol, port}, namedPort,
// portRange {protocol, start, end}; protocol defaults to TCP.
TierPort parse_v1alpha1_port(const json& v, const std::string& path) {
  TierPort out;
  const std::string kind = one_of(v, path, {"portNumber", "namedPort", "portRange"});
  const std::string p = join(path, kind.c_str());
  if (kind == "namedPort") {
    out.kind = TierPort::Kind::kNamed;
    out.name = want_string(v[kind], p);
    want_port_name(out.name, p);
    return out;
  }
  want_object(v[kind], p);
  out.proto = parse_protocol_field(v[kind], p);
  if (kind == "portNumber") out.port = out.end_port = want_port(v[kind], "port", p);
  else parse_range(v[kind], p, out);
  return out;
}

// v1alpha2 ClusterNetworkPolicyProtocol: exactly one of tcp, udp, sctp ({destinationPort:
// {number | range}}) or destinationNamedPort.
TierPort parse_v1alpha2_protocol(const json& v, const std::string& path) {
  TierPort out;
  const std::string kind = one_of(v, path, {"tcp", "udp", "sctp", "destinationNamedPort"});
  const std::string p = join(path, kind.c_str());
  if (kind == "destinationNamedPort") {
    out.kind = TierPort::Kind::kNamed;
    out.name = want_string(v[kind], p);
    want_port_name(out.name, p);
    return out;
  }
  out.proto = kind == "tcp" ? Protocol::kTCP : kind == "udp" ? Protocol::kUDP : Protocol::kSCTP;
  const json& proto = want_object(v[kind], p);
  const json* dest = member(proto, "destinationPort");
  if (!dest) fail(join(p, "destinationPort"), "required");
  const std::string dp = join(p, "destinationPort");
  const std::string which = one_of(*dest, dp, {"number", "range"});
  if (which == "number") out.port = out.end_port = want_port(*dest, "number", dp);
  else parse_range((*dest)["range"], join(dp, "range"), out);
  return out;
}

TierAction parse_action(const json& rule, const std::string& path, const Dialect& d) {
  const json* a = member(rule, "action");
  const std::string allow = d.v1alpha2 ? "Accept" : "Allow";
  const std::string expected = d.pass_allowed ? allow + ", Deny or Pass" : allow + " or Deny";
  if (!a) fail(join(path, "action"), "required (" + expected + ")");
  const auto& text = want_string(*a, join(path, "action"));
  if (text == allow) return TierAction::kAllow;
  if (text == "Deny") return TierAction::kDeny;
  if (text == "Pass" && d.pass_allowed) return TierAction::kPass;
  fail(join(path, "action"), "must be " + expected + ", got \"" + text + "\"");
}

std::vector<TierRule> parse_rules(const json& spec, const char* dir, const Dialect& d) {
  std::vector<TierRule> rules;
  const json* v = member(spec, dir);
  if (!v) return rules;
  const std::string path = join("spec", dir);
  const bool egress = std::string(dir) == "egress";
  const json& list = want_list(*v, path, 0, d.max_rules);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = index(path, i);
    const json& r = want_object(list[i], p);
    TierRule rule;
    if (const json* name = member(r, "name")) {
      rule.name = want_string(*name, join(p, "name"));
      if (rule.name.size() > 100) fail(join(p, "name"), "must be at most 100 characters");
    }
    rule.action = parse_action(r, p, d);
    const char* peers_key = egress ? "to" : "from";
    const json* peers = member(r, peers_key);
    if (!peers) fail(join(p, peers_key), "required (at least one peer)");
    const json& peer_list = want_list(*peers, join(p, peers_key), 1, d.max_peers);
    for (std::size_t j = 0; j < peer_list.size(); ++j) {
      rule.peers.push_back(parse_peer(peer_list[j], index(join(p, peers_key), j), egress, d));
    }
    const char* ports_key = d.v1alpha2 ? "protocols" : "ports";
    if (const json* ports = member(r, ports_key)) {
      const std::string pp = join(p, ports_key);
      const json& port_list = want_list(*ports, pp, 1, d.v1alpha2 ? 25 : 100);
      for (std::size_t j = 0; j < port_list.size(); ++j) {
        rule.ports.push_back(d.v1alpha2 ? parse_v1alpha2_protocol(port_list[j], index(pp, j))
                                        : parse_v1alpha1_port(port_list[j], index(pp, j)));
      }
    }
    // CRD rule: nodes/networks(/domainNames) peers have no named ports.
    for (const auto& port : rule.ports) {
      if (port.kind != TierPort::Kind::kNamed) continue;
      for (const auto& peer : rule.peers) {
        if (peer.kind == TierPeer::Kind::kNodes || peer.kind == TierPeer::Kind::kNetworks ||
            peer.kind == TierPeer::Kind::kDomainNames) {
          fail(p, "networks/nodes/domainNames peers cannot be combined with a named port (\"" + port.name + "\")");
        }
      }
    }
    if (rule.action != TierAction::kAllow) {
      for (const auto& peer : rule.peers) {
        if (peer.kind == TierPeer::Kind::kDomainNames) fail(join(p, "to"), "domainNames peers are only supported for Accept rules");
      }
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

TierPolicy parse_common(const json& obj, const Dialect& d) {
  TierPolicy pol;
  pol.api = d.api;
  pol.name = parse_meta(obj, true).name;  // cluster-scoped; a DNS subdomain like namespaced names
  const json* spec = member(obj, "spec");
  if (!spec) fail("spec", "required");
  want_object(*spec, "spec");
  pol.subject = parse_subject(*spec, d);
  pol.ingress = parse_rules(*spec, "ingress", d);
  pol.egress = parse_rules(*spec, "egress", d);
  return pol;
}

int want_priority(const json& spec) {
  const json* p = member(spec, "priority");
  if (!p) fail("spec.priority", "required (0-1000, lower is higher precedence)");
  return static_cast<int>(want_int(*p, "spec.priority", 0, 1000));
}

}  // namespace

TierPolicy parse_admin_network_policy(const json& obj) {
  TierPolicy pol = parse_common(obj, {TierApi::kAdminNetworkPolicy, 100, 100, false, true});
  pol.tier = TierKind::kAdmin;
  pol.priority = want_priority(obj["spec"]);
  return pol;
}

TierPolicy parse_baseline_admin_network_policy(const json& obj) {
  TierPolicy pol = parse_common(obj, {TierApi::kBaselineAdminNetworkPolicy, 100, 100, false, false});
  if (pol.name != "default") fail("metadata.name", "must be \"default\" (BaselineAdminNetworkPolicy is a singleton), got \"" + pol.name + "\"");
  pol.tier = TierKind::kBaseline;
  return pol;
}

TierPolicy parse_cluster_network_policy(const json& obj) {
  TierPolicy pol = parse_common(obj, {TierApi::kClusterNetworkPolicy, 25, 25, true, true});
  const json& spec = obj["spec"];
  const json* tier = member(spec, "tier");
  if (!tier) fail("spec.tier", "required (Admin or Baseline)");
  const auto& text = want_string(*tier, "spec.tier");
  if (text == "Admin") pol.tier = TierKind::kAdmin;
  else if (text == "Baseline") pol.tier = TierKind::kBaseline;
  else fail("spec.tier", "must be Admin or Baseline, got \"" + text + "\"");
  pol.priority = want_priority(spec);
  return pol;
}

std::vector<std::string> tier_policy_notes(const TierPolicy& policy) {
  std::vector<std::string> notes;
  auto scan = [&](const std::vector<TierRule>& rules, const char* dir) {
    for (std::size_t i = 0; i < rules.size(); ++i) {
      for (const auto& peer : rules[i].peers) {
        const char* what = peer.kind == TierPeer::Kind::kNodes         ? "a nodes peer matches no flow (npv reads no Node objects)"
                           : peer.kind == TierPeer::Kind::kDomainNames ? "a domainNames peer matches no flow (npv sees IPs, not names)"
                                                                       : nullptr;
        if (!what) continue;
        std::string rule = "spec." + std::string(dir) + "[" + std::to_string(i) + "]";
        if (!rules[i].name.empty()) rule += " (" + rules[i].name + ")";
        notes.push_back(policy.ref() + ": " + rule + ": " + what);
        break;
      }
    }
  };
  scan(policy.ingress, "ingress");
  scan(policy.egress, "egress");
  return notes;
}

}  // namespace detail
}  // namespace npv
