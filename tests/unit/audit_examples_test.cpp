// npv audit on the shipped examples (three-tier passes, three-tier-broken fails with exactly the
// expected findings), on the same cluster as a `kubectl get -A -o json` List, and the npv binary's
// exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "support/run_npv.hpp"
#include "npv/audit.hpp"
#include "npv/loader.hpp"
#include "support/manifest_builder.hpp"
#include "support/manifest_writer.hpp"

namespace npv {
namespace {

using Key = std::tuple<std::string, std::string, std::string, std::string>;  // id, severity, namespace, object

std::set<Key> keys(const AuditReport& r) {
  std::set<Key> out;
  for (const auto& f : r.findings) {
    out.emplace(std::string(f.check_id), to_string(f.severity), f.ns, f.objects.empty() ? "" : f.objects.front().display());
  }
  return out;
}

AuditReport audit_dir(const std::string& dir) {
  auto c = load_cluster({std::string(NPV_SOURCE_DIR) + "/examples/" + dir});
  EXPECT_TRUE(c) << c.error().message;
  return c ? run_audit(std::move(*c)) : AuditReport{};
}

const std::set<Key> kBrokenFindings = {
    {"NPV-AUD-030", "critical", "", "DaemonSet kube-system/kube-flannel-ds"},
    {"NPV-AUD-003", "medium", "ingress-nginx", "Namespace ingress-nginx"},
    {"NPV-AUD-020", "low", "ingress-nginx", "NetworkPolicy ingress-nginx/allow-http-https spec.ingress[0]"},
    {"NPV-AUD-003", "medium", "kube-system", "Namespace kube-system"},
    {"NPV-AUD-004", "high", "production", "NetworkPolicy production/default-deny-all"},
    {"NPV-AUD-020", "high", "production", "NetworkPolicy production/allow-any-to-database spec.ingress[0]"},
    {"NPV-AUD-010", "low", "production", "NetworkPolicy production/allow-frontend-to-cache spec.podSelector"},
    {"NPV-AUD-012", "low", "production", "NetworkPolicy production/allow-backend-to-database spec.ingress[0]"},
    {"NPV-AUD-002", "high", "tenant-a", "Namespace tenant-a"},
    {"NPV-AUD-003", "medium", "tenant-a", "Namespace tenant-a"},
};

TEST(AuditExamples, ThreeTierHasNoHighFinding) {
  AuditReport r = audit_dir("three-tier");
  EXPECT_FALSE(r.has_finding_at_least(Severity::kHigh));
  // What it does get: open egress outside production, and the ingress controller open to all on 80/443.
  EXPECT_EQ(keys(r), (std::set<Key>{
                         {"NPV-AUD-003", "medium", "ingress-nginx", "Namespace ingress-nginx"},
                         {"NPV-AUD-020", "low", "ingress-nginx", "NetworkPolicy ingress-nginx/allow-http-https spec.ingress[0]"},
                         {"NPV-AUD-003", "medium", "kube-system", "Namespace kube-system"},
                         {"NPV-AUD-003", "medium", "tenant-a", "Namespace tenant-a"},
                     }));
  EXPECT_EQ(r.summary.policies, 12u);
  EXPECT_EQ(r.summary.policy_namespaces, 4u);
}

TEST(AuditExamples, ThreeTierBrokenHasExactlyTheExpectedFindings) {
  AuditReport r = audit_dir("three-tier-broken");
  EXPECT_EQ(keys(r), kBrokenFindings);
  EXPECT_EQ(r.findings.size(), kBrokenFindings.size()) << "no duplicates";
  EXPECT_EQ(r.cni.enforcement, Enforcement::kDoesNotEnforce);
}

TEST(AuditExamples, SameFindingsFromAKubectlListDump) {
  // The broken example as `kubectl get ns,pods,ds,netpol -A -o json` would print it: one List; the
  // Flannel agent appears as a pod its DaemonSet controls.
  auto c = load_cluster({std::string(NPV_SOURCE_DIR) + "/examples/three-tier-broken"});
  ASSERT_TRUE(c) << c.error().message;
  nlohmann::json list = test::cluster_to_manifests(*c);
  auto& items = list.at("items");
  items.erase(std::remove_if(items.begin(), items.end(),
                             [](const nlohmann::json& o) { return o["metadata"]["name"] == "kube-flannel-ds"; }),
              items.end());
  items.push_back(nlohmann::json::parse(R"({"apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "kube-flannel-ds-x7k2p", "namespace": "kube-system", "labels": {"app": "flannel"},
      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "kube-flannel-ds", "uid": "1", "controller": true}]},
    "spec": {"hostNetwork": true, "containers": [{"name": "kube-flannel", "image": "docker.io/flannel/flannel:v0.25.4"}]},
    "status": {"podIP": "192.168.1.10"}})"));
  ClusterBuilder b;
  ASSERT_TRUE(b.add_text(list.dump(), "dump.json"));
  auto dump = b.build();
  ASSERT_TRUE(dump) << dump.error().message;
  std::set<Key> want = kBrokenFindings;
  want.erase({"NPV-AUD-030", "critical", "", "DaemonSet kube-system/kube-flannel-ds"});
  want.insert({"NPV-AUD-030", "critical", "", "Pod kube-system/kube-flannel-ds-x7k2p"});
  EXPECT_EQ(keys(run_audit(std::move(*dump))), want);
}

using test::CmdResult;

CmdResult npv(const std::string& args) { return test::run_npv(args); }

const std::string kGood = "audit --cluster examples/three-tier";
const std::string kBroken = "audit --cluster examples/three-tier-broken";

TEST(AuditCli, ExitCodesFollowFailOn) {
  EXPECT_EQ(npv(kGood).code, 0);
  EXPECT_EQ(npv(kBroken).code, 1);
  EXPECT_EQ(npv(kBroken + " --fail-on critical").code, 1) << "the Flannel finding is critical";
  EXPECT_EQ(npv(kBroken + " --fail-on never").code, 0);
  EXPECT_EQ(npv(kGood + " --fail-on medium").code, 1);
  EXPECT_EQ(npv(kGood + " --fail-on high").code, 0);
}

TEST(AuditCli, BadUsageAndInputExitTwo) {
  CmdResult bad_fail_on = npv(kGood + " --fail-on urgent");
  EXPECT_EQ(bad_fail_on.code, 2);
  EXPECT_THAT(bad_fail_on.err, ::testing::HasSubstr("--fail-on"));
  EXPECT_EQ(npv(kGood + " -o yaml").code, 2);
  EXPECT_EQ(npv("audit").code, 2) << "--cluster is required";
  EXPECT_EQ(npv("audit --cluster /nonexistent").code, 2);
  auto dir = std::filesystem::temp_directory_path() / ("npv-audit-bad-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "bad.yaml") << "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
                                     "spec: {podSelector: {matchLabels: {app: [x]}}}\n";
  CmdResult bad = npv("audit --cluster " + dir.string());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, ::testing::HasSubstr("bad.yaml"));
  EXPECT_TRUE(bad.out.empty());
}

TEST(AuditCli, OutputFormatsAndHelp) {
  CmdResult json = npv(kBroken + " -o json");
  ASSERT_EQ(json.code, 1) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["summary"]["headline"], "12 NetworkPolicies found across 3 namespaces");
  EXPECT_EQ(j["summary"]["failed"], true);
  CmdResult sarif = npv(kBroken + " -o sarif --fail-on never");
  ASSERT_EQ(sarif.code, 0) << sarif.err;
  auto s = nlohmann::json::parse(sarif.out);
  EXPECT_EQ(s["version"], "2.1.0");
  EXPECT_EQ(s["runs"][0]["results"].size(), kBrokenFindings.size());
  CmdResult text = npv(kBroken);
  EXPECT_THAT(text.out, ::testing::StartsWith("12 NetworkPolicies found across 3 namespaces"));
  CmdResult help = npv("audit --help");
  EXPECT_EQ(help.code, 0);
  for (const CheckInfo& c : audit_checks()) EXPECT_THAT(help.out, ::testing::HasSubstr(std::string(c.id)));
  EXPECT_THAT(npv("--help").out, ::testing::HasSubstr("audit"));
}

}  // namespace
}  // namespace npv
