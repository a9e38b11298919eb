// npv audit: coverage checks (NPV-AUD-001, -002, -003, -005) and DNS (NPV-AUD-004), each with a
// manifest that triggers it and one that does not.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/audit_support.hpp"

namespace npv {
namespace {

using test::audit_yaml;
using test::default_deny;
using test::findings;
using test::netpol_yaml;
using test::pod_yaml;
using test::two_pods;
using ::testing::HasSubstr;

const std::string kDnsEgress = netpol_yaml("production", "allow-dns", R"(  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
)");

TEST(AuditNoPolicies, TriggersWhenPodsExistWithoutAnyPolicy) {
  auto r = audit_yaml(two_pods());
  auto f = findings(r, "NPV-AUD-001");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kHigh);
  EXPECT_TRUE(f[0].ns.empty()) << "cluster-wide";
  EXPECT_EQ(f[0].objects.at(0).display(), "Namespace production");
  EXPECT_TRUE(r.has_finding_at_least(Severity::kHigh));
}

TEST(AuditNoPolicies, SilentWithAPolicyOrWithoutPods) {
  EXPECT_TRUE(findings(audit_yaml(two_pods() + default_deny("production")), "NPV-AUD-001").empty());
  EXPECT_TRUE(findings(audit_yaml(test::namespace_yaml("empty")), "NPV-AUD-001").empty());
  auto host = pod_yaml("kube-system", "node-agent", "{app: agent}") ;
  host.insert(host.find("  containers:"), "  hostNetwork: true\n");
  EXPECT_TRUE(audit_yaml(host).findings.empty()) << "hostNetwork pods are outside NetworkPolicy's scope";
}

TEST(AuditDefaultDeny, IngressMissingIsHighEgressMissingIsMedium) {
  // Isolates every pod for ingress, but with a rule: not a default deny.
  auto r = audit_yaml(two_pods() + netpol_yaml("production", "same-namespace", R"(  podSelector: {}
  ingress: [{from: [{podSelector: {}}]}]
)"));
  auto in = findings(r, "NPV-AUD-002");
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].severity, Severity::kHigh);
  EXPECT_EQ(in[0].ns, "production");
  EXPECT_THAT(in[0].message, HasSubstr("isolated by narrower policies today"));
  auto out = findings(r, "NPV-AUD-003");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].severity, Severity::kMedium);
  EXPECT_THAT(out[0].message, HasSubstr("2 of 2 pod(s) are not isolated for egress"));
  EXPECT_EQ(out[0].objects.size(), 3u) << "the namespace and both open pods";
}

TEST(AuditDefaultDeny, EmptyEgressListDoesNotMakeADefaultDenyEgress) {
  // policyTypes omitted and `egress: []`: defaulting gives Ingress only.
  auto r = audit_yaml(two_pods() + netpol_yaml("production", "deny", "  podSelector: {}\n  egress: []\n") + kDnsEgress);
  EXPECT_TRUE(findings(r, "NPV-AUD-002").empty());
  EXPECT_EQ(findings(r, "NPV-AUD-003").size(), 1u);
}

TEST(AuditDefaultDeny, SilentWithDefaultDenyBothWays) {
  auto r = audit_yaml(two_pods() + default_deny("production") + kDnsEgress);
  EXPECT_TRUE(findings(r, "NPV-AUD-002").empty());
  EXPECT_TRUE(findings(r, "NPV-AUD-003").empty());
  EXPECT_TRUE(r.findings.empty()) << r.findings.front().message;
}

TEST(AuditUnselectedPods, TriggersForPodsNoPolicySelects) {
  auto r = audit_yaml(two_pods() + netpol_yaml("production", "web-only", R"(  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: db}}}]}]
)"));
  auto f = findings(r, "NPV-AUD-005");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kMedium);
  ASSERT_EQ(f[0].objects.size(), 1u);
  EXPECT_EQ(f[0].objects[0].display(), "Pod production/db");
}

TEST(AuditUnselectedPods, SilentWhenEveryPodIsSelectedOrTheNamespaceHasNoPolicy) {
  EXPECT_TRUE(findings(audit_yaml(two_pods() + default_deny("production", "[Ingress]")), "NPV-AUD-005").empty());
  EXPECT_TRUE(findings(audit_yaml(two_pods()), "NPV-AUD-005").empty()) << "NPV-AUD-002/003 cover that";
}

TEST(AuditDns, DefaultDenyEgressWithoutDnsIsHigh) {
  auto r = audit_yaml(two_pods() + default_deny("production"));
  auto f = findings(r, "NPV-AUD-004");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kHigh);
  EXPECT_EQ(f[0].ns, "production");
  EXPECT_EQ(f[0].objects.at(0).display(), "NetworkPolicy production/default-deny");
  EXPECT_THAT(f[0].message, HasSubstr("53/UDP"));
  EXPECT_THAT(f[0].message, HasSubstr("npv-assumed-kube-dns")) << "no kube-dns in the input";
  EXPECT_FALSE(r.notes.empty());
}

TEST(AuditDns, SilentWithADnsAllowanceOrAWideIpBlockOnPort53) {
  EXPECT_TRUE(findings(audit_yaml(two_pods() + default_deny("production") + kDnsEgress), "NPV-AUD-004").empty());
  auto ip_block = netpol_yaml("production", "dns-anywhere", R"(  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}], ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]}]
)");
  EXPECT_TRUE(findings(audit_yaml(two_pods() + default_deny("production") + ip_block), "NPV-AUD-004").empty())
      << "the assumed kube-dns has no IP: an ipBlock allowing 53 gets the benefit of the doubt";
}

TEST(AuditDns, OnlyUdpAllowedIsMedium) {
  auto udp_only = netpol_yaml("production", "dns-udp", R"(  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}], ports: [{protocol: UDP, port: 53}]}]
)");
  auto f = findings(audit_yaml(two_pods() + default_deny("production") + udp_only), "NPV-AUD-004");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kMedium);
  EXPECT_THAT(f[0].message, HasSubstr("53/TCP (53/UDP works)"));
}

TEST(AuditDns, KubeDnsIngressIsolationBlocksToo) {
  // A real CoreDNS pod with an IP; kube-system denies all ingress; production's egress is open.
  auto dns = pod_yaml("kube-system", "coredns", "{k8s-app: kube-dns}", "10.0.9.9",
                      "[{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]");
  auto r = audit_yaml(two_pods() + dns + default_deny("kube-system", "[Ingress]"));
  auto f = findings(r, "NPV-AUD-004");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].ns, "production");
  EXPECT_THAT(f[0].message, HasSubstr("kube-dns's ingress policies do not admit it"));
  EXPECT_THAT(f[0].message, HasSubstr("kube-system/coredns"));
  EXPECT_EQ(f[0].objects.at(0).display(), "NetworkPolicy kube-system/default-deny");
  EXPECT_TRUE(r.notes.empty()) << "a real kube-dns pod needs no assumption";
}

TEST(AuditDns, IpBlockNotCoveringTheRealKubeDnsIpDoesNotCount) {
  auto dns = pod_yaml("kube-system", "coredns", "{k8s-app: kube-dns}", "10.0.9.9",
                      "[{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]");
  auto elsewhere = netpol_yaml("production", "dns-elsewhere", R"(  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 192.168.0.0/16}}], ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]}]
)");
  EXPECT_EQ(findings(audit_yaml(two_pods() + dns + default_deny("production") + elsewhere), "NPV-AUD-004").size(), 1u);
  auto covering = netpol_yaml("production", "dns-here", R"(  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 10.0.9.0/24}}], ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]}]
)");
  EXPECT_TRUE(findings(audit_yaml(two_pods() + dns + default_deny("production") + covering), "NPV-AUD-004").empty());
}

}  // namespace
}  // namespace npv
