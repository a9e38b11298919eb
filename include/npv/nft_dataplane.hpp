// The lab's dataplanes: NetworkPolicies and the cluster-wide tiers (lab/nft_tiers.hpp) compiled to
// nftables, faithfully or with a modelled fault.
//
// This is a second, independent reading of NetworkPolicy semantics (it never calls the
// PolicyEngine): in `enforcing` mode, what the kernel lets through must equal what the engine
// allows, so the lab checks the engine and the dataplane against each other. Fault modes model
// real partial enforcement seen in the field.
//
// Output: one nftables ruleset per pod, loaded inside that pod's network namespace (table
// `inet npv_policy`: an `ingress` chain on the input hook, an `egress` chain on the output hook).
// Denied traffic hits a real `drop` rule, so the kernel reports it as a netfilter drop
// (SKB_DROP_REASON_NETFILTER_DROP) to the eBPF observer.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "npv/model.hpp"

namespace npv {

enum class Dataplane {
  kNone,              // accepts everything (like Flannel): no ruleset at all
  kEnforcing,         // every policy, every rule, both directions
  kIngressOnly,       // egress policies ignored (a CNI that enforces ingress only)
  kIgnoreNamedPorts,  // port entries given by name are dropped from their rule; a rule left with
                      // no port entries then allows every port (names never resolved)
  kIgnoreExcept,      // ipBlock `except` ignored: the whole cidr is allowed
  kTcpOnly,           // only TCP is filtered; UDP and SCTP pass unfiltered
  kStale,             // a policy agent that stopped syncing: only policies whose
                      // metadata.creationTimestamp is before DataplaneOptions::synced_before
                      // are enforced (a policy without timestamp counts as new)
  kIgnoreAdminDeny,   // Admin-tier Deny rules (AdminNetworkPolicy, ClusterNetworkPolicy tier
                      // Admin) are ignored; everything else, tiers included, is enforced
};

inline constexpr const char* kDataplaneNames =
    "none, enforcing, ingress-only, ignore-named-ports, ignore-except, tcp-only, stale, ignore-admin-deny";

const char* to_string(Dataplane d);                          // "none", "enforcing", "ingress-only", ...
std::optional<Dataplane> parse_dataplane(std::string_view text);

struct DataplaneOptions {
  Dataplane mode = Dataplane::kEnforcing;
  // kStale: RFC 3339 UTC time ("2026-11-23T15:00:00Z"); policies created before it are enforced.
  // Validate user input with is_rfc3339_utc (npv/model.hpp): an invalid value enforces nothing.
  std::string synced_before;
};

// The ruleset for every pod that has an IP (pods without IP are not lab pods). A pod that no
// policy isolates in any direction still gets a (permissive) table, so teardown is uniform.
// Loading a ruleset replaces the pod's previous `inet npv_policy` table in one transaction.
// kNone returns an empty map. Pure function of its inputs.
std::map<PodId, std::string> compile_nft(const ClusterState& cluster, const DataplaneOptions& options);

}  // namespace npv
