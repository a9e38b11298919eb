// npv audit: CNI detection from DaemonSets and DaemonSet pods (the loader's node agents), and the
// checks on it (NPV-AUD-030, -031, -032).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/audit_support.hpp"

namespace npv {
namespace {

using test::audit_yaml;
using test::default_deny;
using test::findings;
using test::load_yaml;
using test::two_pods;
using ::testing::HasSubstr;

// A DaemonSet in kube-system; `containers` is the YAML flow list of its pod template's containers.
std::string daemonset(const std::string& name, const std::string& containers) {
  return "---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: " + name +
         ", namespace: kube-system}\nspec:\n  template:\n    metadata: {labels: {app: " + name +
         "}}\n    spec:\n      hostNetwork: true\n      containers: " + containers + "\n";
}

CniDetection detect(const std::string& yaml) {
  auto c = load_yaml(yaml);
  EXPECT_TRUE(c) << c.error().message;
  return c ? detect_cni(*c) : CniDetection{};
}

// The single component detected, as "Name: enforcement".
std::string one(const std::string& yaml) {
  CniDetection d = detect(yaml);
  if (d.components.size() != 1) return "components: " + std::to_string(d.components.size());
  return d.components[0].name + ": " + to_string(d.components[0].enforcement);
}

TEST(AuditCniDetect, EnforcingCnis) {
  EXPECT_EQ(one(daemonset("calico-node", "[{name: calico-node, image: docker.io/calico/node:v3.28.0}]")), "Calico: enforces");
  EXPECT_EQ(one(daemonset("cilium", "[{name: cilium-agent, image: 'quay.io/cilium/cilium:v1.15.6@sha256:abc'}]")),
            "Cilium: enforces");
  EXPECT_EQ(one(daemonset("anetd", "[{name: cilium-agent, image: gke.gcr.io/cilium/cilium:v1.14}]")),
            "GKE Dataplane V2 (anetd): enforces");
  EXPECT_EQ(one(daemonset("antrea-agent", "[{name: antrea-agent, image: antrea/antrea-agent-ubuntu:v2.1.0}, {name: antrea-ovs}]")),
            "Antrea: enforces");
  EXPECT_EQ(one(daemonset("kube-router", "[{name: kube-router, image: docker.io/cloudnativelabs/kube-router, args: [--run-router=true]}]")),
            "kube-router: enforces");
  EXPECT_EQ(one(daemonset("azure-npm", "[{name: azure-npm, image: mcr.microsoft.com/containernetworking/azure-npm:v1.5.5}]")),
            "Azure Network Policy Manager: enforces");
  EXPECT_EQ(one(daemonset("kube-network-policies",
                          "[{name: kube-network-policies, image: registry.k8s.io/networking/kube-network-policies:v0.2.0}]")),
            "kube-network-policies: enforces");
  EXPECT_EQ(one(daemonset("weave-net", "[{name: weave, image: weaveworks/weave-kube:2.8.1}, {name: weave-npc, image: weaveworks/weave-npc:2.8.1}]")),
            "Weave Net: enforces");
  EXPECT_EQ(one(daemonset("canal", "[{name: calico-node, image: calico/node:v3.28.0}, {name: kube-flannel, image: flannel/flannel:v0.25.4}]")),
            "Canal (Calico policy, Flannel networking): enforces");
}

TEST(AuditCniDetect, NonEnforcingAndUnknown) {
  EXPECT_EQ(one(daemonset("kube-flannel-ds", "[{name: kube-flannel, image: docker.io/flannel/flannel:v0.25.4}]")),
            "Flannel: does-not-enforce");
  EXPECT_EQ(one(daemonset("kube-flannel", "[{name: flannel, image: rancher/mirrored-flannelcni-flannel:v0.19.2}]")),
            "Flannel: does-not-enforce");
  EXPECT_EQ(one(daemonset("cilium", "[{name: cilium-agent, image: quay.io/cilium/cilium:v1.15.6, args: [--enable-policy=never]}]")),
            "Cilium: does-not-enforce");
  EXPECT_EQ(one(daemonset("weave-net", "[{name: weave, image: weaveworks/weave-kube:2.8.1}]")), "Weave Net: does-not-enforce");
  EXPECT_EQ(one(daemonset("kube-router", "[{name: kube-router, image: cloudnativelabs/kube-router, args: [--run-firewall=false]}]")),
            "kube-router: does-not-enforce");
  EXPECT_EQ(one(daemonset("kindnet", "[{name: kindnet-cni, image: docker.io/kindest/kindnetd:v20240813-c6f155d6}]")),
            "kindnet: unknown");
  EXPECT_EQ(one(daemonset("kindnet", "[{name: kindnet-cni, image: docker.io/kindest/kindnetd:v20240813-c6f155d6, args: [--network-policy=true]}]")),
            "kindnet: enforces");
  EXPECT_EQ(one(daemonset("kindnet", "[{name: kindnet-cni, image: kindest/kindnetd:v1, args: [--network-policy=false]}]")),
            "kindnet: does-not-enforce");
}

TEST(AuditCniDetect, AwsVpcCniNeedsItsPolicyAgentEnabled) {
  const std::string cni = "{name: aws-node, image: 602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.3}";
  EXPECT_EQ(one(daemonset("aws-node", "[" + cni + "]")), "AWS VPC CNI: does-not-enforce");
  const std::string agent = "{name: aws-eks-nodeagent, image: 602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.1.2, args: [";
  EXPECT_EQ(one(daemonset("aws-node", "[" + cni + ", " + agent + "--enable-ipv6=false, --enable-network-policy=false]}]")),
            "AWS VPC CNI: does-not-enforce");
  EXPECT_EQ(one(daemonset("aws-node", "[" + cni + ", " + agent + "--enable-network-policy=true]}]")), "AWS VPC CNI: enforces");
}

TEST(AuditCniDetect, CombinationsAndNothingKnown) {
  // Flannel for networking plus an enforcing engine in its own DaemonSet: enforced.
  CniDetection d = detect(daemonset("kube-flannel-ds", "[{name: kube-flannel, image: flannel/flannel:v0.25.4}]") +
                          daemonset("kube-router", "[{name: kube-router, image: cloudnativelabs/kube-router, args: [--run-router=false]}]"));
  EXPECT_EQ(d.components.size(), 2u);
  EXPECT_EQ(d.enforcement, Enforcement::kEnforces);
  CniDetection none = detect(daemonset("node-exporter", "[{name: node-exporter, image: quay.io/prometheus/node-exporter:v1.8.1}]"));
  EXPECT_TRUE(none.components.empty());
  EXPECT_EQ(none.node_agents, 1u);
  EXPECT_EQ(none.enforcement, Enforcement::kUnknown);
  EXPECT_EQ(detect(two_pods()).node_agents, 0u);
  // "mycalico/node" is not Calico's image.
  EXPECT_TRUE(detect(daemonset("x", "[{name: x, image: example.com/mycalico/node:1}]")).components.empty());
}

TEST(AuditCniDetect, DaemonSetPodsInAKubectlListAreEnough) {
  // `kubectl get pods -A -o yaml`: pods controlled by a DaemonSet, no DaemonSet object; one kept per DaemonSet.
  std::string list = "apiVersion: v1\nkind: List\nitems:\n";
  for (const char* name : {"calico-node-a1b2c", "calico-node-d3e4f"}) {
    list += std::string("- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: ") + name +
            "\n    namespace: calico-system\n    ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: calico-node, "
            "uid: u, controller: true}]\n  spec:\n    hostNetwork: true\n    containers: [{name: calico-node, image: "
            "quay.io/calico/node:v3.28.0}]\n";
  }
  auto c = load_yaml(list);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->node_agents.size(), 1u);
  EXPECT_EQ(c->node_agents[0].kind, "Pod");
  EXPECT_EQ(c->node_agents[0].daemonset, "calico-node");
  EXPECT_THAT(c->node_agents[0].origin, HasSubstr("items[0]"));
  CniDetection d = detect_cni(*c);
  ASSERT_EQ(d.components.size(), 1u);
  EXPECT_EQ(d.components[0].name, "Calico");
  EXPECT_EQ(d.components[0].object.display(), "Pod calico-system/calico-node-a1b2c");
}

const std::string kFlannel = daemonset("kube-flannel-ds", "[{name: kube-flannel, image: flannel/flannel:v0.25.4}]");

TEST(AuditCniChecks, CannotEnforceWhilePoliciesExistIsCritical) {
  auto r = audit_yaml(two_pods() + default_deny("production") + kFlannel);
  auto f = findings(r, "NPV-AUD-030");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kCritical);
  EXPECT_EQ(f[0].objects.at(0).display(), "DaemonSet kube-system/kube-flannel-ds");
  EXPECT_THAT(f[0].message, HasSubstr("Flannel"));
  EXPECT_TRUE(findings(audit_yaml(two_pods() + kFlannel), "NPV-AUD-030").empty()) << "no policy, nothing to enforce";
  EXPECT_TRUE(findings(audit_yaml(two_pods() + default_deny("production") +
                                  daemonset("calico-node", "[{name: calico-node, image: calico/node:v3.28.0}]")),
                       "NPV-AUD-030")
                  .empty());
}

TEST(AuditCniChecks, UnknownAndUnrecognised) {
  auto unknown = audit_yaml(two_pods() + default_deny("production") +
                            daemonset("kindnet", "[{name: kindnet-cni, image: kindest/kindnetd:v20230809-80a64d96}]"));
  auto f = findings(unknown, "NPV-AUD-031");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kMedium);
  auto unrecognised = audit_yaml(two_pods() + default_deny("production") +
                                 daemonset("node-exporter", "[{name: node-exporter, image: prom/node-exporter}]"));
  ASSERT_EQ(findings(unrecognised, "NPV-AUD-032").size(), 1u);
  EXPECT_EQ(findings(unrecognised, "NPV-AUD-032")[0].severity, Severity::kInfo);
  auto repo = audit_yaml(two_pods() + default_deny("production"));
  EXPECT_TRUE(findings(repo, "NPV-AUD-031").empty());
  EXPECT_TRUE(findings(repo, "NPV-AUD-032").empty()) << "no DaemonSet in the input: nothing to detect";
  EXPECT_THAT(repo.cni.summary, HasSubstr("not detected"));
}

}  // namespace
}  // namespace npv
