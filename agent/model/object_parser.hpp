// Parsers from one Kubernetes object (as nlohmann::json) to model types, with Kubernetes
// validation. Internal to agent/model: errors are thrown as FieldError and turned into
// npv::Error (with file and object context) by the manifest loader; nothing escapes it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "npv/model.hpp"

namespace npv::detail {

struct FieldError {
  std::string field;    // "spec.ingress[0].ports[1].port"
  std::string message;  // "must be in 1-65535, got 70000"
};

struct OwnerRef {
  std::string kind;
  std::string name;
};

// metadata.name / namespace / the controller ownerReference of any object.
struct ObjectMeta {
  std::string name;
  std::string ns;  // "default" when omitted
  std::optional<OwnerRef> controller;
};

ObjectMeta parse_meta(const nlohmann::json& obj, bool namespaced);
Labels parse_labels(const nlohmann::json& obj, const std::string& path);
LabelSelector parse_selector(const nlohmann::json& v, const std::string& path);
Namespace parse_namespace(const nlohmann::json& obj);
Pod parse_pod(const nlohmann::json& obj);
NetworkPolicy parse_network_policy(const nlohmann::json& obj);
// The pod template of a workload object (Deployment, ..., CronJob) as a pod without IPs.
Pod parse_workload_template(const nlohmann::json& obj, const std::string& kind);

}  // namespace npv::detail
