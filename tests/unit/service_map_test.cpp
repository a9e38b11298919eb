// Service IPs to backends (service_map.hpp): rules S1-S4, from manifests as kubectl prints them.
#include "npv/service_map.hpp"

#include <gtest/gtest.h>

#include "support/manifest_builder.hpp"

namespace npv {
namespace {

const char* kPods = R"(
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: prod, labels: {app: db}}
spec: {containers: [{name: c, ports: [{name: pg, containerPort: 5432}]}]}
status: {podIP: 10.0.0.2, podIPs: [{ip: 10.0.0.2}, {ip: "fd00::2"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, namespace: prod, labels: {app: db}}
spec: {containers: [{name: c, ports: [{name: pg, containerPort: 5433}]}]}
status: {podIP: 10.0.0.3}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: prod, labels: {app: web}}
status: {podIP: 10.0.0.9}
)";

const char* kServices = R"(
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: prod}
spec:
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10, "fd00:96::10"]
  selector: {app: db}
  ports: [{name: pg, port: 5432, targetPort: pg}]
---
apiVersion: v1
kind: Service
metadata: {name: db-numeric, namespace: prod}
spec:
  clusterIP: 10.96.0.11
  selector: {app: db}
  ports: [{port: 80, targetPort: 5432, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: headless, namespace: prod}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: external, namespace: prod}
spec: {clusterIP: 10.96.0.12, ports: [{port: 443}]}
)";

ServiceMap map_of(const std::string& yaml) {
  auto c = test::load_yaml(yaml);
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return ServiceMap(*c);
}

IpAddr ip(const char* text) { return *IpAddr::parse(text); }

TEST(ServiceMap, S1OnlyClusterIpsOfTheirPortsAndProtocols) {
  auto m = map_of(std::string(kPods) + kServices);
  EXPECT_TRUE(m.find(ip("10.96.0.10"), 5432, Protocol::kTCP));
  EXPECT_FALSE(m.find(ip("10.96.0.10"), 5432, Protocol::kUDP));
  EXPECT_FALSE(m.find(ip("10.96.0.10"), 80, Protocol::kTCP));
  EXPECT_FALSE(m.find(ip("10.0.0.2"), 5432, Protocol::kTCP));  // a pod IP is no Service
  EXPECT_EQ(m.find(ip("10.96.0.10"), 5432, Protocol::kTCP)->service, "prod/db");
}

TEST(ServiceMap, S3SelectorAndNamedTargetPortPerPodWithoutSlices) {
  auto m = map_of(std::string(kPods) + kServices);
  // Named targetPort: each pod's own container port called "pg".
  EXPECT_EQ(m.find(ip("10.96.0.10"), 5432, Protocol::kTCP)->backends,
            (std::vector<ServiceBackend>{{ip("10.0.0.2"), 5432}, {ip("10.0.0.3"), 5433}}));
  // The IPv6 ClusterIP reaches the IPv6 addresses only.
  EXPECT_EQ(m.find(ip("fd00:96::10"), 5432, Protocol::kTCP)->backends,
            (std::vector<ServiceBackend>{{ip("fd00::2"), 5432}}));
  // Numeric targetPort.
  EXPECT_EQ(m.find(ip("10.96.0.11"), 80, Protocol::kTCP)->backends,
            (std::vector<ServiceBackend>{{ip("10.0.0.2"), 5432}, {ip("10.0.0.3"), 5432}}));
}

TEST(ServiceMap, S2SlicesWinOverTheSelectorAndSkipUnreadyEndpoints) {
  const char* slices = R"(
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-abc, namespace: prod, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
ports: [{name: pg, port: 6000, protocol: TCP}]
endpoints:
- addresses: [10.0.0.2]
  conditions: {ready: true}
- addresses: [10.0.0.3]
  conditions: {ready: false}
- addresses: [10.0.0.4]
)";
  auto m = map_of(std::string(kPods) + kServices + slices);
  EXPECT_EQ(m.find(ip("10.96.0.10"), 5432, Protocol::kTCP)->backends,
            (std::vector<ServiceBackend>{{ip("10.0.0.2"), 6000}, {ip("10.0.0.4"), 6000}}));
  // No IPv6 slice: the IPv6 ClusterIP has no known backend.
  EXPECT_TRUE(m.find(ip("fd00:96::10"), 5432, Protocol::kTCP)->backends.empty());
}

TEST(ServiceMap, S4NoSelectorNoSlicesNoBackends) {
  auto m = map_of(std::string(kPods) + kServices);
  auto* t = m.find(ip("10.96.0.12"), 443, Protocol::kTCP);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->backends.empty());
  EXPECT_EQ(m.size(), 4u);  // db x2 ClusterIPs, db-numeric, external; not headless
}

}  // namespace
}  // namespace npv
