// Cluster-wide policy tiers (policy.networking.k8s.io): AdminNetworkPolicy and
// BaselineAdminNetworkPolicy (v1alpha1) and their successor ClusterNetworkPolicy (v1alpha2), in one
// model. The engine evaluates them around NetworkPolicy: Admin tier, then NetworkPolicy, then
// Baseline tier, then the Kubernetes default (allow); see policy_engine.cpp [T1]-[T12].
//
// Mapping of the two API generations onto this model (loader: agent/model/tier_policy_parser.cpp):
//
//   v1alpha1                                  v1alpha2 ClusterNetworkPolicy        model
//   AdminNetworkPolicy                        spec.tier: Admin                     TierKind::kAdmin
//   BaselineAdminNetworkPolicy (name default) spec.tier: Baseline                  TierKind::kBaseline
//   ANP spec.priority 0..1000; BANP: none     spec.priority 0..1000                priority (BANP: 0)
//   action Allow                              action Accept                        TierAction::kAllow
//   action Deny                               action Deny                          TierAction::kDeny
//   action Pass (ANP only)                    action Pass (both tiers)             TierAction::kPass
//   subject.namespaces / subject.pods         same                                 TierSubject
//   from/to: namespaces, pods                 same                                 TierPeer kNamespaces/kPods
//   to: nodes, networks (egress only)         same, + domainNames (egress Accept)  kNodes / kNetworks
//   ports[].portNumber {protocol, port}       protocols[].tcp|udp|sctp
//   ports[].portRange {protocol, start, end}     .destinationPort {number | range} TierPort kNumber
//   ports[].namedPort                         protocols[].destinationNamedPort     PolicyPort kNamed
//   ports absent: every port                  protocols absent: every port         ports empty
//
// A Pass in the Baseline tier (v1alpha2 only) skips the rest of the tier, which leaves the
// Kubernetes default (allow). domainNames peers cannot be evaluated from IPs; they are kept as a
// peer that matches nothing and the loader adds a note. nodes peers: the model has no Node objects
// (npv never reads Nodes), so a nodes peer matches nothing and the loader adds a note naming it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "npv/cidr.hpp"
#include "npv/port.hpp"
#include "npv/selector.hpp"

namespace npv {

enum class TierKind : std::uint8_t { kAdmin, kBaseline };
enum class TierAction : std::uint8_t { kAllow, kDeny, kPass };
// Which API object a TierPolicy was read from.
enum class TierApi : std::uint8_t { kAdminNetworkPolicy, kBaselineAdminNetworkPolicy, kClusterNetworkPolicy };

const char* to_string(TierKind t);    // "admin", "baseline"
const char* to_string(TierAction a);  // "Allow", "Deny", "Pass"
const char* to_string(TierApi a);     // "AdminNetworkPolicy", ...

// subject.namespaces: every pod in the matching namespaces (pod_selector empty = everything);
// subject.pods: pods matching pod_selector in namespaces matching namespace_selector.
// hostNetwork pods are never subjects.
struct TierSubject {
  LabelSelector namespace_selector;
  LabelSelector pod_selector;
};

struct TierPeer {
  enum class Kind : std::uint8_t { kNamespaces, kPods, kNodes, kNetworks, kDomainNames };
  Kind kind = Kind::kNamespaces;
  LabelSelector namespace_selector;  // kNamespaces, kPods
  LabelSelector pod_selector;        // kPods (kNamespaces: empty, every pod)
  LabelSelector node_selector;       // kNodes (not evaluated, see above)
  std::vector<Cidr> networks;        // kNetworks
  std::vector<std::string> domain_names;  // kDomainNames (not evaluated)
};

// kNumber: `proto` and port..end_port (portNumber: end_port == port). kNamed: a destination
// container port called `name`, whatever its protocol (the API's namedPort has none).
struct TierPort {
  enum class Kind : std::uint8_t { kNumber, kNamed };
  Kind kind = Kind::kNumber;
  Protocol proto = Protocol::kTCP;
  std::uint16_t port = 0;
  std::uint16_t end_port = 0;
  std::string name;
};

struct TierRule {
  std::string name;  // may be empty
  TierAction action = TierAction::kAllow;
  std::vector<TierPeer> peers;  // never empty (the API requires from/to with at least one item)
  std::vector<TierPort> ports;  // empty: every port of every protocol
};

struct TierPolicy {
  TierApi api = TierApi::kAdminNetworkPolicy;
  TierKind tier = TierKind::kAdmin;
  std::string name;     // cluster-scoped
  // 0..1000, lower = higher precedence. A BANP has none: it takes 0, so when both API generations
  // are installed it is evaluated with (and reported as tied to) Baseline CNPs of priority 0.
  int priority = 0;
  TierSubject subject;
  std::vector<TierRule> ingress;  // in precedence order
  std::vector<TierRule> egress;
  std::string origin;

  // "AdminNetworkPolicy/name", "ClusterNetworkPolicy/name", ...: what messages call the policy.
  std::string ref() const { return std::string(to_string(api)) + "/" + name; }
};

// Policies of one tier sharing a priority. The API leaves the outcome undefined when two of them
// match the same connection ("the implementation can apply any of the matching policies"): npv
// evaluates them in name order and reports the tie (loader note, explanation, audit check).
struct PriorityTie {
  TierKind tier = TierKind::kAdmin;
  int priority = 0;
  std::vector<std::string> policies;  // ref()s, in evaluation order; at least two
};
// `policies` sorted as ClusterState::tier_policies is.
std::vector<PriorityTie> priority_ties(const std::vector<TierPolicy>& policies);
// "admin tier priority 10 is shared by AdminNetworkPolicy/a, AdminNetworkPolicy/b: ..."
std::string describe(const PriorityTie& tie);

}  // namespace npv
