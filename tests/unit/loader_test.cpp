#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "npv/loader.hpp"
#include "support/manifest_builder.hpp"

namespace npv {
namespace {

using test::load_yaml;
using ::testing::HasSubstr;

const char* kPolicyHead = R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: prod}
spec:
  podSelector: {}
)";

TEST(Loader, MultiDocumentYamlWithImplicitNamespaces) {
  auto c = load_yaml(test::namespace_yaml("prod", "{env: prod}") + test::pod_yaml("prod", "web", "{app: web}", "10.0.0.1") +
                     test::pod_yaml("other", "db", "{app: db}", "10.0.0.2"));
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->namespaces.size(), 2u);
  auto other = c->find_namespace("other");
  ASSERT_TRUE(other);
  EXPECT_FALSE(c->namespaces[*other].declared);
  EXPECT_EQ(c->namespaces[*other].labels.at("kubernetes.io/metadata.name"), "other");
  auto prod = c->find_namespace("prod");
  EXPECT_EQ(c->namespaces[*prod].labels.at("env"), "prod");
  EXPECT_EQ(c->namespaces[*prod].labels.at("kubernetes.io/metadata.name"), "prod");
  auto web = c->find_pod("prod/web");
  ASSERT_TRUE(web);
  EXPECT_EQ(c->find_pod_by_ip(*IpAddr::parse("10.0.0.1")), web);
}

TEST(Loader, KubectlListAndTypedApiListAndJson) {
  auto list = load_yaml(R"(
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: a}}
- apiVersion: v1
  kind: Pod
  metadata: {name: p, namespace: a}
  status: {podIPs: [{ip: 10.0.0.9}, {ip: "fd00::9"}]}
)");
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->pods.size(), 1u);
  EXPECT_EQ(list->pods[0].ips.size(), 2u);

  ClusterBuilder b;
  auto r = b.add_text(R"({"kind":"PodList","apiVersion":"v1","items":[
      {"metadata":{"name":"x","namespace":"n","labels":{"app":"x"}},
       "spec":{"containers":[{"name":"c","ports":[{"name":"dns","containerPort":53,"protocol":"UDP"}]}]},
       "status":{"podIP":"10.1.1.1"}}]})",
                      "pods.json");
  ASSERT_TRUE(r) << r.error().message;
  auto c = b.build();
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->pods.size(), 1u);
  EXPECT_EQ(c->pods[0].named_port("dns", Protocol::kUDP), 53);
  EXPECT_FALSE(c->pods[0].named_port("dns", Protocol::kTCP));
}

TEST(Loader, AnchorsAliasesAndMergeKeysExpand) {
  // Anchors are scoped to one YAML document, so both pods live in one List.
  auto c = load_yaml(R"(
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: p
    namespace: n
    labels: &common {app: web, team: a}
  spec: {containers: [{name: c, ports: [&http {name: http, containerPort: 80}]}]}
- apiVersion: v1
  kind: Pod
  metadata:
    name: q
    namespace: n
    labels:
      <<: *common
      team: b
  spec: {containers: [{name: c, ports: [*http]}]}
)");
  ASSERT_TRUE(c) << c.error().message;
  const Pod& q = c->pods[*c->find_pod("n/q")];
  EXPECT_EQ(q.labels.at("app"), "web");
  EXPECT_EQ(q.labels.at("team"), "b") << "an explicit key overrides a merged one";
  EXPECT_EQ(q.named_port("http", Protocol::kTCP), 80);
}

TEST(Loader, PolicyTypesDefaulting) {
  auto c = load_yaml(std::string(kPolicyHead) + "  ingress: [{}]\n" + "---" + std::string(kPolicyHead).replace(
      std::string(kPolicyHead).find("name: np"), 8, "name: e1") + "  egress: [{}]\n---" +
      std::string(kPolicyHead).replace(std::string(kPolicyHead).find("name: np"), 8, "name: e0") + "  egress: []\n");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->policies.size(), 3u);
  // Sorted by name: e0, e1, np.
  EXPECT_TRUE(c->policies[0].affects_ingress);
  EXPECT_FALSE(c->policies[0].affects_egress) << "egress: [] does not add Egress to the default";
  EXPECT_TRUE(c->policies[1].affects_ingress);
  EXPECT_TRUE(c->policies[1].affects_egress);
  EXPECT_TRUE(c->policies[2].affects_ingress);
  EXPECT_FALSE(c->policies[2].affects_egress);
}

TEST(Loader, WorkloadTemplatesStandInForMissingPods) {
  auto c = load_yaml(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, ports: [{name: http, containerPort: 80}]}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: shop}
spec:
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: report}}
        spec: {containers: [{name: c}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-5d4f
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, controller: true}]
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-5d4f-abcde
  namespace: shop
  labels: {app: api}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-5d4f, controller: true}]
status: {podIP: 10.0.0.5}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web, namespace: shop}
)");
  ASSERT_TRUE(c) << c.error().message;
  std::vector<std::string> names;
  for (const auto& p : c->pods) names.push_back(p.ref() + ":" + p.kind);
  // The api Deployment and its ReplicaSet are represented by their real pod.
  EXPECT_THAT(names, ::testing::ElementsAre("shop/api-5d4f-abcde:Pod", "shop/report:CronJob", "shop/web:Deployment"));
  auto web = c->find_pod("shop/web");
  EXPECT_TRUE(c->pods[*web].ips.empty());
  EXPECT_EQ(c->pods[*web].named_port("http", Protocol::kTCP), 80);
  EXPECT_EQ(c->pods[*web].labels.at("app"), "web");
  bool noted_config_map = false;
  for (const auto& n : c->notes) noted_config_map |= n.find("ConfigMap") != std::string::npos;
  EXPECT_TRUE(noted_config_map);
}

TEST(Loader, ReadsFilesAndDirectoriesRecursively) {
  auto dir = std::filesystem::temp_directory_path() / ("npv-loader-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "sub");
  std::ofstream(dir / "a.yaml") << test::pod_yaml("n", "a", "{}");
  std::ofstream(dir / "sub" / "b.json") << R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"b","namespace":"n"}})";
  std::ofstream(dir / "notes.txt") << "not a manifest";
  auto c = load_cluster({dir.string()});
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->pods.size(), 2u);
  auto missing = load_cluster({"/nonexistent/npv"});
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("/nonexistent/npv"));
  EXPECT_EQ(missing.error().exit_code(), 2);
}

TEST(Loader, ThreeTierExampleLoads) {
  auto c = load_cluster({NPV_SOURCE_DIR "/examples/three-tier"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->pods.size(), 6u);
  EXPECT_EQ(c->policies.size(), 12u);  // production 7, kube-system 2, ingress-nginx 2, tenant-a 1
}

// Bad input: every case is an error (exit code 2) whose message names the file, the object and
// the field, never a crash and never a silently wrong model.
struct BadCase {
  const char* name;
  std::string yaml;
  std::vector<std::string> expected;  // substrings of the message
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

std::string policy_with(const std::string& spec_tail) { return std::string(kPolicyHead) + spec_tail; }

class LoaderBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(LoaderBadInput, IsAClearError) {
  auto c = load_yaml(GetParam().yaml);
  ASSERT_FALSE(c) << "accepted: " << GetParam().yaml;
  EXPECT_EQ(c.error().exit_code(), 2);
  EXPECT_THAT(c.error().message, HasSubstr("test.yaml"));
  for (const auto& s : GetParam().expected) EXPECT_THAT(c.error().message, HasSubstr(s));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LoaderBadInput,
    ::testing::Values(
        BadCase{"MalformedYaml", "kind: Pod\nmetadata: {name: [oops\n", {"invalid YAML", "test.yaml:3:"}},
        // yaml-cpp 0.7's LoadAll never returns on this (upstream issue 1040); found by our fuzzer.
        BadCase{"LoneCommaDoesNotHang", ",\n", {"invalid YAML", "unexpected token"}},
        BadCase{"AliasBomb",
                "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
                {"invalid YAML", "nodes"}},
        // Found by the fuzzer: nlohmann throws out_of_range, not parse_error, for this.
        BadCase{"JsonNumberOverflow", "{\"kind\": \"Pod\", \"x\": 1e99999}", {"invalid JSON", "overflow"}},
        BadCase{"MalformedJson", R"({"kind": "Pod", "metadata": )", {"invalid JSON"}},
        BadCase{"DuplicateYamlKey", "kind: Pod\nkind: Namespace\n", {"duplicate mapping key"}},
        BadCase{"PrefixTooLong",
                policy_with("  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]\n"),
                {"NetworkPolicy prod/np", "spec.ingress[0].from[0].ipBlock.cidr", "10.0.0.0/33"}},
        BadCase{"HostBitsSet",
                policy_with("  egress: [{to: [{ipBlock: {cidr: 10.0.0.1/24}}]}]\n"),
                {"spec.egress[0].to[0].ipBlock.cidr", "host bits"}},
        BadCase{"ExceptOutsideCidr",
                policy_with("  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]}]\n"),
                {"spec.ingress[0].from[0].ipBlock.except[0]", "strict subset"}},
        BadCase{"ExceptEqualToCidr",
                policy_with("  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}}]}]\n"),
                {"except[0]", "strict subset"}},
        BadCase{"UnknownOperator",
                policy_with("  ingress: [{from: [{podSelector: {matchExpressions: [{key: a, operator: Equals, "
                            "values: [b]}]}}]}]\n"),
                {"spec.ingress[0].from[0].podSelector.matchExpressions[0].operator", "Equals"}},
        BadCase{"InWithoutValues",
                policy_with("  ingress: [{from: [{podSelector: {matchExpressions: [{key: a, operator: In}]}}]}]\n"),
                {"matchExpressions[0].values", "non-empty"}},
        BadCase{"ExistsWithValues",
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np, namespace: prod}\n"
                "spec:\n  podSelector: {matchExpressions: [{key: a, operator: Exists, values: [x]}]}\n",
                {"spec.podSelector.matchExpressions[0].values", "empty"}},
        BadCase{"PortOutOfRange", policy_with("  ingress: [{ports: [{port: 70000}]}]\n"),
                {"spec.ingress[0].ports[0].port", "1-65535", "70000"}},
        BadCase{"PortZero", policy_with("  ingress: [{ports: [{port: 0}]}]\n"), {"spec.ingress[0].ports[0].port"}},
        BadCase{"NamedPortWithEndPort", policy_with("  ingress: [{ports: [{port: http, endPort: 90}]}]\n"),
                {"spec.ingress[0].ports[0].endPort", "named port"}},
        BadCase{"EndPortBelowPort", policy_with("  egress: [{ports: [{port: 90, endPort: 80}]}]\n"),
                {"spec.egress[0].ports[0].endPort", "greater than or equal"}},
        BadCase{"EndPortWithoutPort", policy_with("  egress: [{ports: [{endPort: 80}]}]\n"),
                {"spec.egress[0].ports[0].endPort"}},
        BadCase{"QuotedNumericPortIsNotAName", policy_with("  ingress: [{ports: [{port: \"80\"}]}]\n"),
                {"spec.ingress[0].ports[0].port", "port name"}},
        BadCase{"BadProtocol", policy_with("  ingress: [{ports: [{port: 80, protocol: ICMP}]}]\n"),
                {"spec.ingress[0].ports[0].protocol", "ICMP"}},
        BadCase{"LowercaseProtocol", policy_with("  ingress: [{ports: [{port: 80, protocol: tcp}]}]\n"),
                {"protocol"}},
        BadCase{"EmptyPeer", policy_with("  ingress: [{from: [{}]}]\n"), {"spec.ingress[0].from[0]", "must specify"}},
        BadCase{"IpBlockWithSelector",
                policy_with("  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]\n"),
                {"spec.ingress[0].from[0]", "ipBlock"}},
        BadCase{"BadPolicyType", policy_with("  policyTypes: [Ingres]\n"), {"spec.policyTypes[0]", "Ingres"}},
        BadCase{"IngressNotAList", policy_with("  ingress: {from: []}\n"), {"spec.ingress", "expected a list"}},
        BadCase{"NonStringLabel",
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n, labels: {enabled: true}}\n",
                {"Pod n/p", "metadata.labels.enabled", "strings"}},
        BadCase{"BadPodIp", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nstatus: {podIP: 10.0.0.300}\n",
                {"Pod n/p", "status.podIP"}},
        BadCase{"BadContainerPort",
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\n"
                "spec: {containers: [{name: c, ports: [{containerPort: 99999}]}]}\n",
                {"spec.containers[0].ports[0].containerPort"}},
        BadCase{"UppercaseName", "apiVersion: v1\nkind: Pod\nmetadata: {name: Web, namespace: n}\n",
                {"metadata.name", "Web", "not a valid name"}},
        BadCase{"NamespaceWithDot", "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: a.b}\n",
                {"metadata.namespace", "a.b"}},
        BadCase{"InvalidUtf8InName", "apiVersion: v1\nkind: Pod\nmetadata: {name: \"w\\xffb\", namespace: n}\n",
                {"metadata.name"}},
        BadCase{"LabelValueTooLong",
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n, labels: {app: " + std::string(64, 'a') + "}}\n",
                {"metadata.labels.app", "not a valid label value"}},
        BadCase{"LabelKeyWithSpace", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n, labels: {\"my app\": x}}\n",
                {"metadata.labels.my app", "label key"}},
        BadCase{"SelectorValueInvalid",
                policy_with("  ingress: [{from: [{podSelector: {matchExpressions: [{key: app, operator: In, values: [\"-x\"]}]}}]}]\n"),
                {"matchExpressions[0].values[0]", "-x"}},
        BadCase{"MissingName", "apiVersion: v1\nkind: Pod\nmetadata: {namespace: n}\n", {"metadata.name", "required"}},
        BadCase{"NoKind", "apiVersion: v1\nmetadata: {name: x}\n", {"kind"}},
        BadCase{"NotAnObject", "- just\n- a list\n", {"expected a Kubernetes object"}},
        BadCase{"DuplicatePolicy", policy_with("") + "---" + policy_with(""),
                {"NetworkPolicy prod/np", "duplicate object", "document 1"}},
        BadCase{"DuplicatePodAcrossListAndDocument",
                "kind: List\nitems:\n- {kind: Pod, metadata: {name: p, namespace: n}}\n---\n" +
                    test::pod_yaml("n", "p", "{}"),
                {"Pod n/p", "duplicate object"}}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace npv
