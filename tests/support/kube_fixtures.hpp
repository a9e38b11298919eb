// Test helpers for the Kubernetes client tests: API objects shaped as the API server returns them
// (metadata.uid, resourceVersion, creationTimestamp are filled in by FakeApiServer::apply), and a
// canonical text of a cluster state so a test can compare what a ClusterWatcher holds with what
// the FakeApiServer holds.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "npv/model.hpp"
#include "support/fake_api_server.hpp"

namespace npv::test {

nlohmann::json namespace_object(const std::string& name, const nlohmann::json& labels = nlohmann::json::object());
// A running pod on node-1 with one container serving `port` (named "http") and podIP/podIPs.
nlohmann::json pod_object(const std::string& ns, const std::string& name, const nlohmann::json& labels,
                          const std::string& ip, const std::string& phase = "Running", int port = 8080);
nlohmann::json policy_object(const std::string& ns, const std::string& name, const nlohmann::json& spec);
// An AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy (cluster-scoped).
nlohmann::json tier_object(const std::string& kind, const std::string& name, const nlohmann::json& spec);
nlohmann::json service_object(const std::string& ns, const std::string& name, const std::string& cluster_ip,
                              const nlohmann::json& selector, int port, int target_port);
nlohmann::json endpoint_slice_object(const std::string& ns, const std::string& name, const std::string& service,
                                     const std::vector<std::string>& ips, int port);

// One line per object, sorted: "pod shop/web-1 10.0.0.5 app=web", "policy shop/deny {}", ...
std::string describe(const ClusterState& state);
// The server's objects decoded as the watcher decodes them (rejected objects and terminated pods
// left out), described like describe(ClusterState).
std::string describe_server(const FakeApiServer& server);

// Populates a small cluster: namespaces shop and ops, three pods, two policies, a Service and its
// EndpointSlice.
void seed_cluster(FakeApiServer& server);

}  // namespace npv::test
