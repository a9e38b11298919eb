#include "support/kube_fixtures.hpp"

#include <algorithm>
#include <sstream>

#include "npv/object_decoder.hpp"

namespace npv::test {

using nlohmann::json;

json namespace_object(const std::string& name, const json& labels) {
  json l = labels;
  l["kubernetes.io/metadata.name"] = name;
  return {{"metadata", {{"name", name}, {"labels", l}}},
          {"spec", {{"finalizers", {"kubernetes"}}}},
          {"status", {{"phase", "Active"}}}};
}

json pod_object(const std::string& ns, const std::string& name, const json& labels, const std::string& ip,
                const std::string& phase, int port) {
  json status = {{"phase", phase},
                 {"hostIP", "192.168.1.10"},
                 {"conditions", {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "2026-01-01T00:00:05Z"}}}},
                 {"startTime", "2026-01-01T00:00:01Z"}};
  if (!ip.empty()) {
    status["podIP"] = ip;
    status["podIPs"] = json::array({{{"ip", ip}}});
  }
  return {{"metadata",
           {{"name", name},
            {"namespace", ns},
            {"labels", labels},
            {"ownerReferences",
             {{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", name + "-rs"}, {"uid", "9a0c"},
               {"controller", true}, {"blockOwnerDeletion", true}}}}}},
          {"spec",
           {{"nodeName", "node-1"},
            {"restartPolicy", "Always"},
            {"containers",
             {{{"name", "main"},
               {"image", "registry.k8s.io/e2e-test-images/agnhost:2.47"},
               {"ports", {{{"name", "http"}, {"containerPort", port}, {"protocol", "TCP"}}}}}}}}},
          {"status", status}};
}

json tier_object(const std::string& kind, const std::string& name, const json& spec) {
  return {{"metadata", {{"name", name}, {"generation", 1}}}, {"kind", kind}, {"spec", spec}};
}

json policy_object(const std::string& ns, const std::string& name, const json& spec) {
  return {{"metadata", {{"name", name}, {"namespace", ns}, {"generation", 1}}}, {"spec", spec}};
}

json service_object(const std::string& ns, const std::string& name, const std::string& cluster_ip,
                    const json& selector, int port, int target_port) {
  return {{"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"type", "ClusterIP"},
            {"clusterIP", cluster_ip},
            {"clusterIPs", {cluster_ip}},
            {"ipFamilies", {"IPv4"}},
            {"selector", selector},
            {"sessionAffinity", "None"},
            {"ports", {{{"name", "http"}, {"port", port}, {"protocol", "TCP"}, {"targetPort", target_port}}}}}},
          {"status", {{"loadBalancer", json::object()}}}};
}

json endpoint_slice_object(const std::string& ns, const std::string& name, const std::string& service,
                           const std::vector<std::string>& ips, int port) {
  json endpoints = json::array();
  for (std::size_t i = 0; i < ips.size(); ++i) {
    endpoints.push_back({{"addresses", {ips[i]}},
                         {"conditions", {{"ready", true}, {"serving", true}, {"terminating", false}}},
                         {"nodeName", "node-1"},
                         {"targetRef", {{"kind", "Pod"}, {"namespace", ns}, {"name", service + "-" + std::to_string(i)}}}});
  }
  return {{"metadata",
           {{"name", name},
            {"namespace", ns},
            {"labels",
             {{"kubernetes.io/service-name", service},
              {"endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io"}}}}},
          {"addressType", "IPv4"},
          {"endpoints", endpoints},
          {"ports", {{{"name", "http"}, {"port", port}, {"protocol", "TCP"}}}}};
}

namespace {

std::string labels_text(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

}  // namespace

std::string describe(const ClusterState& state) {
  std::vector<std::string> lines;
  for (const auto& ns : state.namespaces) {
    if (ns.declared) lines.push_back("namespace " + ns.name + " " + labels_text(ns.labels));
  }
  for (const auto& p : state.pods) {
    std::string ips;
    for (const auto& ip : p.ips) ips += ip.to_string() + " ";
    lines.push_back("pod " + p.ref() + " " + ips + labels_text(p.labels));
  }
  for (const auto& p : state.policies) {
    lines.push_back("policy " + p.ref() + " " + p.pod_selector.to_string() + " in=" + std::to_string(p.ingress.size()) +
                    " eg=" + std::to_string(p.egress.size()));
  }
  for (const auto& s : state.services) {
    std::string ips;
    for (const auto& ip : s.cluster_ips) ips += ip.to_string() + " ";
    lines.push_back("service " + s.ref() + " " + ips + std::to_string(s.ports.size()) + " port(s)");
  }
  for (const auto& t : state.tier_policies) {
    lines.push_back("tier " + t.ref() + " " + to_string(t.tier) + " " + std::to_string(t.priority) + " in=" +
                    std::to_string(t.ingress.size()) + " eg=" + std::to_string(t.egress.size()));
  }
  for (const auto& s : state.endpoint_slices) {
    std::string ips;
    for (const auto& e : s.endpoints) ips += (e.addresses.empty() ? "" : e.addresses[0]) + " ";
    lines.push_back("slice " + s.ref() + " -> " + s.service_name + " " + ips);
  }
  std::sort(lines.begin(), lines.end());
  std::ostringstream out;
  for (const auto& l : lines) out << l << "\n";
  return out.str();
}

std::string describe_server(const FakeApiServer& server) {
  ClusterState state;
  const std::pair<const char*, const char*> kinds[] = {{"namespaces", "Namespace"},
                                                       {"pods", "Pod"},
                                                       {"networkpolicies", "NetworkPolicy"},
                                                       {"services", "Service"},
                                                       {"endpointslices", "EndpointSlice"},
                                                       {"adminnetworkpolicies", "AdminNetworkPolicy"},
                                                       {"baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy"},
                                                       {"clusternetworkpolicies", "ClusterNetworkPolicy"}};
  for (const auto& [resource, kind] : kinds) {
    for (const auto& obj : server.objects(resource)) {
      auto decoded = decode_object(obj, kind, "server");
      if (!decoded) continue;
      std::visit(
          [&](auto&& o) {
            using T = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<T, Namespace>) state.namespaces.push_back(o);
            else if constexpr (std::is_same_v<T, Pod>) {
              std::string phase = obj["status"].value("phase", "");
              if (phase != "Succeeded" && phase != "Failed") state.pods.push_back(o);
            } else if constexpr (std::is_same_v<T, NetworkPolicy>) state.policies.push_back(o);
            else if constexpr (std::is_same_v<T, Service>) state.services.push_back(o);
            else if constexpr (std::is_same_v<T, TierPolicy>) state.tier_policies.push_back(o);
            else state.endpoint_slices.push_back(o);
          },
          *decoded);
    }
  }
  state.finalize();
  return describe(state);
}

void seed_cluster(FakeApiServer& server) {
  server.apply("namespaces", namespace_object("shop", {{"team", "web"}}));
  server.apply("namespaces", namespace_object("ops", {{"team", "sre"}}));
  server.apply("pods", pod_object("shop", "web-1", {{"app", "web"}}, "10.0.0.5"));
  server.apply("pods", pod_object("shop", "db-1", {{"app", "db"}}, "10.0.0.6", "Running", 5432));
  server.apply("pods", pod_object("ops", "probe", {{"app", "probe"}}, "10.0.1.7"));
  server.apply("networkpolicies", policy_object("shop", "default-deny", {{"podSelector", json::object()},
                                                                         {"policyTypes", {"Ingress"}}}));
  server.apply("networkpolicies",
               policy_object("shop", "allow-web-to-db",
                             {{"podSelector", {{"matchLabels", {{"app", "db"}}}}},
                              {"ingress", {{{"from", {{{"podSelector", {{"matchLabels", {{"app", "web"}}}}}}}},
                                            {"ports", {{{"port", 5432}, {"protocol", "TCP"}}}}}}}}));
  server.apply("services", service_object("shop", "web", "10.96.0.20", {{"app", "web"}}, 80, 8080));
  server.apply("endpointslices", endpoint_slice_object("shop", "web-x7k2p", "web", {"10.0.0.5"}, 8080));
}

}  // namespace npv::test
