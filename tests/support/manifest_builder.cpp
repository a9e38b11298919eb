#include "support/manifest_builder.hpp"

namespace npv::test {

Result<ClusterState> load_yaml(std::string_view yaml) {
  ClusterBuilder builder;
  if (auto r = builder.add_text(yaml, "test.yaml"); !r) return std::unexpected(r.error());
  return builder.build();
}

std::string pod_yaml(const std::string& ns, const std::string& name, const std::string& labels,
                     const std::string& ip, const std::string& ports) {
  std::string out = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: " + ns +
                    ", labels: " + labels + "}\nspec:\n  containers:\n  - name: c\n    ports: " + ports + "\n";
  if (!ip.empty()) out += "status: {podIP: \"" + ip + "\"}\n";
  return out;
}

std::string namespace_yaml(const std::string& name, const std::string& labels) {
  return "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: " + name + ", labels: " + labels + "}\n";
}

}  // namespace npv::test
