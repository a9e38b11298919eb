// npv audit renderers: the JSON schema (npv.audit/v1), the SARIF 2.1.0 shape, the text report,
// and source_location() against the Origins the loader really writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "npv/audit_report.hpp"
#include "npv/loader.hpp"
#include "unit/audit_support.hpp"

namespace npv {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

AuditReport broken_example() {
  auto c = load_cluster({std::string(NPV_SOURCE_DIR) + "/examples/three-tier-broken"});
  EXPECT_TRUE(c) << c.error().message;
  return c ? run_audit(std::move(*c)) : AuditReport{};
}

void expect_string_or_null(const json& j, const char* key) {
  ASSERT_TRUE(j.contains(key)) << key << " in " << j.dump();
  EXPECT_TRUE(j[key].is_string() || j[key].is_null()) << key << " in " << j.dump();
}

void expect_object_schema(const json& o) {
  for (const char* key : {"kind", "name"}) EXPECT_TRUE(o.at(key).is_string()) << key;
  for (const char* key : {"namespace", "field", "file"}) expect_string_or_null(o, key);
  ASSERT_TRUE(o.contains("line"));
  EXPECT_TRUE(o["line"].is_null() || (o["line"].is_number_integer() && o["line"].get<int>() >= 1));
}

TEST(AuditJson, FollowsTheDocumentedSchema) {
  AuditReport r = broken_example();
  json j = audit_to_json(r, AuditOutputOptions{});
  EXPECT_EQ(j.at("schema"), "npv.audit/v1");
  const json& s = j.at("summary");
  EXPECT_EQ(s.at("headline"), "12 NetworkPolicies found across 3 namespaces");
  EXPECT_EQ(s.at("policies"), 12);
  EXPECT_EQ(s.at("policy_namespaces"), 3);
  EXPECT_EQ(s.at("namespaces"), 4);
  EXPECT_EQ(s.at("pods"), 7);
  EXPECT_EQ(s.at("fail_on"), "high");
  EXPECT_EQ(s.at("failed"), true);
  std::size_t total = 0;
  for (const char* sev : {"info", "low", "medium", "high", "critical"}) total += s.at("findings").at(sev).get<std::size_t>();
  EXPECT_EQ(total, s.at("findings").at("total").get<std::size_t>());
  EXPECT_EQ(total, j.at("findings").size());

  const json& cni = j.at("cni");
  EXPECT_EQ(cni.at("detected"), true);
  EXPECT_EQ(cni.at("enforcement"), "does-not-enforce");
  EXPECT_TRUE(cni.at("summary").is_string());
  EXPECT_EQ(cni.at("node_agents"), 1);
  ASSERT_EQ(cni.at("components").size(), 1u);
  EXPECT_EQ(cni["components"][0].at("name"), "Flannel");
  expect_object_schema(cni["components"][0].at("object"));

  bool saw_risk = false;
  for (const json& f : j["findings"]) {
    EXPECT_THAT(f.at("id").get<std::string>(), ::testing::MatchesRegex("NPV-AUD-[0-9]{3}"));
    EXPECT_NE(find_check(f["id"].get<std::string>()), nullptr);
    EXPECT_EQ(f.at("check"), find_check(f["id"].get<std::string>())->name);
    EXPECT_TRUE(parse_severity(f.at("severity").get<std::string>()));
    expect_string_or_null(f, "namespace");
    EXPECT_FALSE(f.at("message").get<std::string>().empty());
    EXPECT_FALSE(f.at("remediation").get<std::string>().empty());
    ASSERT_FALSE(f.at("objects").empty());
    for (const json& o : f["objects"]) expect_object_schema(o);
    if (f.contains("risk")) {
      saw_risk = true;
      const json& risk = f["risk"];
      int product = 1;
      for (const char* factor : {"source", "destination", "ports"}) {
        product *= risk.at(factor).at("factor").get<int>();
        EXPECT_TRUE(risk[factor].at("reason").is_string());
      }
      EXPECT_EQ(risk.at("score").get<int>(), product);
    }
  }
  EXPECT_TRUE(saw_risk);
  EXPECT_TRUE(j.at("notes").is_array());
  json never = audit_to_json(r, AuditOutputOptions{std::nullopt, {}, "0"});
  EXPECT_EQ(never["summary"]["fail_on"], "never");
  EXPECT_EQ(never["summary"]["failed"], false);
}

// The SARIF 2.1.0 properties code-scanning tools require (OASIS sarif-v2.1.0, sections 3.13-3.28,
// 3.49) and those GitHub code scanning reads.
TEST(AuditSarif, HasTheRequiredShape) {
  AuditReport r = broken_example();
  AuditOutputOptions options;
  options.inputs = {"examples/three-tier-broken"};
  options.tool_version = "1.2.3";
  json s = audit_to_sarif(r, options);
  EXPECT_EQ(s.at("version"), "2.1.0");
  EXPECT_THAT(s.at("$schema").get<std::string>(), HasSubstr("sarif-2.1.0"));
  ASSERT_EQ(s.at("runs").size(), 1u);
  const json& run = s["runs"][0];
  const json& driver = run.at("tool").at("driver");
  EXPECT_EQ(driver.at("name"), "npv");
  EXPECT_EQ(driver.at("version"), "1.2.3");
  const json& rules = driver.at("rules");
  ASSERT_EQ(rules.size(), audit_checks().size());
  std::set<std::string> ids;
  for (const json& rule : rules) {
    ids.insert(rule.at("id").get<std::string>());
    EXPECT_FALSE(rule.at("shortDescription").at("text").get<std::string>().empty());
    EXPECT_FALSE(rule.at("fullDescription").at("text").get<std::string>().empty());
    EXPECT_FALSE(rule.at("help").at("text").get<std::string>().empty());
    EXPECT_THAT(rule.at("defaultConfiguration").at("level").get<std::string>(), ::testing::AnyOf("error", "warning", "note"));
    double sev = std::stod(rule.at("properties").at("security-severity").get<std::string>());
    EXPECT_TRUE(sev > 0.0 && sev <= 10.0);
  }
  EXPECT_EQ(ids.size(), rules.size()) << "rule ids are unique";
  const json& results = run.at("results");
  ASSERT_EQ(results.size(), r.findings.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    const json& res = results[i];
    const std::string id = res.at("ruleId");
    EXPECT_TRUE(ids.contains(id));
    EXPECT_EQ(rules.at(res.at("ruleIndex").get<std::size_t>()).at("id"), id) << "ruleIndex points at its rule";
    EXPECT_THAT(res.at("level").get<std::string>(), ::testing::AnyOf("error", "warning", "note"));
    EXPECT_FALSE(res.at("message").at("text").get<std::string>().empty());
    ASSERT_FALSE(res.at("locations").empty()) << id;
    const json& loc = res["locations"][0];
    const std::string uri = loc.at("physicalLocation").at("artifactLocation").at("uri");
    // The loader saw absolute paths (NPV_SOURCE_DIR): file:// URIs.
    EXPECT_THAT(uri, ::testing::StartsWith("file:///")) << id;
    EXPECT_THAT(uri, HasSubstr("/examples/three-tier-broken/")) << id;
    if (loc["physicalLocation"].contains("region")) {
      EXPECT_GE(loc["physicalLocation"]["region"].at("startLine").get<int>(), 1);
    }
    ASSERT_FALSE(loc.at("logicalLocations").empty());
    EXPECT_FALSE(loc["logicalLocations"][0].at("fullyQualifiedName").get<std::string>().empty());
    EXPECT_TRUE(res.at("partialFingerprints").at("npvFinding/v1").is_string());
  }
  // Levels follow severities: critical -> error, medium -> warning, low -> note.
  auto level_of = [&](const char* id) {
    for (const json& res : results) {
      if (res["ruleId"] == id) return res["level"].get<std::string>();
    }
    return std::string("absent");
  };
  EXPECT_EQ(level_of("NPV-AUD-030"), "error");
  EXPECT_EQ(level_of("NPV-AUD-003"), "warning");
  EXPECT_EQ(level_of("NPV-AUD-010"), "note");
}

TEST(AuditSarif, UrisAndFallbackLocation) {
  EXPECT_EQ(sarif_uri("examples/a b/p.yaml"), "examples/a%20b/p.yaml");
  EXPECT_EQ(sarif_uri("/tmp/x.yaml"), "file:///tmp/x.yaml");
  // A finding whose objects were not read from a file points at the first input.
  AuditReport r = test::audit_yaml(test::two_pods());  // NPV-AUD-001 and friends; namespace implicit
  AuditOutputOptions options;
  options.inputs = {"cluster.yaml"};
  json s = audit_to_sarif(r, options);
  for (const json& res : s["runs"][0]["results"]) {
    EXPECT_FALSE(res.at("locations")[0].at("physicalLocation").at("artifactLocation").at("uri").get<std::string>().empty());
  }
}

TEST(AuditText, HeadlineGroupsAndVerdict) {
  AuditReport r = broken_example();
  std::string text = audit_to_text(r, AuditOutputOptions{});
  EXPECT_THAT(text, ::testing::StartsWith("12 NetworkPolicies found across 3 namespaces"));
  EXPECT_THAT(text, HasSubstr("CNI: Flannel (kube-system/kube-flannel-ds): does-not-enforce"));
  EXPECT_THAT(text, HasSubstr("\ncluster-wide\n  CRITICAL  NPV-AUD-030  "));
  EXPECT_THAT(text, HasSubstr("\nnamespace production\n  HIGH      NPV-AUD-004  "));
  EXPECT_LT(text.find("namespace ingress-nginx"), text.find("namespace production")) << "namespaces in order";
  EXPECT_THAT(text, HasSubstr("FAILED: 4 findings at or above high"));
  AuditSummary one;
  one.policies = 1;
  one.policy_namespaces = 1;
  EXPECT_EQ(audit_headline(one), "1 NetworkPolicy found across 1 namespace");
}

TEST(AuditSourceLocation, InvertsTheLoaderOrigins) {
  ClusterBuilder b;
  ASSERT_TRUE(b.add_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", "dir/one.yaml"));
  ASSERT_TRUE(b.add_text("# c\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n---\n\napiVersion: v1\nkind: "
                         "Namespace\nmetadata: {name: c}\n",
                         "dir/multi (copy).yaml"));
  ASSERT_TRUE(b.add_text("kind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: d}}\n", "list.yaml"));
  ASSERT_TRUE(b.add_text(R"([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "e"}}])", "array.json"));
  auto c = b.build();
  ASSERT_TRUE(c) << c.error().message;
  auto loc = [&](const char* ns) { return source_location(c->namespaces[*c->find_namespace(ns)].origin); };
  EXPECT_EQ(loc("a").file, "dir/one.yaml");
  EXPECT_EQ(loc("a").line, 0);
  EXPECT_EQ(loc("b").file, "dir/multi (copy).yaml");
  EXPECT_EQ(loc("b").line, 2) << "the document's first node, after the comment";
  EXPECT_EQ(loc("c").file, "dir/multi (copy).yaml");
  EXPECT_EQ(loc("c").line, 5) << "its --- line";
  EXPECT_EQ(loc("d").file, "list.yaml");
  EXPECT_EQ(loc("e").file, "array.json");
  EXPECT_TRUE(source_location("(implicit)").file.empty());
}

}  // namespace
}  // namespace npv
