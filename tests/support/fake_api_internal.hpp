// Internals of FakeApiServer shared by fake_api_server.cpp and fake_api_watch.cpp.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "support/fake_api_server.hpp"

namespace npv::test {

struct ResourceInfo {
  std::string_view name;  // "pods"
  const char* kind;       // "Pod"
  const char* list_kind;  // "PodList"
  const char* api_version;
  const char* path;  // collection path, all namespaces
  bool namespaced;
};

inline constexpr ResourceInfo kResources[] = {
    {"namespaces", "Namespace", "NamespaceList", "v1", "/api/v1/namespaces", false},
    {"pods", "Pod", "PodList", "v1", "/api/v1/pods", true},
    {"services", "Service", "ServiceList", "v1", "/api/v1/services", true},
    {"networkpolicies", "NetworkPolicy", "NetworkPolicyList", "networking.k8s.io/v1",
     "/apis/networking.k8s.io/v1/networkpolicies", true},
    {"endpointslices", "EndpointSlice", "EndpointSliceList", "discovery.k8s.io/v1",
     "/apis/discovery.k8s.io/v1/endpointslices", true},
    {"adminnetworkpolicies", "AdminNetworkPolicy", "AdminNetworkPolicyList", "policy.networking.k8s.io/v1alpha1",
     "/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies", false},
    {"baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy", "BaselineAdminNetworkPolicyList",
     "policy.networking.k8s.io/v1alpha1", "/apis/policy.networking.k8s.io/v1alpha1/baselineadminnetworkpolicies", false},
    {"clusternetworkpolicies", "ClusterNetworkPolicy", "ClusterNetworkPolicyList", "policy.networking.k8s.io/v1alpha2",
     "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies", false},
};

const ResourceInfo* find_resource_info(std::string_view name);

// A metav1.Status failure, as the API server returns it in error bodies and ERROR events.
nlohmann::json status_json(int code, const std::string& reason, const std::string& message);

struct FakeApiServer::Resource {
  const ResourceInfo* info = nullptr;
  std::map<std::string, nlohmann::json> objects;  // "ns/name" -> object (with kind/apiVersion)
  struct Change {
    std::uint64_t rv;
    std::string type;  // ADDED, MODIFIED, DELETED
    nlohmann::json object;
  };
  std::vector<Change> history;     // since the last compaction, in rv order
  std::uint64_t compacted_rv = 0;  // a watch from an rv below this is expired
  int fail_list_status = 0;
  // Fault epochs: an open watch acts once on every increment made while it is open.
  std::uint64_t end_epoch = 0, bookmark_epoch = 0, error_epoch = 0, drop_epoch = 0, malformed_epoch = 0;
  int open_watches = 0;
};

struct FakeApiServer::ContinueState {
  std::string resource;
  std::vector<nlohmann::json> items;  // the snapshot taken at the first page
  std::size_t offset = 0;
  std::uint64_t rv = 0;
};

}  // namespace npv::test
