#include "model/node_agent_parser.hpp"

#include "model/object_parser.hpp"

namespace npv::detail {

using nlohmann::json;

namespace {

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string string_member(const json& obj, const char* key) {
  const json* v = member(obj, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

void append_strings(const json* list, std::vector<std::string>& out) {
  if (!list || !list->is_array()) return;
  for (const auto& v : *list) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
}

void read_containers(const json* list, bool init, std::vector<ContainerInfo>& out) {
  if (!list || !list->is_array()) return;
  for (const auto& c : *list) {
    if (!c.is_object()) continue;
    ContainerInfo info;
    info.name = string_member(c, "name");
    info.image = string_member(c, "image");
    info.init = init;
    append_strings(member(c, "command"), info.args);
    append_strings(member(c, "args"), info.args);
    if (const json* env = member(c, "env"); env && env->is_array()) {
      for (const auto& e : *env) {
        const json* name = member(e, "name");
        const json* value = member(e, "value");
        if (name && name->is_string() && value && value->is_string()) {
          info.env.emplace_back(name->get<std::string>(), value->get<std::string>());
        }
      }
    }
    out.push_back(std::move(info));
  }
}

// Labels and containers of a pod (`meta`, `spec`) or a pod template.
void read_pod_parts(const json* meta, const std::string& meta_path, const json* spec, NodeAgent& agent) {
  if (const json* labels = meta ? member(*meta, "labels") : nullptr) agent.labels = parse_labels(*labels, meta_path + ".labels");
  if (!spec) return;
  read_containers(member(*spec, "initContainers"), true, agent.containers);
  read_containers(member(*spec, "containers"), false, agent.containers);
}

}  // namespace

std::optional<NodeAgent> parse_node_agent(const json& obj, const std::string& kind) {
  if (kind != "DaemonSet" && kind != "Pod") return std::nullopt;
  ObjectMeta meta = parse_meta(obj, true);
  NodeAgent agent;
  agent.kind = kind;
  agent.ns = meta.ns;
  agent.name = meta.name;
  if (kind == "Pod") {
    if (!meta.controller || meta.controller->kind != "DaemonSet") return std::nullopt;
    agent.daemonset = meta.controller->name;
    read_pod_parts(member(obj, "metadata"), "metadata", member(obj, "spec"), agent);
    return agent;
  }
  agent.daemonset = meta.name;
  const json* spec = member(obj, "spec");
  const json* tmpl = spec ? member(*spec, "template") : nullptr;
  if (tmpl) read_pod_parts(member(*tmpl, "metadata"), "spec.template.metadata", member(*tmpl, "spec"), agent);
  return agent;
}

}  // namespace npv::detail
