// The lab report sinks (verifier.hpp): the exact JSON of a small report, the text summary (first
// line, findings with their policies, the verdict line), and the HTML page (balanced tags,
// escaping, matrix cell classes and colours), plus a realistic page from examples/three-tier with
// dataplane "none" (set NPV_LAB_HTML=/path.html to keep it for a look in a browser).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "npv/loader.hpp"
#include "npv/verifier.hpp"
#include "support/manifest_builder.hpp"

namespace npv {
namespace {

using nlohmann::json;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// prod/db accepts 5432/TCP from prod/web only (db-in); prod/web and prod/cache are not isolated.
const char* kCluster = R"(
apiVersion: v1
kind: Pod
metadata: {name: cache, namespace: prod, labels: {app: cache}}
status: {podIP: 10.0.0.3}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: prod, labels: {app: web}}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: prod, labels: {app: db}}
status: {podIP: 10.0.0.2}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-in, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: web}}
    ports:
    - {port: 5432}
)";

ProbeRecord make_probe(const PolicyEngine& engine, std::string_view src, std::string_view dst, std::string_view port,
                       ProbeOutcome prober, std::optional<Outcome> observed, std::string drop_reason = "") {
  const ClusterState& cluster = engine.cluster();
  ProbeRecord r;
  auto s = cluster.find_pod(src), d = cluster.find_pod(dst);
  auto pp = PortProto::parse(port);
  EXPECT_TRUE(s && d && pp) << src << " " << dst << " " << port;
  r.flow = Flow{Endpoint::of_pod(s.value_or(0)), Endpoint::of_pod(d.value_or(0)), pp.value_or(PortProto{})};
  r.prober = prober;
  if (observed) {
    ObservedFlow f;
    f.dst_port = r.flow.port.port;
    f.proto = r.flow.port.proto;
    f.src_pod = r.flow.src.pod;
    f.dst_pod = r.flow.dst.pod;
    f.outcome = *observed;
    f.drop_reason = std::move(drop_reason);
    r.observed = f;
  }
  verify(engine, r);
  return r;
}

// Every tag the page opens is closed, in order (void elements excepted); no tag is cut short.
::testing::AssertionResult balanced(const std::string& html) {
  static const std::set<std::string> kVoid{"meta", "br", "hr", "img", "link", "input", "col", "wbr"};
  std::vector<std::string> open;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string::npos) {
    const std::size_t end = html.find('>', i);
    if (end == std::string::npos) return ::testing::AssertionFailure() << "unterminated tag at " << i;
    std::string tag = html.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.starts_with("!")) continue;
    const bool closing = tag.starts_with("/");
    if (closing) tag.erase(0, 1);
    const std::string name = tag.substr(0, tag.find_first_of(" \t\n/"));
    if (name.empty() || name.find_first_of("<\"'&") != std::string::npos) {
      return ::testing::AssertionFailure() << "bad tag <" << tag << ">";
    }
    if (kVoid.contains(name)) continue;
    if (!closing) {
      open.push_back(name);
    } else if (open.empty() || open.back() != name) {
      return ::testing::AssertionFailure() << "</" << name << "> closes <" << (open.empty() ? "" : open.back()) << ">";
    } else {
      open.pop_back();
    }
  }
  if (!open.empty()) return ::testing::AssertionFailure() << "<" << open.back() << "> never closed";
  return ::testing::AssertionSuccess();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class LabReport : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = test::load_yaml(kCluster);
    ASSERT_TRUE(c) << c.error().message;
    cluster_ = std::move(*c);
    engine_ = std::make_unique<PolicyEngine>(cluster_);
    report_.summary.dataplane = "ingress-only";
    report_.summary.setup = std::chrono::milliseconds{1200};
    report_.summary.probing = std::chrono::milliseconds{900};
    report_.summary.teardown = std::chrono::milliseconds{300};
    report_.probes = {
        probe("prod/db", "prod/web", "80/TCP", ProbeOutcome::kConnected, Outcome::kEstablished),  // agree, allowed
        probe("prod/web", "prod/db", "53/UDP", ProbeOutcome::kNotReceived, std::nullopt),         // observer
        probe("prod/web", "prod/db", "80/TCP", ProbeOutcome::kConnected, Outcome::kEstablished),  // silent
        probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kTimeout, Outcome::kTimeout, "NETFILTER_DROP"),  // drop
    };
    summarize(report_);
  }

  ProbeRecord probe(std::string_view src, std::string_view dst, std::string_view port, ProbeOutcome prober,
                    std::optional<Outcome> observed, std::string drop_reason = "") const {
    return make_probe(*engine_, src, dst, port, prober, observed, std::move(drop_reason));
  }

  ClusterState cluster_;
  std::unique_ptr<PolicyEngine> engine_;
  npv::LabReport report_;
};

// ---- JSON ---------------------------------------------------------------------------------------

TEST_F(LabReport, JsonOfASmallReportIsExact) {
  json j = report_to_json(report_, cluster_);
  json expected = json::parse(R"({
    "dataplane": "ingress-only",
    "summary": {"probes": 4, "agree": 1, "silent_non_enforcement": 1, "unexpected_drop": 1,
                "observer_disagreement": 1, "setup_ms": 1200, "probing_ms": 900, "teardown_ms": 300},
    "findings": [
      {"kind": "silent-non-enforcement", "src": "prod/web", "dst": "prod/db", "port": "80/TCP", "protocol": "TCP",
       "expected": "deny", "observed": "established", "prober": "connected", "drop_reason": null,
       "policies": ["prod/db-in"],
       "explanation": {"from": {"pod": "prod/web", "ip": null}, "to": {"pod": "prod/db", "ip": null},
                       "port": "80/TCP", "allowed": false, "self": false,
                       "egress": {"governed": true, "isolated": false, "isolating_policies": [], "allowed": true, "allowed_by": [], "decided_by": "default", "admin_rule": null, "baseline_rule": null, "same_priority_conflicts": []},
                       "ingress": {"governed": true, "isolated": true, "isolating_policies": ["prod/db-in"],
                                   "allowed": false, "allowed_by": [], "decided_by": "networkpolicy", "admin_rule": null, "baseline_rule": null, "same_priority_conflicts": []}}},
      {"kind": "unexpected-drop", "src": "prod/web", "dst": "prod/db", "port": "5432/TCP", "protocol": "TCP",
       "expected": "allow", "observed": "timeout", "prober": "timeout", "drop_reason": "NETFILTER_DROP",
       "policies": ["prod/db-in"],
       "explanation": {"from": {"pod": "prod/web", "ip": null}, "to": {"pod": "prod/db", "ip": null},
                       "port": "5432/TCP", "allowed": true, "self": false,
                       "egress": {"governed": true, "isolated": false, "isolating_policies": [], "allowed": true, "allowed_by": [], "decided_by": "default", "admin_rule": null, "baseline_rule": null, "same_priority_conflicts": []},
                       "ingress": {"governed": true, "isolated": true, "isolating_policies": ["prod/db-in"],
                                   "allowed": true, "allowed_by": [{"policy": "prod/db-in", "rule": 0}], "decided_by": "networkpolicy", "admin_rule": null, "baseline_rule": null, "same_priority_conflicts": []}}},
      {"kind": "observer-disagreement", "src": "prod/web", "dst": "prod/db", "port": "53/UDP", "protocol": "UDP",
       "expected": "deny", "observed": null, "prober": "not_received", "drop_reason": null,
       "policies": ["prod/db-in"],
       "explanation": {"from": {"pod": "prod/web", "ip": null}, "to": {"pod": "prod/db", "ip": null},
                       "port": "53/UDP", "allowed": false, "self": false,
                       "egress": {"governed": true, "isolated": false, "isolating_policies": [], "allowed": true, "allowed_by": [], "decided_by": "default", "admin_rule": null, "baseline_rule": null, "same_priority_conflicts": []},
                       "ingress": {"governed": true, "isolated": true, "isolating_policies": ["prod/db-in"],
                                   "allowed": false, "allowed_by": [], "decided_by": "networkpolicy", "admin_rule": null, "baseline_rule": null, "same_priority_conflicts": []}}}
    ],
    "probes": [
      {"src": "prod/db", "dst": "prod/web", "port": "80/TCP", "expected": "allow", "observed": "established",
       "prober": "connected", "drop_reason": null, "agree": true},
      {"src": "prod/web", "dst": "prod/db", "port": "53/UDP", "expected": "deny", "observed": null,
       "prober": "not_received", "drop_reason": null, "agree": false},
      {"src": "prod/web", "dst": "prod/db", "port": "80/TCP", "expected": "deny", "observed": "established",
       "prober": "connected", "drop_reason": null, "agree": false},
      {"src": "prod/web", "dst": "prod/db", "port": "5432/TCP", "expected": "allow", "observed": "timeout",
       "prober": "timeout", "drop_reason": "NETFILTER_DROP", "agree": false}
    ]
  })");
  EXPECT_EQ(j, expected) << j.dump(2);
}

TEST_F(LabReport, JsonNamesAPodWithoutItsIpAndAnExternalEndpointByIp) {
  ProbeRecord r;
  r.flow.src = Endpoint{cluster_.find_pod("prod/web"), IpAddr::parse("10.0.0.1")};
  r.flow.dst = Endpoint::of_ip(*IpAddr::parse("192.0.2.7"));
  r.flow.port = {443, Protocol::kTCP};
  r.prober = ProbeOutcome::kConnected;
  r.observed = ObservedFlow{};
  r.observed->outcome = Outcome::kEstablished;
  verify(*engine_, r);
  npv::LabReport report;
  report.probes = {r};
  summarize(report);
  json j = report_to_json(report, cluster_);
  EXPECT_EQ(j["probes"][0]["src"], "prod/web");
  EXPECT_EQ(j["probes"][0]["dst"], "192.0.2.7");
  EXPECT_EQ(j["probes"][0]["agree"], true);
  EXPECT_EQ(j["findings"], json::array());
}

// ---- text ---------------------------------------------------------------------------------------

TEST_F(LabReport, TextStartsWithTheCountsAndEndsWithTheVerdict) {
  const auto l = lines(report_to_text(report_, cluster_));
  ASSERT_GE(l.size(), 3u);
  EXPECT_EQ(l.front(),
            "dataplane ingress-only: 4 flows probed, 1 agree, 1 silent non-enforcement, 1 unexpected drop, "
            "1 observer disagreement (setup 1.2 s, probing 0.9 s, teardown 0.3 s)");
  EXPECT_EQ(l.back(), "CNI FAILED: 1 silent non-enforcement, 1 unexpected drop in 4 probed flows "
                      "(and 1 observer disagreement).");
}

TEST_F(LabReport, TextListsTheFindingsWithTheirPolicies) {
  const std::string text = report_to_text(report_, cluster_);
  const auto l = lines(text);
  // Header, then one row per finding, silent non-enforcement first.
  ASSERT_GE(l.size(), 7u);
  EXPECT_THAT(l[2], StartsWith("KIND"));
  EXPECT_THAT(l[2], HasSubstr("POLICIES"));
  EXPECT_THAT(l[3], StartsWith("silent-non-enforcement"));
  EXPECT_THAT(l[3], HasSubstr("prod/web"));
  EXPECT_THAT(l[3], HasSubstr("80/TCP"));
  EXPECT_THAT(l[3], HasSubstr("deny (ingress isolated)"));
  EXPECT_THAT(l[3], HasSubstr("established"));
  EXPECT_THAT(l[3], EndsWith("  prod/db-in"));
  EXPECT_THAT(l[4], StartsWith("unexpected-drop"));
  EXPECT_THAT(l[4], HasSubstr("  allow  "));
  EXPECT_THAT(l[4], HasSubstr("timeout, drop NETFILTER_DROP"));
  EXPECT_THAT(l[4], EndsWith("  prod/db-in ingress[0]"));
  EXPECT_THAT(l[5], StartsWith("observer-disagreement"));
  EXPECT_THAT(l[5], HasSubstr("no observer event (prober: not_received)"));
  // The agreeing probe is not a finding.
  EXPECT_THAT(text, Not(HasSubstr("allow (not isolated)")));
}

TEST_F(LabReport, TextOfAnEnforcingRunIsTwoLines) {
  npv::LabReport report;
  report.summary.dataplane = "enforcing";
  report.summary.setup = std::chrono::milliseconds{1200};
  report.summary.probing = std::chrono::milliseconds{45};
  report.probes = {probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kConnected, Outcome::kEstablished),
                   probe("prod/web", "prod/db", "80/TCP", ProbeOutcome::kTimeout, Outcome::kTimeout, "NETFILTER_DROP")};
  summarize(report);
  EXPECT_EQ(report_to_text(report, cluster_),
            "dataplane enforcing: 2 flows probed, 2 agree, 0 silent non-enforcement, 0 unexpected drops, "
            "0 observer disagreements (setup 1.2 s, probing 45 ms)\n"
            "CNI enforces all 2 probed flows.\n");
}

TEST_F(LabReport, TextVerdictWhenOnlyTheObserverDisagrees) {
  npv::LabReport report;
  report.summary.dataplane = "enforcing";
  report.probes = {probe("prod/web", "prod/db", "5432/TCP", ProbeOutcome::kConnected, std::nullopt)};
  summarize(report);
  const auto l = lines(report_to_text(report, cluster_));
  EXPECT_EQ(l.back(), "INCONCLUSIVE: no policy violation in 1 probed flow, but 1 observer disagreement leaves it unproven.");
  EXPECT_THAT(l[3], StartsWith("observer-disagreement"));
  EXPECT_THAT(l[3], EndsWith("  prod/db-in ingress[0]"));
}

TEST_F(LabReport, TextVerdictWhenNothingWasProbed) {
  npv::LabReport report;
  report.summary.dataplane = "none";
  summarize(report);
  EXPECT_EQ(report_to_text(report, cluster_),
            "dataplane none: 0 flows probed, 0 agree, 0 silent non-enforcement, 0 unexpected drops, "
            "0 observer disagreements (setup 0 ms, probing 0 ms)\nNOTHING PROBED: no flows to verify.\n");
}

// ---- HTML ---------------------------------------------------------------------------------------

TEST_F(LabReport, HtmlIsOneSelfContainedWellFormedPage) {
  const std::string html = report_to_html(report_, cluster_);
  EXPECT_TRUE(balanced(html));
  EXPECT_THAT(html, StartsWith("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("<title>npv lab: dataplane ingress-only</title>"));
  EXPECT_THAT(html, HasSubstr("<style>"));
  for (const char* external : {"<script", "<link", "src=", "http://", "https://", "url("}) {
    EXPECT_THAT(html, Not(HasSubstr(external))) << external;
  }
  EXPECT_THAT(html, HasSubstr("CNI FAILED: 1 silent non-enforcement, 1 unexpected drop in 4 probed flows"));
  EXPECT_THAT(html, HasSubstr("<h2 id=\"findings\">Findings</h2>"));
  EXPECT_THAT(html, HasSubstr("<h2 id=\"probes\">Probes</h2>"));
  // One matrix per port.
  for (const char* port : {"<h3>53/UDP</h3>", "<h3>80/TCP</h3>", "<h3>5432/TCP</h3>"}) {
    EXPECT_THAT(html, HasSubstr(port));
  }
}

TEST_F(LabReport, HtmlMatrixCellsAreClassedAndColouredByResult) {
  report_.probes.push_back(probe("prod/cache", "prod/web", "8080/TCP", ProbeOutcome::kConnected, Outcome::kEstablished));
  report_.probes.push_back(
      probe("prod/web", "prod/db", "8080/TCP", ProbeOutcome::kTimeout, Outcome::kTimeout, "NETFILTER_DROP"));
  summarize(report_);
  const std::string html = report_to_html(report_, cluster_);
  EXPECT_TRUE(balanced(html));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell agree-allowed\" title=\"prod/db -&gt; prod/web 80/TCP&#10;"));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell agree-denied\" title=\"prod/web -&gt; prod/db 8080/TCP&#10;"));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell silent-non-enforcement\" title=\"prod/web -&gt; prod/db 80/TCP&#10;"));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell unexpected-drop\" title=\"prod/web -&gt; prod/db 5432/TCP&#10;"));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell observer-disagreement\" title=\"prod/web -&gt; prod/db 53/UDP&#10;"));
  // 8080/TCP: rows cache and web, columns web and db; nobody probed cache -> db.
  EXPECT_THAT(html, HasSubstr("<td class=\"cell not-probed\" title=\"prod/cache -&gt; prod/db 8080/TCP: not probed\">"));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell self\" title=\"prod/db: pod to itself"));
  // The title carries the details.
  EXPECT_THAT(html, HasSubstr("expected: deny (ingress isolated by prod/db-in)&#10;observed: established&#10;"
                              "prober: connected&#10;result: silent-non-enforcement\""));
  // The colours: green, grey, red, orange, purple.
  EXPECT_THAT(html, HasSubstr(".agree-allowed{background:#2da44e"));
  EXPECT_THAT(html, HasSubstr(".agree-denied{background:#c4c8cc"));
  EXPECT_THAT(html, HasSubstr(".silent-non-enforcement{background:#cf222e"));
  EXPECT_THAT(html, HasSubstr(".unexpected-drop{background:#f0883e"));
  EXPECT_THAT(html, HasSubstr(".observer-disagreement{background:#8250df"));
  EXPECT_THAT(html, HasSubstr("td.cell.not-probed{background:#fff"));
  // The legend names every class.
  for (const char* cls : {"agree-allowed", "agree-denied", "silent-non-enforcement", "unexpected-drop",
                          "observer-disagreement", "not-probed", "self"}) {
    EXPECT_THAT(html, HasSubstr(std::string("<li><span class=\"swatch ") + cls + "\">")) << cls;
  }
}

TEST_F(LabReport, HtmlCellShowsTheWorstOfSeveralProbes) {
  // Two probes of one cell (say IPv4 and IPv6): the silent non-enforcement wins.
  npv::LabReport report;
  report.probes = {probe("prod/web", "prod/db", "80/TCP", ProbeOutcome::kTimeout, Outcome::kTimeout),
                   probe("prod/web", "prod/db", "80/TCP", ProbeOutcome::kConnected, Outcome::kEstablished)};
  summarize(report);
  const std::string html = report_to_html(report, cluster_);
  EXPECT_THAT(html, HasSubstr("<td class=\"cell silent-non-enforcement\" title=\"prod/web -&gt; prod/db 80/TCP&#10;"));
  EXPECT_THAT(html, HasSubstr("result: agree&#10;&#10;prod/web -&gt; prod/db 80/TCP"));
}

TEST_F(LabReport, HtmlEscapesNamesFromManifests) {
  const std::string evil = "w<e>b&\"'";
  cluster_.pods[*cluster_.find_pod("prod/web")].name = evil;
  cluster_.policies[0].name = "<script>alert(1)</script>";
  report_.summary.dataplane = "none</title><em>";
  report_.probes[3].observed->drop_reason = "<DROP&>";
  const std::string html = report_to_html(report_, cluster_);
  EXPECT_TRUE(balanced(html));
  EXPECT_THAT(html, Not(HasSubstr(evil)));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<em>")));
  EXPECT_THAT(html, Not(HasSubstr("<DROP")));
  EXPECT_THAT(html, HasSubstr("prod/w&lt;e&gt;b&amp;&quot;&#39;"));
  EXPECT_THAT(html, HasSubstr("prod/&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("<title>npv lab: dataplane none&lt;/title&gt;&lt;em&gt;</title>"));
  EXPECT_THAT(html, HasSubstr("&lt;DROP&amp;&gt;"));
}

TEST_F(LabReport, HtmlOfAnEmptyReport) {
  npv::LabReport report;
  report.summary.dataplane = "enforcing";
  const std::string html = report_to_html(report, cluster_);
  EXPECT_TRUE(balanced(html));
  EXPECT_THAT(html, HasSubstr("NOTHING PROBED"));
  EXPECT_THAT(html, Not(HasSubstr("class=\"matrix\"")));
}

// ---- a realistic report -------------------------------------------------------------------------

// examples/three-tier on dataplane "none" (Flannel-like: accepts everything): every pod probes every
// declared port of every other pod and gets through, so every flow policy denies (the tenant into
// production, ...) is a silent non-enforcement. One UDP probe's observer event went missing.
TEST(LabReportThreeTier, DataplaneNoneLetsTheTenantReachProduction) {
  auto cluster = load_cluster({std::string(NPV_SOURCE_DIR) + "/examples/three-tier"});
  ASSERT_TRUE(cluster) << cluster.error().message;
  PolicyEngine engine(*cluster);
  npv::LabReport report;
  report.summary.dataplane = "none";
  report.summary.setup = std::chrono::milliseconds{1234};
  report.summary.probing = std::chrono::milliseconds{870};
  report.summary.teardown = std::chrono::milliseconds{310};
  std::size_t denied = 0;
  for (PodId src = 0; src < cluster->pods.size(); ++src) {
    for (PodId dst = 0; dst < cluster->pods.size(); ++dst) {
      if (src == dst) continue;  // pod-to-self is not probed
      for (const auto& cp : cluster->pods[dst].ports) {
        const bool udp = cp.proto == Protocol::kUDP;
        const bool lost = udp && cluster->pods[src].ref() == "tenant-a/app";
        auto r = make_probe(engine, cluster->pods[src].ref(), cluster->pods[dst].ref(),
                            PortProto{cp.port, cp.proto}.to_string(), udp ? ProbeOutcome::kReceived : ProbeOutcome::kConnected,
                            lost ? std::nullopt : std::optional(udp ? Outcome::kDelivered : Outcome::kEstablished));
        denied += r.expected_allowed ? 0 : 1;
        report.probes.push_back(std::move(r));
      }
    }
  }
  std::ranges::sort(report.probes, [](const ProbeRecord& a, const ProbeRecord& b) {
    return std::tie(*a.flow.src.pod, *a.flow.dst.pod, a.flow.port) < std::tie(*b.flow.src.pod, *b.flow.dst.pod, b.flow.port);
  });
  summarize(report);
  EXPECT_EQ(report.summary.probes, 40u);
  EXPECT_EQ(report.summary.silent_non_enforcement, denied);
  EXPECT_GT(denied, 20u);
  EXPECT_EQ(report.summary.unexpected_drop, 0u);
  EXPECT_EQ(report.summary.observer_disagreement, 1u);

  const std::string text = report_to_text(report, *cluster);
  EXPECT_THAT(text, HasSubstr("tenant-a/app"));
  const auto l = lines(text);
  const auto row = std::ranges::find_if(l, [](const std::string& line) {
    return line.starts_with("silent-non-enforcement  tenant-a/app  ") && line.find(" production/frontend ") != std::string::npos;
  });
  ASSERT_NE(row, l.end()) << text;
  EXPECT_THAT(*row, HasSubstr(" 80/TCP "));
  EXPECT_THAT(*row, HasSubstr(" deny (ingress isolated) "));
  EXPECT_THAT(*row, HasSubstr(" established "));
  EXPECT_THAT(*row, EndsWith(" production/allow-ingress-controller-to-frontend, production/default-deny-all"));
  EXPECT_THAT(lines(text).back(), StartsWith("CNI FAILED: " + std::to_string(denied) + " silent non-enforcement, 0 unexpected drops"));

  const std::string html = report_to_html(report, *cluster);
  EXPECT_TRUE(balanced(html));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell silent-non-enforcement\" title=\"tenant-a/app -&gt; production/frontend 80/TCP"));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell agree-allowed\" title=\"production/frontend -&gt; production/backend 8080/TCP"));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell observer-disagreement\" title=\"tenant-a/app -&gt; kube-system/coredns 53/UDP"));
  if (const char* path = std::getenv("NPV_LAB_HTML")) {
    std::ofstream(path) << html;
    std::ofstream(std::string(path) + ".txt") << text;
  }
}

}  // namespace
}  // namespace npv
