// End-to-end tests of the npv binary: arguments, exit codes, output schemas.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/run_npv.hpp"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using npv::test::CmdResult;

// Runs `npv ARGS` through the shell (ARGS is shell text) with stdout and stderr captured.
CmdResult npv(const std::string& args) { return npv::test::run_npv(args); }

const std::string kExample = "--cluster examples/three-tier";

TEST(Cli, HelpListsTheCommandsAndExitCodes) {
  CmdResult r = npv("--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("matrix"));
  EXPECT_THAT(r.out, HasSubstr("explain"));
  EXPECT_THAT(r.out, HasSubstr("Exit codes"));
  CmdResult sub = npv("explain --help");
  EXPECT_EQ(sub.code, 0);
  EXPECT_THAT(sub.out, HasSubstr("--from"));
}

TEST(Cli, BadUsageExitsTwo) {
  EXPECT_EQ(npv("").code, 2);
  EXPECT_EQ(npv("frobnicate").code, 2);
  EXPECT_EQ(npv("matrix").code, 2) << "--cluster is required";
  CmdResult bad_port = npv("matrix " + kExample + " --port 80/ICMP");
  EXPECT_EQ(bad_port.code, 2);
  EXPECT_THAT(bad_port.err, HasSubstr("TCP, UDP or SCTP"));
  CmdResult bad_format = npv("matrix " + kExample + " -o yaml");
  EXPECT_EQ(bad_format.code, 2);
}

TEST(Cli, MatrixJsonFollowsTheDocumentedSchema) {
  CmdResult r = npv("matrix " + kExample + " -o json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  // Without --port: every port/protocol some pod declares.
  std::vector<std::string> ports;
  for (auto& [k, v] : j.items()) ports.push_back(k);
  EXPECT_THAT(ports, ::testing::UnorderedElementsAre("53/TCP", "53/UDP", "80/TCP", "443/TCP", "5432/TCP", "8080/TCP"));
  for (auto& [port, table] : j.items()) {
    EXPECT_EQ(table.size(), 6u) << "every pod is a key of " << port;
    for (auto& [src, dsts] : table.items()) {
      auto list = dsts.get<std::vector<std::string>>();
      EXPECT_TRUE(std::is_sorted(list.begin(), list.end())) << port << " " << src;
      EXPECT_THAT(list, ::testing::Contains(src)) << "a pod always reaches itself";
    }
  }
  auto has = [&](const char* port, const char* src, const char* dst) {
    auto list = j[port][src].get<std::vector<std::string>>();
    return std::find(list.begin(), list.end(), dst) != list.end();
  };
  EXPECT_TRUE(has("8080/TCP", "production/frontend", "production/backend"));
  EXPECT_FALSE(has("8080/TCP", "production/backend", "production/frontend"));
  EXPECT_TRUE(has("5432/TCP", "production/backend", "production/database"));
  EXPECT_FALSE(has("5432/TCP", "production/frontend", "production/database"));
  EXPECT_TRUE(has("53/UDP", "production/database", "kube-system/coredns"));
  EXPECT_TRUE(has("80/TCP", "ingress-nginx/controller", "production/frontend")) << "named port http";
  for (const char* port : {"80/TCP", "8080/TCP", "5432/TCP"}) {
    for (const char* dst : {"production/frontend", "production/backend", "production/database"}) {
      EXPECT_FALSE(has(port, "tenant-a/app", dst)) << "the tenant must not reach " << dst << " on " << port;
    }
  }
}

TEST(Cli, MatrixPortFlagAndTable) {
  CmdResult r = npv("matrix " + kExample + " --port 8080/TCP --port 53/udp -o json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.size(), 2u);
  EXPECT_TRUE(j.contains("53/UDP"));
  CmdResult t = npv("matrix " + kExample + " --port 8080/TCP");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_THAT(t.out, HasSubstr("8080/TCP"));
  EXPECT_THAT(t.out, HasSubstr("production/frontend"));
  EXPECT_THAT(t.out, HasSubstr(". allowed"));
}

TEST(Cli, ExplainAllowedFlowNamesThePolicyAndRule) {
  CmdResult r = npv("explain " + kExample + " --from production/frontend --to production/backend --port 8080/TCP -o json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["allowed"]);
  EXPECT_EQ(j["port"], "8080/TCP");
  EXPECT_EQ(j["from"]["pod"], "production/frontend");
  EXPECT_EQ(j["ingress"]["allowed_by"][0]["policy"], "production/allow-frontend-to-backend");
  EXPECT_EQ(j["ingress"]["allowed_by"][0]["rule"], 0);
  EXPECT_EQ(j["egress"]["allowed_by"][0]["policy"], "production/allow-frontend-egress-to-backend");
  EXPECT_THAT(j["ingress"]["isolating_policies"].get<std::vector<std::string>>(),
              ::testing::ElementsAre("production/allow-frontend-to-backend", "production/default-deny-all"));
  CmdResult text = npv("explain " + kExample + " --from production/frontend --to production/backend --port 8080/TCP");
  EXPECT_THAT(text.out, HasSubstr("ALLOWED"));
  EXPECT_THAT(text.out, HasSubstr("production/allow-frontend-to-backend ingress[0]"));
}

TEST(Cli, ExplainDeniedFlowAndIpEndpoints) {
  // The tenant's own egress is open; production's ingress isolation stops it.
  CmdResult r = npv("explain " + kExample + " --from 10.244.3.7 --to production/database --port 5432/TCP -o json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j["allowed"]);
  EXPECT_EQ(j["from"]["pod"], "tenant-a/app") << "an IP of a pod is that pod";
  EXPECT_FALSE(j["egress"]["isolated"]);
  EXPECT_TRUE(j["ingress"]["isolated"]);
  EXPECT_TRUE(j["ingress"]["allowed_by"].empty());
  CmdResult text = npv("explain " + kExample + " --from production/backend --to 203.0.113.10 --port 443/TCP");
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("DENIED"));
  EXPECT_THAT(text.out, HasSubstr("not a cluster pod"));
}

TEST(Cli, ExplainRejectsUnknownEndpoints) {
  CmdResult r = npv("explain " + kExample + " --from production/nope --to production/backend --port 80/TCP");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("production/nope"));
  CmdResult junk = npv("explain " + kExample + " --from frontend --to production/backend --port 80/TCP");
  EXPECT_EQ(junk.code, 2);
  EXPECT_THAT(junk.err, HasSubstr("NAMESPACE/POD"));
}

TEST(Cli, MalformedManifestExitsTwoNamingTheFile) {
  auto dir = std::filesystem::temp_directory_path() / ("npv-cli-bad-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "bad.yaml") << "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                                     "metadata: {name: np, namespace: prod}\n"
                                     "spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}\n";
  CmdResult r = npv("matrix --cluster " + dir.string() + " --port 80/TCP");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("bad.yaml"));
  EXPECT_THAT(r.err, HasSubstr("NetworkPolicy prod/np"));
  EXPECT_THAT(r.err, HasSubstr("spec.ingress[0].from[0].ipBlock.cidr"));
  EXPECT_THAT(r.out, Not(HasSubstr("/TCP"))) << "nothing half-written on stdout";
  EXPECT_EQ(npv("matrix --cluster /nonexistent --port 80/TCP").code, 2);
}

}  // namespace

namespace {

const std::string kTiers = "--cluster examples/e2e-model --cluster examples/e2e-model-tiers";

TEST(CliTiers, MatrixAndExplainFollowTheTiers) {
  CmdResult m = npv("matrix " + kTiers + " --port 80/TCP -o json");
  ASSERT_EQ(m.code, 0) << m.err;
  auto j = nlohmann::json::parse(m.out);
  const auto reach = j["80/TCP"]["y/a"].get<std::vector<std::string>>();
  EXPECT_THAT(reach, Not(::testing::Contains("x/b"))) << "the AdminNetworkPolicy denies what a NetworkPolicy allows";
  EXPECT_THAT(reach, Not(::testing::Contains("z/b"))) << "the baseline denies y -> z";
  EXPECT_THAT(j["80/TCP"]["x/a"].get<std::vector<std::string>>(), ::testing::Contains("z/b")) << "Pass, then baseline Allow";

  CmdResult e = npv("explain " + kTiers + " --from y/a --to x/b --port 80/TCP -o json");
  ASSERT_EQ(e.code, 0) << e.err;
  auto x = nlohmann::json::parse(e.out);
  EXPECT_FALSE(x["allowed"]);
  EXPECT_EQ(x["ingress"]["decided_by"], "admin");
  EXPECT_EQ(x["ingress"]["admin_rule"]["policy"], "deny-y-to-x-80");
  EXPECT_EQ(x["ingress"]["admin_rule"]["rule_name"], "deny-from-y-80");
}

TEST(CliTiers, BadTierManifestExitsTwoAndLabKnowsTheFaultMode) {
  auto dir = std::filesystem::temp_directory_path() / ("npv-cli-anp-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "anp.yaml") << "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
                                     "metadata: {name: guard}\nspec: {priority: 5, subject: {namespaces: {}}, "
                                     "ingress: [{action: Reject, from: [{namespaces: {}}]}]}\n";
  CmdResult r = npv("matrix --cluster " + dir.string() + " --port 80/TCP");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("anp.yaml"));
  EXPECT_THAT(r.err, HasSubstr("AdminNetworkPolicy guard: spec.ingress[0].action: must be Allow, Deny or Pass, got \"Reject\""));
  EXPECT_THAT(npv("lab --help").out, HasSubstr("ignore-admin-deny"));
}

}  // namespace
