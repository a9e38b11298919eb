// The cluster-wide tiers (tier_policy.hpp) in the lab's nftables rulesets (nft_dataplane.cpp): the
// Admin-tier and Baseline-tier rules of one pod and direction as nft statements, in evaluation
// order, each ending in its verdict. Like the rest of the dataplane, an independent reading of the
// API (it never calls the PolicyEngine):
//   T1 A pod's tier policies: those whose subject selects it (namespace selector on its
//      namespace's labels, pod selector on its labels; hostNetwork pods never).
//   T2 Order: by priority (ClusterState order), rules as written; nft's first terminal verdict is
//      the API's first match.
//   T3 Admin: Allow -> accept, Deny -> drop, Pass -> goto the chain's tail (NetworkPolicy, or the
//      Baseline tier for a pod no NetworkPolicy isolates). Baseline: Allow -> accept, Deny ->
//      drop, Pass -> accept (the rest of the tier is skipped; the default allows).
//   T4 Peers: namespaces/pods by the selected lab pods' IPs; networks by CIDR; nodes and
//      domainNames match nothing. Ports: none, every port; numbers and ranges per protocol; a named
//      port, the destination pod's container ports of that name, whatever their protocol.
// Fault kIgnoreAdminDeny: Admin-tier Deny rules are left out.
#pragma once

#include <string>
#include <vector>

#include "npv/model.hpp"
#include "npv/nft_dataplane.hpp"

namespace npv::nft {

struct TierLines {
  std::vector<std::string> admin;     // statements with verdicts, in order
  std::vector<std::string> baseline;
  bool empty() const { return admin.empty() && baseline.empty(); }
};

// The tier statements of `self` for ingress (`ingress` true) or egress. `lab_pods`: pods with IPs.
// `tail_chain`: the chain an Admin Pass jumps to ("ingress_tail").
TierLines tier_lines(const ClusterState& cluster, const std::vector<PodId>& lab_pods, PodId self, bool ingress,
                     Dataplane mode, const std::string& tail_chain);

}  // namespace npv::nft
