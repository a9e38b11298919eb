// Test helper: a ClusterState from YAML text, failing the test on a load error.
#pragma once

#include <string>
#include <string_view>

#include "npv/error.hpp"
#include "npv/loader.hpp"
#include "npv/model.hpp"

namespace npv::test {

// Loads `yaml` (one or more documents) as if it were the file "test.yaml".
Result<ClusterState> load_yaml(std::string_view yaml);

// A Pod manifest: `labels` and `ports` are YAML flow text, e.g. "{app: web}" and
// "[{name: http, containerPort: 80}]"; `ip` may be empty.
std::string pod_yaml(const std::string& ns, const std::string& name, const std::string& labels,
                     const std::string& ip = "", const std::string& ports = "[]");
std::string namespace_yaml(const std::string& name, const std::string& labels = "{}");

}  // namespace npv::test
