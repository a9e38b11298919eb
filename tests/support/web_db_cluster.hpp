// Test fixture shared by the verifier tests: three pods and one policy, as manifest text.
//   prod/web 10.0.0.1 {app: web}, prod/db 10.0.0.2 {app: db}, other/x 10.0.1.1 {app: x};
//   prod/db-in: prod/db accepts 5432/TCP and 53/UDP from prod/web only.
// prod/web and other/x are not isolated.
#pragma once

namespace npv::test {

inline constexpr const char* kWebDbPods = R"(
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
apiVersion: v1
kind: Pod
metadata: {name: x, namespace: other, labels: {app: x}}
status: {podIP: 10.0.1.1}
)";

inline constexpr const char* kDbInPolicy = R"(
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
    - {port: 53, protocol: UDP}
)";

}  // namespace npv::test
