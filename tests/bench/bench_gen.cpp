// npv_bench_gen PODS NAMESPACES POLICIES SEED > cluster.json
// A generated cluster (tests/support/random_cluster) as a kubectl-style List.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "support/manifest_writer.hpp"
#include "support/random_cluster.hpp"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: npv_bench_gen PODS NAMESPACES POLICIES SEED > cluster.json\n");
    return 2;
  }
  npv::test::RandomClusterSpec spec;
  spec.pods = std::strtoull(argv[1], nullptr, 10);
  spec.namespaces = std::strtoull(argv[2], nullptr, 10);
  spec.policies = std::strtoull(argv[3], nullptr, 10);
  spec.seed = std::strtoull(argv[4], nullptr, 10);
  std::cout << npv::test::cluster_to_manifests(npv::test::random_cluster(spec)).dump() << '\n';
  return 0;
}
