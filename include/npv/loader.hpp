// Reads Kubernetes objects from manifests into a ClusterState.
//
// Accepts YAML or JSON; single objects, multi-document YAML, `kind: List` and typed lists
// (PodList, ...), as `kubectl get ns,pods,netpol -A -o yaml|json` prints them. Kinds used:
// Namespace, Pod, NetworkPolicy (networking.k8s.io/v1), Service (v1), EndpointSlice
// (discovery.k8s.io/v1), and the workload kinds Deployment, StatefulSet, DaemonSet, ReplicaSet,
// Job and CronJob, whose pod template becomes a pod without an IP unless real pods of that
// workload are present. Other kinds are skipped with a note.
//
// Every error names the file, the object ("NetworkPolicy ns/name") and the field path
// ("spec.ingress[0].from[1].ipBlock.cidr"), and maps to exit code 2.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "npv/error.hpp"
#include "npv/model.hpp"

namespace npv {

class ClusterBuilder {
 public:
  ClusterBuilder();
  ~ClusterBuilder();
  ClusterBuilder(ClusterBuilder&&) noexcept;
  ClusterBuilder& operator=(ClusterBuilder&&) noexcept;

  // A file, or a directory searched recursively for *.yaml, *.yml and *.json (sorted by path).
  Result<void> add_path(const std::filesystem::path& path);
  // One file's content; `file_name` is used in messages. YAML or JSON (detected from content).
  Result<void> add_text(std::string_view text, const std::string& file_name);
  // Resolves workload templates against real pods and finalizes. Leaves the builder empty.
  Result<ClusterState> build();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Convenience: a ClusterBuilder over every path, in order.
Result<ClusterState> load_cluster(const std::vector<std::string>& paths);

}  // namespace npv
