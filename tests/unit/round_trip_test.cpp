// Generated clusters written as manifests and loaded back give the same verdicts: the loader reads
// every feature the engine uses (selectors, ipBlocks, named ports, endPort, policyTypes, the tier
// policies' subjects, peers, ports, actions and priorities) faithfully.
#include <gtest/gtest.h>

#include "npv/loader.hpp"
#include "npv/policy_engine.hpp"
#include "support/manifest_writer.hpp"
#include "support/random_cluster.hpp"

namespace npv {
namespace {

TEST(RoundTrip, WrittenManifestsLoadToTheSameVerdicts) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    // With cluster-wide tier policies of both API generations (written in their own shapes).
    ClusterState original =
        test::random_cluster({.namespaces = 5, .pods = 30, .policies = 15, .tier_policies = 8, .seed = seed});
    ClusterBuilder builder;
    // Through text, both as JSON and as YAML-compatible JSON: the loader sniffs the format.
    auto added = builder.add_text(test::cluster_to_manifests(original).dump(seed % 2 ? 2 : -1), "roundtrip.json");
    ASSERT_TRUE(added) << added.error().message;
    auto loaded = builder.build();
    ASSERT_TRUE(loaded) << loaded.error().message;
    ASSERT_EQ(loaded->pods.size(), original.pods.size());
    ASSERT_EQ(loaded->policies.size(), original.policies.size());
    ASSERT_EQ(loaded->tier_policies.size(), original.tier_policies.size());
    PolicyEngine a(original);
    PolicyEngine b(*loaded);
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 2000; ++i) {
      Flow flow = test::random_flow(original, rng);
      // Pod ids are stable: both clusters sort pods by namespace and name.
      ASSERT_EQ(a.allowed(flow), b.allowed(flow)) << "seed " << seed << ": " << test::describe_flow(original, flow);
    }
  }
}

}  // namespace
}  // namespace npv
