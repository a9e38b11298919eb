#include "support/e2e_model.hpp"

#include <utility>

#include "support/manifest_builder.hpp"

namespace npv::test {

std::string pod_string(std::size_t i) {
  return std::string(kNamespaces[i / 3]) + "/" + std::string(kPodNames[i % 3]);
}

std::size_t pod_index(std::string_view ref) {
  for (std::size_t i = 0; i < kPods; ++i) {
    if (pod_string(i) == ref) return i;
  }
  ADD_FAILURE() << "no pod " << ref << " in the model";
  return 0;
}

std::string model_yaml() {
  // model.go's Container.PortName(): serve-<port>-<lowercase protocol>.
  std::string ports = "[";
  for (std::string_view port : {"80", "81"}) {
    for (std::string_view proto : {"TCP", "UDP", "SCTP"}) {
      std::string lower(proto);
      for (char& c : lower) c = static_cast<char>(c - 'A' + 'a');
      if (ports.size() > 1) ports += ", ";
      ports += "{name: serve-" + std::string(port) + "-" + lower + ", containerPort: " + std::string(port) +
               ", protocol: " + std::string(proto) + "}";
    }
  }
  ports += "]";
  std::string out;
  for (std::size_t n = 0; n < kNamespaces.size(); ++n) {
    const std::string ns(kNamespaces[n]);
    out += namespace_yaml(ns, "{ns: " + ns + "}");
    for (std::size_t p = 0; p < kPodNames.size(); ++p) {
      const std::string pod(kPodNames[p]);
      const std::string ip = "10.0." + std::to_string(n + 1) + "." + std::to_string(p + 1);
      out += pod_yaml(ns, pod, "{pod: " + pod + "}", ip, ports);
    }
  }
  return out;
}

std::string netpol(std::string_view ns, std::string_view name, std::string_view spec) {
  return "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + std::string(name) +
         ", namespace: " + std::string(ns) + "}\nspec:" + std::string(spec);
}

Reachability& Reachability::expect(std::string_view from, std::string_view to, bool allowed) {
  set(pod_index(from), pod_index(to), allowed);
  return *this;
}

Reachability& Reachability::expect_peer(Peer from, Peer to, bool allowed) {
  for (std::size_t f = 0; f < kPods; ++f) {
    for (std::size_t t = 0; t < kPods; ++t) {
      if (from.matches(f) && to.matches(t)) set(f, t, allowed);
    }
  }
  return *this;
}

Reachability& Reachability::expect_all_ingress(std::string_view pod, bool allowed) {
  for (std::size_t f = 0; f < kPods; ++f) set(f, pod_index(pod), allowed);
  return *this;
}

Reachability& Reachability::expect_all_egress(std::string_view pod, bool allowed) {
  for (std::size_t t = 0; t < kPods; ++t) set(pod_index(pod), t, allowed);
  return *this;
}

std::string Reachability::grid() const {
  std::string out = "-  ";
  for (std::size_t t = 0; t < kPods; ++t) out += "  " + pod_string(t);
  out += '\n';
  for (std::size_t f = 0; f < kPods; ++f) {
    out += pod_string(f);
    for (std::size_t t = 0; t < kPods; ++t) out += at(f, t) ? "    ." : "    X";
    out += '\n';
  }
  return out;
}

void E2eModel::load(const std::string& policies) {
  engine_.reset();
  cluster_.reset();
  auto cluster = load_yaml(model_yaml() + policies);
  ASSERT_TRUE(cluster) << cluster.error().message;
  cluster_ = std::make_unique<ClusterState>(std::move(*cluster));
  for (std::size_t i = 0; i < kPods; ++i) {
    auto id = cluster_->find_pod(pod_string(i));
    ASSERT_TRUE(id) << pod_string(i);
    pods_[i] = *id;
  }
  engine_ = std::make_unique<PolicyEngine>(*cluster_);
}

void E2eModel::check(const Reachability& upstream, PortProto port, std::source_location loc) {
  if (!engine_) {
    ADD_FAILURE_AT(loc.file_name(), loc.line()) << "the model did not load";
    return;
  }
  Reachability expected = upstream;
  for (std::size_t i = 0; i < kPods; ++i) expected.set(i, i, true);  // loopback: see e2e_model.hpp
  Reachability observed(false);
  Reachability comparison(true);
  std::string wrong;
  for (std::size_t f = 0; f < kPods; ++f) {
    for (std::size_t t = 0; t < kPods; ++t) {
      bool got = engine_->allowed(flow(f, t, port));
      observed.set(f, t, got);
      if (got == expected.at(f, t)) continue;
      comparison.set(f, t, false);
      wrong += "  " + pod_string(f) + " -> " + pod_string(t) + ": expected " +
               (expected.at(f, t) ? "allowed" : "denied") + ", engine says " + (got ? "allowed" : "denied") + "\n";
    }
  }
  if (!wrong.empty()) {
    ADD_FAILURE_AT(loc.file_name(), loc.line())
        << "probe " << port.to_string() << " differs from the upstream truth table\nexpected:\n"
        << expected.grid() << "observed:\n"
        << observed.grid() << "comparison (X = differs):\n"
        << comparison.grid() << wrong;
  }
}

Explanation E2eModel::explain(std::string_view from, std::string_view to, PortProto port) const {
  return engine_->explain(flow(pod_index(from), pod_index(to), port));
}

std::uint32_t E2eModel::policy_id(std::string_view ns, std::string_view name) const {
  for (std::uint32_t i = 0; i < cluster_->policies.size(); ++i) {
    if (cluster_->policies[i].ns == ns && cluster_->policies[i].name == name) return i;
  }
  ADD_FAILURE() << "no policy " << ns << "/" << name;
  return 0;
}

Flow E2eModel::flow(std::size_t from, std::size_t to, PortProto port) const {
  return Flow{Endpoint::of_pod(pods_[from]), Endpoint::of_pod(pods_[to]), port};
}

}  // namespace npv::test
