// NPV-AUD-020: over-broad rules, scored source breadth x destination breadth x port exposure.
//
// Factors (README "npv audit" documents them; CheckInfo NPV-AUD-020 states them too):
//  B1 Peers of a rule: none (from/to omitted or empty) or an ipBlock 0.0.0.0/0 or ::/0 without
//     except: every IP, 8. namespaceSelector: {} without a pod selector: every pod of every
//     namespace, 4; an ipBlock 0.0.0.0/0 or ::/0 with except, or one as wide as /8 (IPv4) or /32
//     (IPv6), 4. podSelector: {} alone, a namespaceSelector with no pod selector, labelled pods in
//     every namespace, or an ipBlock as wide as /16 or /64: 2. Else 1. Several peers: the widest.
//  B2 The pods the policy selects: podSelector: {} (every pod of its namespace) 2, else 1.
//  B3 Ports: none (every port), a port entry without a number (every port of its protocol), a
//     range of 1024 or more ports, or a sensitive TCP port (kSensitive; a named port counts by the
//     numbers the destination pods give it): 4. A range of 2 to 1023 ports: 2. Else 1.
//  B4 Ingress: source = peers, destination = selected pods; egress: the reverse.
//  B5 Score >= 32 high, >= 16 medium, >= 8 low, below 8 not reported; egress rules at most medium.
#include <algorithm>
#include <array>
#include <unordered_map>

#include "audit/audit_context.hpp"

namespace npv::audit {

namespace {

struct SensitivePort {
  std::uint16_t lo, hi;
  const char* what;
};

// TCP ports whose exposure is worse than a service port: remote administration, the control plane
// and the node agent, and databases and caches that often run without authentication.
constexpr std::array<SensitivePort, 16> kSensitive{{
    {22, 22, "SSH"},
    {1433, 1433, "SQL Server"},
    {1521, 1521, "Oracle"},
    {2379, 2380, "etcd"},
    {3306, 3306, "MySQL"},
    {3389, 3389, "RDP"},
    {5432, 5432, "PostgreSQL"},
    {5984, 5984, "CouchDB"},
    {6379, 6379, "Redis"},
    {6443, 6443, "Kubernetes API server"},
    {9042, 9042, "Cassandra"},
    {9200, 9200, "Elasticsearch"},
    {10250, 10250, "kubelet"},
    {11211, 11211, "memcached"},
    {27017, 27017, "MongoDB"},
    {8086, 8086, "InfluxDB"},
}};

const SensitivePort* sensitive_in(std::uint16_t lo, std::uint16_t hi) {
  for (const auto& s : kSensitive) {
    if (s.lo <= hi && lo <= s.hi) return &s;
  }
  return nullptr;
}

void widen(RiskFactor& f, int value, std::string reason) {
  if (value > f.value) f = {value, std::move(reason)};
}

bool is_everything(const Cidr& c) { return c.prefix == 0; }

// A narrow peer in words, for a factor of 1.
std::string describe_peer(const NetworkPolicy& pol, const PolicyPeer& peer) {
  if (peer.ip_block) return "the block " + peer.ip_block->cidr.to_string();
  std::string pods = peer.pod_selector ? "pods matching " + peer.pod_selector->to_string() : "pods";
  if (!peer.namespace_selector) return pods + " of namespace " + pol.ns;
  return pods + " of namespaces matching " + peer.namespace_selector->to_string();
}

std::string describe_port(const PolicyPort& p) {
  const std::string proto = to_string(p.proto);
  switch (p.kind) {
    case PolicyPort::Kind::kAllPorts: return "every " + proto + " port";
    case PolicyPort::Kind::kNamed: return p.name + "/" + proto;
    case PolicyPort::Kind::kNumber:
      return (p.port == p.end_port ? std::to_string(p.port) : std::to_string(p.port) + "-" + std::to_string(p.end_port)) +
             "/" + proto;
  }
  return "?";
}

RiskFactor peer_breadth(AuditContext& ctx, const NetworkPolicy& pol, const PolicyRule& rule) {  // [B1]
  if (rule.peers.empty()) return {8, "every pod and every IP address (no peers listed)"};
  RiskFactor f{1, describe_peer(pol, rule.peers.front()) +
                      (rule.peers.size() > 1 ? " and " + std::to_string(rule.peers.size() - 1) + " more peer(s)" : "")};
  for (const auto& peer : rule.peers) {
    if (peer.ip_block) {
      const IpBlock& b = *peer.ip_block;
      const int prefix = b.cidr.prefix;
      const bool v4 = b.cidr.base.family == 4;
      if (is_everything(b.cidr) && b.except.empty()) widen(f, 8, "every IP address (" + b.cidr.to_string() + " without except)");
      else if (is_everything(b.cidr)) widen(f, 4, "nearly every IP address (" + b.cidr.to_string() + " with except)");
      else if (prefix <= (v4 ? 8 : 32)) widen(f, 4, "the wide block " + b.cidr.to_string());
      else if (prefix <= (v4 ? 16 : 64)) widen(f, 2, "the block " + b.cidr.to_string());
      continue;
    }
    const bool all_pods = !peer.pod_selector || peer.pod_selector->selects_everything();
    if (peer.namespace_selector) {
      const bool all_ns = peer.namespace_selector->selects_everything();
      if (all_ns && all_pods) widen(f, 4, "every pod of every namespace (namespaceSelector: {})");
      else if (all_ns) widen(f, 2, "pods matching " + peer.pod_selector->to_string() + " in every namespace");
      else if (all_pods) {
        widen(f, 2, "every pod of the " + std::to_string(ctx.namespaces_matching(*peer.namespace_selector)) +
                        " namespace(s) matching " + peer.namespace_selector->to_string());
      }
    } else if (all_pods) {
      widen(f, 2, "every pod of namespace " + pol.ns + " (podSelector: {})");
    }
  }
  return f;
}

RiskFactor selected_breadth(const AuditContext& ctx, std::uint32_t policy) {  // [B2]
  const NetworkPolicy& pol = ctx.cluster.policies[policy];
  const std::string n = std::to_string(ctx.selected[policy].size());
  if (pol.pod_selector.selects_everything()) return {2, "every pod of namespace " + pol.ns + " (" + n + " now)"};
  return {1, "pods matching " + pol.pod_selector.to_string() + " (" + n + " now)"};
}

// Pods declaring a TCP container port of some name with a sensitive number, by name: what a named
// policy port can resolve to ([R16]: against the destination pod).
struct SensitiveNamed {
  PodId pod;
  std::uint16_t number;
  const SensitivePort* what;
};
using SensitiveNames = std::unordered_map<std::string, std::vector<SensitiveNamed>>;

SensitiveNames sensitive_names(const ClusterState& c) {
  SensitiveNames out;
  for (PodId p = 0; p < c.pods.size(); ++p) {
    for (const auto& cp : c.pods[p].ports) {
      if (cp.name.empty() || cp.proto != Protocol::kTCP) continue;
      if (const SensitivePort* s = sensitive_in(cp.port, cp.port)) out[cp.name].push_back({p, cp.port, s});
    }
  }
  return out;
}

// Whether `pod` is a destination of rule `r`: for ingress one of the selected pods; for egress one
// the rule's peers select (every pod when it lists none).
bool is_destination(const AuditContext& ctx, std::uint32_t policy, Direction d, std::uint32_t r, PodId pod) {
  if (d == Direction::kIngress) return std::binary_search(ctx.selected[policy].begin(), ctx.selected[policy].end(), pod);
  const auto& rule = ctx.cluster.policies[policy].egress[r];
  if (rule.peers.empty()) return true;
  for (std::uint32_t j = 0; j < rule.peers.size(); ++j) {
    if (ctx.engine.peer_pods(policy, d, r, j).contains(pod)) return true;
  }
  return false;
}

RiskFactor port_exposure(const AuditContext& ctx, const SensitiveNames& names, std::uint32_t policy, Direction d,
                         std::uint32_t r) {  // [B3]
  const PolicyRule& rule = rules_of(ctx.cluster.policies[policy], d)[r];
  if (rule.ports.empty()) return {4, "every port of every protocol"};
  std::string listed;
  for (const auto& port : rule.ports) listed += (listed.empty() ? "" : ", ") + describe_port(port);
  RiskFactor f{1, listed};
  for (const auto& port : rule.ports) {
    const std::string proto = to_string(port.proto);
    switch (port.kind) {
      case PolicyPort::Kind::kAllPorts: widen(f, 4, "every " + proto + " port"); break;
      case PolicyPort::Kind::kNumber: {
        const unsigned count = port.end_port - port.port + 1u;
        const std::string text = count == 1 ? std::to_string(port.port) + "/" + proto
                                            : std::to_string(port.port) + "-" + std::to_string(port.end_port) + "/" + proto;
        const SensitivePort* s = port.proto == Protocol::kTCP ? sensitive_in(port.port, port.end_port) : nullptr;
        if (count >= 1024) widen(f, 4, std::to_string(count) + " ports (" + text + ")");
        else if (s) widen(f, 4, "the sensitive port " + text + (count > 1 ? " (includes " : " (") + s->what + ")");
        else if (count > 1) widen(f, 2, std::to_string(count) + " ports (" + text + ")");
        break;
      }
      case PolicyPort::Kind::kNamed: {
        if (port.proto != Protocol::kTCP) break;
        auto it = names.find(port.name);
        if (it == names.end()) break;
        for (const SensitiveNamed& n : it->second) {
          if (!is_destination(ctx, policy, d, r, n.pod)) continue;
          widen(f, 4, "the sensitive port " + port.name + " (" + std::to_string(n.number) + "/TCP, " + n.what->what + ")");
          break;
        }
        break;
      }
    }
  }
  return f;
}

Severity severity_of(int score, Direction d) {  // [B5]
  Severity s = score >= 32 ? Severity::kHigh : score >= 16 ? Severity::kMedium : Severity::kLow;
  return d == Direction::kEgress ? std::min(s, Severity::kMedium) : s;
}

}  // namespace

void check_breadth(AuditContext& ctx) {
  const ClusterState& c = ctx.cluster;
  const SensitiveNames names = sensitive_names(c);
  for (std::uint32_t i = 0; i < c.policies.size(); ++i) {
    const NetworkPolicy& pol = c.policies[i];
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      if (!affects(pol, d)) continue;  // ignored rules: NPV-AUD-013
      const auto& rules = rules_of(pol, d);
      for (std::uint32_t r = 0; r < rules.size(); ++r) {
        RiskFactor peers = peer_breadth(ctx, pol, rules[r]);
        RiskFactor selected = selected_breadth(ctx, i);
        RiskFactor ports = port_exposure(ctx, names, i, d, r);
        RiskScore risk = d == Direction::kIngress ? RiskScore{peers, selected, ports} : RiskScore{selected, peers, ports};  // [B4]
        const int score = risk.score();
        if (score < 8) continue;
        std::string message = rule_field(d, r) + " lets " + risk.source.reason + " reach " + risk.destination.reason +
                              " on " + risk.ports.reason + ": risk score " + std::to_string(score) + " (source " +
                              std::to_string(risk.source.value) + " x destination " +
                              std::to_string(risk.destination.value) + " x ports " + std::to_string(risk.ports.value) + ")";
        Finding& f = ctx.add("NPV-AUD-020", pol.ns, std::move(message));
        f.severity = severity_of(score, d);
        f.risk = std::move(risk);
        f.objects.push_back(ctx.policy_ref(i, rule_field(d, r)));
      }
    }
  }
}

}  // namespace npv::audit
