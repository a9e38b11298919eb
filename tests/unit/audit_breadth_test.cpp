// npv audit: over-broad rules (NPV-AUD-020) and their risk score, factor by factor.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/audit_support.hpp"

namespace npv {
namespace {

using test::audit_yaml;
using test::default_deny;
using test::findings;
using test::netpol_yaml;
using test::two_pods;
using ::testing::HasSubstr;

// The NPV-AUD-020 findings for one policy in production (selector and one rule, YAML flow text).
std::vector<Finding> broad(const std::string& selector, const std::string& direction, const std::string& rule) {
  auto yaml = two_pods() + default_deny("production") +
              netpol_yaml("production", "p",
                          "  podSelector: " + selector + "\n  policyTypes: [" + (direction == "ingress" ? "Ingress" : "Egress") +
                              "]\n  " + direction + ":\n  - " + rule + "\n");
  return findings(audit_yaml(yaml), "NPV-AUD-020");
}

const std::string kDb = "{matchLabels: {app: db}}";

TEST(AuditOverBroad, AllowAllIngressToTheNamespaceIsHigh) {
  auto f = broad("{}", "ingress", "{}");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kHigh);
  ASSERT_TRUE(f[0].risk);
  EXPECT_EQ(f[0].risk->score(), 64);
  EXPECT_EQ(f[0].risk->source.value, 8);
  EXPECT_EQ(f[0].risk->destination.value, 2);
  EXPECT_EQ(f[0].risk->ports.value, 4);
  EXPECT_THAT(f[0].risk->ports.reason, HasSubstr("every port"));
  EXPECT_EQ(f[0].objects.at(0).display(), "NetworkPolicy production/p spec.ingress[0]");
}

TEST(AuditOverBroad, AnySourceOnADatabasePortIsHigh) {
  auto f = broad(kDb, "ingress", "{ports: [{port: 5432}]}");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kHigh);
  EXPECT_EQ(f[0].risk->score(), 32);
  EXPECT_THAT(f[0].risk->ports.reason, HasSubstr("PostgreSQL"));
  // The same through a named port the destination pods declare.
  auto named = broad(kDb, "ingress", "{ports: [{port: postgres}]}");
  ASSERT_EQ(named.size(), 1u);
  EXPECT_EQ(named[0].risk->score(), 32);
  EXPECT_THAT(named[0].risk->ports.reason, HasSubstr("postgres (5432/TCP, PostgreSQL)"));
}

TEST(AuditOverBroad, EveryNamespaceAndWideRangesScore) {
  auto every_ns = broad(kDb, "ingress", "{from: [{namespaceSelector: {}}], ports: [{port: 9000}]}");
  EXPECT_TRUE(every_ns.empty()) << "4 x 1 x 1 = 4: below the threshold";
  auto every_ns_all_ports = broad(kDb, "ingress", "{from: [{namespaceSelector: {}}]}");
  ASSERT_EQ(every_ns_all_ports.size(), 1u);
  EXPECT_EQ(every_ns_all_ports[0].risk->score(), 16);
  EXPECT_EQ(every_ns_all_ports[0].severity, Severity::kMedium);
  EXPECT_THAT(every_ns_all_ports[0].risk->source.reason, HasSubstr("every pod of every namespace"));
  auto range = broad(kDb, "ingress", "{from: [{namespaceSelector: {}}], ports: [{port: 1, endPort: 65535}]}");
  ASSERT_EQ(range.size(), 1u);
  EXPECT_EQ(range[0].risk->ports.value, 4);
  auto any_http = broad("{matchLabels: {app: web}}", "ingress", "{ports: [{port: 80}]}");
  ASSERT_EQ(any_http.size(), 1u) << "8 x 1 x 1";
  EXPECT_EQ(any_http[0].severity, Severity::kLow);
}

TEST(AuditOverBroad, EgressToTheWholeInternetIsAtMostMedium) {
  auto f = broad("{}", "egress", "{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].risk->score(), 64);
  EXPECT_EQ(f[0].severity, Severity::kMedium) << "an egress rule undoes at most the egress default deny";
  EXPECT_EQ(f[0].risk->source.value, 2) << "egress: the selected pods are the source";
  EXPECT_EQ(f[0].risk->destination.value, 8);
  EXPECT_THAT(f[0].risk->destination.reason, HasSubstr("0.0.0.0/0 without except"));
  auto v6 = broad(kDb, "egress", "{to: [{ipBlock: {cidr: \"::/0\"}}], ports: [{port: 443}]}");
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].risk->score(), 8);
}

TEST(AuditOverBroad, NarrowRulesAndExceptedBlocksAreNotReported) {
  EXPECT_TRUE(broad(kDb, "ingress", "{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}").empty());
  EXPECT_TRUE(broad(kDb, "egress",
                    "{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]}}], "
                    "ports: [{port: 443}]}")
                  .empty())
      << "4 x 1 x 1";
  EXPECT_TRUE(broad(kDb, "ingress", "{from: [{ipBlock: {cidr: 203.0.113.0/24}}], ports: [{port: 5432}]}").empty())
      << "1 x 1 x 4";
}

}  // namespace
}  // namespace npv
