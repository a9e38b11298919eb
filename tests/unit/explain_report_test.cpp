// The explanation renderers (explain_report.hpp): the JSON schema, field by field, for one allowed
// and one denied flow, and the text form's verdict, policies and rule indexes.
#include "npv/explain_report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "npv/policy_engine.hpp"
#include "support/manifest_builder.hpp"

namespace npv {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

// db accepts 5432/TCP from web (db-in, rule 0) and is also locked down by db-lockdown; web may
// reach 192.0.2.0/24 (web-out, rule 0) and db (web-out, rule 1).
const char* kCluster = R"(
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
metadata: {name: db-lockdown, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
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
    - port: 5432
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-out, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock: {cidr: 192.0.2.0/24}
  - to:
    - podSelector: {matchLabels: {app: db}}
)";

class ExplainReport : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = test::load_yaml(kCluster);
    ASSERT_TRUE(c) << c.error().message;
    cluster_ = std::move(*c);
    engine_ = std::make_unique<PolicyEngine>(cluster_);
  }

  Endpoint pod(std::string_view ref) const {
    auto id = cluster_.find_pod(ref);
    EXPECT_TRUE(id) << ref;
    return id ? Endpoint::of_pod(*id) : Endpoint{};
  }
  static IpAddr ip(std::string_view text) {
    auto a = IpAddr::parse(text);
    EXPECT_TRUE(a) << text;
    return a.value_or(IpAddr{});
  }
  static PortProto port(std::string_view text) {
    auto p = PortProto::parse(text);
    EXPECT_TRUE(p) << text;
    return p.value_or(PortProto{});
  }

  ClusterState cluster_;
  std::unique_ptr<PolicyEngine> engine_;
};

TEST_F(ExplainReport, JsonOfAnAllowedFlowNamesEveryPolicyAndRule) {
  Flow flow{pod("prod/web"), pod("prod/db"), port("5432/TCP")};
  json j = explanation_to_json(cluster_, flow, engine_->explain(flow));
  json expected = json::parse(R"({
    "from": {"pod": "prod/web", "ip": null},
    "to": {"pod": "prod/db", "ip": null},
    "port": "5432/TCP",
    "allowed": true,
    "self": false,
    "egress": {"governed": true, "isolated": true, "isolating_policies": ["prod/web-out"],
               "allowed": true, "allowed_by": [{"policy": "prod/web-out", "rule": 1}], "decided_by": "networkpolicy", "admin_rule": null, "baseline_rule": null, "same_priority_conflicts": []},
    "ingress": {"governed": true, "isolated": true, "isolating_policies": ["prod/db-in", "prod/db-lockdown"],
                "allowed": true, "allowed_by": [{"policy": "prod/db-in", "rule": 0}], "decided_by": "networkpolicy", "admin_rule": null, "baseline_rule": null, "same_priority_conflicts": []}
  })");
  EXPECT_EQ(j, expected) << j.dump(2);
}

TEST_F(ExplainReport, JsonOfADeniedFlowFromAnExternalIp) {
  Endpoint db = pod("prod/db");
  db.ip = ip("10.0.0.2");
  Flow flow{Endpoint::of_ip(ip("203.0.113.9")), db, port("5432/TCP")};
  json j = explanation_to_json(cluster_, flow, engine_->explain(flow));
  json expected = json::parse(R"({
    "from": {"pod": null, "ip": "203.0.113.9"},
    "to": {"pod": "prod/db", "ip": "10.0.0.2"},
    "port": "5432/TCP",
    "allowed": false,
    "self": false,
    "egress": {"governed": false, "isolated": false, "isolating_policies": [], "allowed": true, "allowed_by": [], "decided_by": "none", "admin_rule": null, "baseline_rule": null, "same_priority_conflicts": []},
    "ingress": {"governed": true, "isolated": true, "isolating_policies": ["prod/db-in", "prod/db-lockdown"],
                "allowed": false, "allowed_by": [], "decided_by": "networkpolicy", "admin_rule": null, "baseline_rule": null, "same_priority_conflicts": []}
  })");
  EXPECT_EQ(j, expected) << j.dump(2);
}

TEST_F(ExplainReport, JsonOfPodToSelfIsAllowed) {
  Flow flow{pod("prod/db"), pod("prod/db"), port("5432/TCP")};
  json j = explanation_to_json(cluster_, flow, engine_->explain(flow));
  EXPECT_EQ(j.at("allowed"), true);
  EXPECT_EQ(j.at("self"), true);
}

TEST_F(ExplainReport, TextOfAnAllowedFlowNamesTheAllowingRules) {
  Flow flow{pod("prod/web"), pod("prod/db"), port("5432/TCP")};
  std::string text = explanation_to_text(cluster_, flow, engine_->explain(flow));
  EXPECT_THAT(text, HasSubstr("ALLOWED"));
  EXPECT_THAT(text, Not(HasSubstr("DENIED")));
  EXPECT_THAT(text, HasSubstr("prod/web"));
  EXPECT_THAT(text, HasSubstr("prod/db"));
  EXPECT_THAT(text, HasSubstr("5432/TCP"));
  EXPECT_THAT(text, HasSubstr("prod/web-out"));
  EXPECT_THAT(text, HasSubstr("egress[1]"));
  EXPECT_THAT(text, HasSubstr("prod/db-in"));
  EXPECT_THAT(text, HasSubstr("ingress[0]"));
}

TEST_F(ExplainReport, TextOfADeniedFlowNamesTheIsolatingPolicies) {
  Flow flow{Endpoint::of_ip(ip("203.0.113.9")), pod("prod/db"), port("5432/TCP")};
  std::string text = explanation_to_text(cluster_, flow, engine_->explain(flow));
  EXPECT_THAT(text, HasSubstr("DENIED"));
  EXPECT_THAT(text, Not(HasSubstr("ALLOWED")));
  EXPECT_THAT(text, HasSubstr("203.0.113.9"));
  EXPECT_THAT(text, HasSubstr("prod/db-in"));
  EXPECT_THAT(text, HasSubstr("prod/db-lockdown"));
  EXPECT_THAT(text, Not(HasSubstr("ingress[")));
}

TEST_F(ExplainReport, TextOfAFlowDeniedByEgress) {
  Flow flow{pod("prod/web"), Endpoint::of_ip(ip("198.51.100.1")), port("443/TCP")};
  std::string text = explanation_to_text(cluster_, flow, engine_->explain(flow));
  EXPECT_THAT(text, HasSubstr("DENIED"));
  EXPECT_THAT(text, HasSubstr("prod/web-out"));
  EXPECT_THAT(text, HasSubstr("198.51.100.1"));
}

TEST_F(ExplainReport, EndpointNames) {
  Endpoint both = pod("prod/db");
  both.ip = ip("10.0.0.2");
  EXPECT_EQ(endpoint_name(cluster_, pod("prod/db")), "prod/db");
  EXPECT_EQ(endpoint_name(cluster_, Endpoint::of_ip(ip("2001:db8::1"))), "2001:db8::1");
  EXPECT_EQ(endpoint_name(cluster_, both), "prod/db (10.0.0.2)");
}

}  // namespace
}  // namespace npv
