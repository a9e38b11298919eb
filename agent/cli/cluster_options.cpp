#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "npv/loader.hpp"

namespace npv::cli {

void ClusterOptions::add_to(CLI::App& sub) {
  sub.add_option("-c,--cluster", paths,
                 "Kubernetes manifests (YAML or JSON; files or directories, searched recursively; repeatable): "
                 "Namespaces, Pods, NetworkPolicies, workloads and the cluster-wide AdminNetworkPolicy, "
                 "BaselineAdminNetworkPolicy and ClusterNetworkPolicy, e.g. the output of "
                 "'kubectl get ns,pods,netpol -A -o yaml'")
      ->required()
      ->type_name("PATH");
}

Result<ClusterState> ClusterOptions::load() const {
  auto cluster = load_cluster(paths);
  if (!cluster) return cluster;
  for (const auto& note : cluster->notes) spdlog::info("{}", note);
  spdlog::debug("loaded {} namespaces, {} pods, {} NetworkPolicies", cluster->namespaces.size(),
                cluster->pods.size(), cluster->policies.size());
  return cluster;
}

int report(const Error& error) {
  std::fprintf(stderr, "npv: error: %s\n", error.message.c_str());
  return error.exit_code();
}

}  // namespace npv::cli
