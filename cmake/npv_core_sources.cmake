# Sources of npv_core, relative to the project root. Shared by the main build and the separately
# configured fuzz build (tests/fuzz), which compiles them again with clang and sanitizers.
set(NPV_CORE_SOURCES
  agent/model/cidr.cpp
  agent/model/selector.cpp
  agent/model/port.cpp
  agent/model/cluster_state.cpp
  agent/model/k8s_names.cpp
  agent/model/json_fields.cpp
  agent/model/object_parser.cpp
  agent/model/service_parser.cpp
  agent/model/tier_policy_parser.cpp
  agent/model/object_decoder.cpp
  agent/model/yaml_json.cpp
  agent/model/manifest_loader.cpp
  agent/model/node_agent_parser.cpp
  agent/policy/pod_set.cpp
  agent/policy/label_codec.cpp
  agent/policy/policy_compiler.cpp
  agent/policy/policy_engine.cpp
  agent/report/matrix.cpp
  agent/report/explain_report.cpp
)
