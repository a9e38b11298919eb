#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "npv/loader.hpp"
#include "npv/object_decoder.hpp"
#include "support/manifest_builder.hpp"

namespace npv {
namespace {

using ::testing::HasSubstr;

TEST(ServiceModel, LoaderReadsServicesWithKubernetesDefaults) {
  auto c = test::load_yaml(R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10, "fd00::10"]
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: dns, port: 53, protocol: UDP, targetPort: 5353}
  - {name: plain, port: 8443}
  - {name: text-number, port: 9000, targetPort: "9001"}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec: {clusterIP: None, selector: {app: db}}
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: shop}
spec: {type: ExternalName, externalName: db.example.com}
)");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->services.size(), 3u);
  // finalize() sorts by namespace/name: db, ext, web.
  const Service& db = c->services[0];
  EXPECT_EQ(db.ref(), "shop/db");
  EXPECT_TRUE(db.headless);
  EXPECT_TRUE(db.cluster_ips.empty());
  EXPECT_EQ(c->services[1].type, "ExternalName");
  EXPECT_EQ(c->services[1].external_name, "db.example.com");
  const Service& web = c->services[2];
  EXPECT_EQ(web.type, "ClusterIP");
  ASSERT_EQ(web.cluster_ips.size(), 2u);
  EXPECT_EQ(web.cluster_ips[1].to_string(), "fd00::10");
  ASSERT_TRUE(web.selector);
  EXPECT_EQ(web.selector->at("app"), "web");
  ASSERT_EQ(web.ports.size(), 4u);
  EXPECT_EQ(web.ports[0].target_port_name, "http");
  EXPECT_EQ(web.ports[0].target_port, 0);
  EXPECT_EQ(web.ports[1].proto, Protocol::kUDP);
  EXPECT_EQ(web.ports[1].target_port, 5353);
  EXPECT_EQ(web.ports[2].target_port, 8443);  // targetPort defaults to port
  EXPECT_EQ(web.ports[2].proto, Protocol::kTCP);
  EXPECT_EQ(web.ports[3].target_port, 9001);  // a numeric string is a number
  EXPECT_TRUE(web.ports[3].target_port_name.empty());
}

TEST(ServiceModel, LoaderReadsEndpointSlices) {
  auto c = test::load_yaml(R"(
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  namespace: shop
  labels: {kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io}
addressType: IPv4
endpoints:
- addresses: [10.0.0.5]
  conditions: {ready: true, serving: true, terminating: false}
  targetRef: {kind: Pod, name: web-1, namespace: shop, uid: 0b3e4c2a-7f0e-4d61-9f55-6b1a5d0e3c11}
  nodeName: node-1
- addresses: [10.0.0.6]
  conditions: {ready: false}
  targetRef: {kind: Pod, name: web-2}
- addresses: [10.0.0.7]
ports:
- {name: http, port: 8080, protocol: TCP}
- {name: all}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ext-1, namespace: shop}
addressType: FQDN
endpoints: null
ports: []
)");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->endpoint_slices.size(), 2u);
  const EndpointSlice& ext = c->endpoint_slices[0];
  EXPECT_EQ(ext.address_type, AddressType::kFQDN);
  EXPECT_TRUE(ext.endpoints.empty());
  EXPECT_TRUE(ext.service_name.empty());
  const EndpointSlice& web = c->endpoint_slices[1];
  EXPECT_EQ(web.service_name, "web");
  ASSERT_EQ(web.endpoints.size(), 3u);
  EXPECT_TRUE(web.endpoints[0].ready);
  EXPECT_EQ(web.endpoints[0].target_pod, "shop/web-1");
  EXPECT_EQ(web.endpoints[0].node_name, "node-1");
  EXPECT_EQ(web.endpoints[0].ips[0].to_string(), "10.0.0.5");
  EXPECT_FALSE(web.endpoints[1].ready);
  EXPECT_EQ(web.endpoints[1].target_pod, "shop/web-2");  // targetRef namespace defaults to the slice's
  EXPECT_TRUE(web.endpoints[2].ready);                   // nil ready: treated as ready
  ASSERT_EQ(web.ports.size(), 2u);
  EXPECT_EQ(web.ports[0].port, 8080);
  EXPECT_FALSE(web.ports[1].port.has_value());  // nil port: all ports
}

struct BadCase {
  const char* yaml;
  const char* expected;  // substring of the error
};

TEST(ServiceModel, MalformedObjectsNameFileObjectAndField) {
  const BadCase cases[] = {
      {"kind: Service\napiVersion: v1\nmetadata: {name: web, namespace: a}\nspec: {ports: [{port: 70000}]}",
       "test.yaml: Service a/web: spec.ports[0].port: must be in 1-65535, got 70000"},
      {"kind: Service\napiVersion: v1\nmetadata: {name: web, namespace: a}\nspec: {ports: [{port: 80, targetPort: Bad_Name}]}",
       "Service a/web: spec.ports[0].targetPort: \"Bad_Name\" is neither a port number nor a valid port name"},
      {"kind: Service\napiVersion: v1\nmetadata: {name: web, namespace: a}\nspec: {ports: [{port: 80}, {port: 81}]}",
       "Service a/web: spec.ports[0].name: required when the Service has more than one port"},
      {"kind: Service\napiVersion: v1\nmetadata: {name: web, namespace: a}\nspec: {clusterIP: 10.0.0.300, ports: [{port: 80}]}",
       "Service a/web: spec.clusterIP: \"10.0.0.300\" is not an IP address"},
      {"kind: Service\napiVersion: v1\nmetadata: {name: web, namespace: a}\nspec: {type: Magic, ports: [{port: 80}]}",
       "Service a/web: spec.type: must be ClusterIP, NodePort, LoadBalancer or ExternalName, got \"Magic\""},
      {"kind: Service\napiVersion: v1\nmetadata: {name: web, namespace: a}\nspec: {selector: {app: web}}",
       "Service a/web: spec.ports: required"},
      {"kind: Service\napiVersion: v1\nmetadata: {name: 1web, namespace: a}\nspec: {ports: [{port: 80}]}",
       "Service a/1web: metadata.name: \"1web\" is not a valid Service name"},
      {"kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\nmetadata: {name: s, namespace: a}\nendpoints: []",
       "EndpointSlice a/s: addressType: required"},
      {"kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\nmetadata: {name: s, namespace: a}\naddressType: IPv6\n"
       "endpoints: [{addresses: [10.0.0.1]}]",
       "EndpointSlice a/s: endpoints[0].addresses[0]: \"10.0.0.1\" is not an IPv6 address"},
      {"kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\nmetadata: {name: s, namespace: a}\naddressType: IPv4\n"
       "endpoints: [{addresses: []}]",
       "EndpointSlice a/s: endpoints[0].addresses: must hold 1-100 addresses"},
      {"kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\nmetadata: {name: s, namespace: a}\naddressType: IPv4\n"
       "endpoints: [{addresses: [10.0.0.1], conditions: {ready: yes-please}}]",
       "EndpointSlice a/s: endpoints[0].conditions.ready: expected a boolean, got a string"},
      {"kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\nmetadata: {name: s, namespace: a}\naddressType: IPv4\n"
       "ports: [{port: 80, protocol: ICMP}]",
       "EndpointSlice a/s: ports[0].protocol: must be TCP, UDP or SCTP, got \"ICMP\""},
  };
  for (const auto& c : cases) {
    auto r = test::load_yaml(c.yaml);
    ASSERT_FALSE(r) << c.yaml;
    EXPECT_THAT(r.error().message, HasSubstr(c.expected)) << c.yaml;
    EXPECT_EQ(r.error().exit_code(), kExitBadInput);
  }
}

TEST(ServiceModel, DuplicateServiceIsAnError) {
  const char* svc = "---\nkind: Service\napiVersion: v1\nmetadata: {name: web, namespace: a}\nspec: {ports: [{port: 80}]}\n";
  auto r = test::load_yaml(std::string(svc) + svc);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("duplicate object"));
}

TEST(ObjectDecoder, DecodesEachKindFromApiJson) {
  auto pod = decode_object(nlohmann::json::parse(R"({
      "metadata": {"name": "web-1", "namespace": "shop", "uid": "7d1b", "resourceVersion": "42",
                   "labels": {"app": "web"}, "creationTimestamp": "2026-01-02T03:04:05Z"},
      "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]},
      "status": {"phase": "Running", "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}]}})"),
                           "Pod", "API pods");
  ASSERT_TRUE(pod) << pod.error().message;
  const auto& p = std::get<Pod>(*pod);
  EXPECT_EQ(p.ref(), "shop/web-1");
  EXPECT_EQ(p.origin, "API pods");
  EXPECT_EQ(p.named_port("http", Protocol::kTCP), 8080);

  auto ns = decode_object(nlohmann::json::parse(R"({"metadata": {"name": "shop", "labels": {"team": "a"}}})"),
                          "Namespace", "API");
  ASSERT_TRUE(ns);
  EXPECT_TRUE(std::get<Namespace>(*ns).declared);

  auto pol = decode_object(nlohmann::json::parse(R"({"metadata": {"name": "deny", "namespace": "shop"},
      "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})"),
                           "NetworkPolicy", "API");
  ASSERT_TRUE(pol);
  EXPECT_TRUE(std::get<NetworkPolicy>(*pol).affects_ingress);

  auto svc = decode_object(nlohmann::json::parse(R"({"metadata": {"name": "web", "namespace": "shop"},
      "spec": {"clusterIP": "10.96.0.7", "ports": [{"port": 80, "targetPort": 8080}]}})"),
                           "Service", "API");
  ASSERT_TRUE(svc);
  EXPECT_EQ(std::get<Service>(*svc).ports[0].target_port, 8080);

  auto slice = decode_object(nlohmann::json::parse(R"({"metadata": {"name": "web-x", "namespace": "shop",
      "labels": {"kubernetes.io/service-name": "web"}}, "addressType": "IPv4",
      "endpoints": [{"addresses": ["10.0.0.5"], "conditions": {"ready": true}}], "ports": [{"port": 8080}]})"),
                             "EndpointSlice", "API");
  ASSERT_TRUE(slice);
  EXPECT_EQ(std::get<EndpointSlice>(*slice).service_name, "web");
}

TEST(ObjectDecoder, ErrorsNameOriginObjectAndFieldAndNeverThrow) {
  auto bad = decode_object(nlohmann::json::parse(R"({"metadata": {"name": "web-1", "namespace": "shop",
      "labels": {"app": "-bad-"}}})"),
                           "Pod", "API pods");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("API pods: Pod shop/web-1: metadata.labels.app: \"-bad-\" is not a valid label value"));
  auto not_object = decode_object(nlohmann::json::parse("[1, 2]"), "Pod", "API pods");
  ASSERT_FALSE(not_object);
  EXPECT_THAT(not_object.error().message, HasSubstr("expected an object, got array"));
  auto no_meta = decode_object(nlohmann::json::parse(R"({"spec": {}})"), "NetworkPolicy", "API");
  ASSERT_FALSE(no_meta);
  EXPECT_THAT(no_meta.error().message, HasSubstr("NetworkPolicy: metadata: required"));
  auto kind = decode_object(nlohmann::json::parse(R"({"metadata": {"name": "x"}})"), "ConfigMap", "API");
  ASSERT_FALSE(kind);
  EXPECT_THAT(kind.error().message, HasSubstr("unsupported kind"));
}

}  // namespace
}  // namespace npv
