// Test and benchmark helper: a ClusterState written back as Kubernetes objects (a kind: List, as
// `kubectl get ns,pods,netpol -A -o json` prints), so generated clusters can be fed to the loader
// and to the npv binary. Loading the output gives a cluster with the same verdicts.
#pragma once

#include <nlohmann/json.hpp>

#include "npv/model.hpp"

namespace npv::test {

nlohmann::json cluster_to_manifests(const ClusterState& cluster);

}  // namespace npv::test
