#include <yaml-cpp/exceptions.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "model/node_agent_parser.hpp"
#include "model/object_parser.hpp"
#include "model/service_parser.hpp"
#include "model/tier_policy_parser.hpp"
#include "model/yaml_json.hpp"
#include "npv/loader.hpp"

namespace npv {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::set<std::string, std::less<>> kWorkloadKinds = {"Deployment", "StatefulSet", "DaemonSet",
                                                             "ReplicaSet", "Job",         "CronJob"};

// Typed lists from the API ("PodList") carry items without kind; the list's kind names it.
std::string item_kind_of_list(const std::string& list_kind) {
  if (list_kind == "List" || list_kind.size() <= 4) return {};
  return list_kind.substr(0, list_kind.size() - 4);
}

// The parser of a cluster-wide tier kind in the API version npv reads (tier_policy.hpp), or null.
using TierParser = TierPolicy (*)(const json&);
TierParser tier_parser(const std::string& kind, const std::string& api_version) {
  const bool v1 = api_version.empty() || api_version == "policy.networking.k8s.io/v1alpha1";
  const bool v2 = api_version.empty() || api_version == "policy.networking.k8s.io/v1alpha2";
  if (kind == "AdminNetworkPolicy" && v1) return &detail::parse_admin_network_policy;
  if (kind == "BaselineAdminNetworkPolicy" && v1) return &detail::parse_baseline_admin_network_policy;
  if (kind == "ClusterNetworkPolicy" && v2) return &detail::parse_cluster_network_policy;
  return nullptr;
}

bool looks_like_json(std::string_view text) {
  auto pos = text.find_first_not_of(" \t\r\n");
  return pos != std::string_view::npos && (text[pos] == '{' || text[pos] == '[');
}

struct Workload {
  std::string kind;
  std::optional<detail::OwnerRef> controller;
  Pod template_pod;
};

}  // namespace

struct ClusterBuilder::State {
  ClusterState cluster;
  std::vector<Workload> workloads;
  // kind/ns/name → origin, to reject duplicate objects.
  std::map<std::tuple<std::string, std::string, std::string>, Origin> seen;
  // ns, owner kind, owner name of every real pod's controller.
  std::set<std::tuple<std::string, std::string, std::string>> pod_owners;
  std::map<std::string, std::pair<int, Origin>> skipped;  // kind → count, first origin
  std::set<std::pair<std::string, std::string>> agent_daemonsets;  // ns, DaemonSet of pods kept

  Result<void> add_object(const json& obj, const Origin& origin, const std::string& implied_kind);
  Result<void> add_document(const json& doc, const Origin& origin);
  // Keeps a DaemonSet, or the first pod of each DaemonSet, for CNI detection (node_agent.hpp).
  void add_node_agent(const json& obj, const std::string& kind, const Origin& origin);
};

void ClusterBuilder::State::add_node_agent(const json& obj, const std::string& kind, const Origin& origin) {
  auto agent = detail::parse_node_agent(obj, kind);
  if (!agent) return;
  if (kind == "Pod" && !agent_daemonsets.emplace(agent->ns, agent->daemonset).second) return;
  agent->origin = origin;
  cluster.node_agents.push_back(std::move(*agent));
}

namespace {

std::string object_label(const json& obj, const std::string& kind) {
  std::string label = kind.empty() ? "object" : kind;
  const json* meta = obj.is_object() && obj.contains("metadata") ? &obj["metadata"] : nullptr;
  if (meta && meta->is_object()) {
    auto ns = meta->find("namespace");
    auto name = meta->find("name");
    std::string ref;
    if (ns != meta->end() && ns->is_string()) ref = ns->get<std::string>() + "/";
    if (name != meta->end() && name->is_string()) ref += name->get<std::string>();
    if (!ref.empty()) label += " " + ref;
  }
  return label;
}

}  // namespace

Result<void> ClusterBuilder::State::add_object(const json& obj, const Origin& origin, const std::string& implied_kind) {
  if (!obj.is_object()) {
    return make_error(Errc::kBadInput, origin + ": expected a Kubernetes object (a mapping), got " +
                                           std::string(obj.type_name()));
  }
  std::string kind = implied_kind;
  if (auto it = obj.find("kind"); it != obj.end() && it->is_string()) kind = it->get<std::string>();
  if (kind.empty()) return make_error(Errc::kBadInput, origin + ": object has no \"kind\"");
  std::string api_version;
  if (auto it = obj.find("apiVersion"); it != obj.end() && it->is_string()) api_version = it->get<std::string>();

  const std::string label = object_label(obj, kind);
  auto remember = [&](const std::string& ns, const std::string& name) -> Result<void> {
    auto [it, inserted] = seen.emplace(std::make_tuple(kind, ns, name), origin);
    if (!inserted) {
      return make_error(Errc::kBadInput, origin + ": " + label + ": duplicate object, already defined in " + it->second);
    }
    return {};
  };
  try {
    if (kind == "Namespace") {
      Namespace ns = detail::parse_namespace(obj);
      ns.origin = origin;
      if (auto r = remember("", ns.name); !r) return r;
      cluster.namespaces.push_back(std::move(ns));
    } else if (kind == "Pod") {
      Pod pod = detail::parse_pod(obj);
      pod.origin = origin;
      if (auto r = remember(pod.ns, pod.name); !r) return r;
      if (auto owner = detail::parse_meta(obj, true).controller) pod_owners.emplace(pod.ns, owner->kind, owner->name);
      cluster.pods.push_back(std::move(pod));
    } else if (kind == "NetworkPolicy" && (api_version.empty() || api_version == "networking.k8s.io/v1")) {
      NetworkPolicy pol = detail::parse_network_policy(obj);
      pol.origin = origin;
      if (auto r = remember(pol.ns, pol.name); !r) return r;
      cluster.policies.push_back(std::move(pol));
    } else if (kind == "Service" && (api_version.empty() || api_version == "v1")) {
      Service svc = detail::parse_service(obj);
      svc.origin = origin;
      if (auto r = remember(svc.ns, svc.name); !r) return r;
      cluster.services.push_back(std::move(svc));
    } else if (kind == "EndpointSlice" && (api_version.empty() || api_version == "discovery.k8s.io/v1")) {
      EndpointSlice slice = detail::parse_endpoint_slice(obj);
      slice.origin = origin;
      if (auto r = remember(slice.ns, slice.name); !r) return r;
      cluster.endpoint_slices.push_back(std::move(slice));
    } else if (auto parse = tier_parser(kind, api_version)) {
      TierPolicy pol = parse(obj);
      pol.origin = origin;
      if (auto r = remember("", pol.name); !r) return r;
      for (auto& note : detail::tier_policy_notes(pol)) cluster.notes.push_back(std::move(note));
      cluster.tier_policies.push_back(std::move(pol));
    } else if (kWorkloadKinds.contains(kind)) {
      Workload w{kind, detail::parse_meta(obj, true).controller, detail::parse_workload_template(obj, kind)};
      w.template_pod.origin = origin;
      if (auto r = remember(w.template_pod.ns, w.template_pod.name); !r) return r;
      workloads.push_back(std::move(w));
    } else {
      std::string what = api_version.empty() ? kind : kind + " (" + api_version + ")";
      auto [it, inserted] = skipped.emplace(what, std::make_pair(0, origin));
      ++it->second.first;
    }
    if (kind == "Pod" || kind == "DaemonSet") add_node_agent(obj, kind, origin);
  } catch (const detail::FieldError& e) {
    return make_error(Errc::kBadInput, origin + ": " + label + ": " + e.field + ": " + e.message);
  } catch (const json::exception& e) {
    return make_error(Errc::kBadInput, origin + ": " + label + ": " + e.what());
  }
  return {};
}

Result<void> ClusterBuilder::State::add_document(const json& doc, const Origin& origin) {
  if (doc.is_null()) return {};  // empty YAML document
  if (doc.is_object()) {
    auto kind = doc.find("kind");
    auto items = doc.find("items");
    if (kind != doc.end() && kind->is_string() && kind->get<std::string>().ends_with("List")) {
      if (items == doc.end() || items->is_null()) return {};
      if (!items->is_array()) return make_error(Errc::kBadInput, origin + ": " + kind->get<std::string>() + ": items: expected a list");
      std::string implied = item_kind_of_list(kind->get<std::string>());
      for (std::size_t i = 0; i < items->size(); ++i) {
        if (auto r = add_object((*items)[i], origin + " items[" + std::to_string(i) + "]", implied); !r) return r;
      }
      return {};
    }
  }
  if (doc.is_array()) {  // a bare JSON array of objects
    for (std::size_t i = 0; i < doc.size(); ++i) {
      if (auto r = add_object(doc[i], origin + " [" + std::to_string(i) + "]", ""); !r) return r;
    }
    return {};
  }
  return add_object(doc, origin, "");
}

ClusterBuilder::ClusterBuilder() : state_(std::make_unique<State>()) {}
ClusterBuilder::~ClusterBuilder() = default;
ClusterBuilder::ClusterBuilder(ClusterBuilder&&) noexcept = default;
ClusterBuilder& ClusterBuilder::operator=(ClusterBuilder&&) noexcept = default;

Result<void> ClusterBuilder::add_text(std::string_view text, const std::string& file_name) {
  if (looks_like_json(text)) {
    json doc;
    try {
      doc = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers past 1e308
      return make_error(Errc::kBadInput, file_name + ": invalid JSON: " + e.what());
    }
    return state_->add_document(doc, file_name);
  }
  std::vector<detail::YamlDocument> docs;
  try {
    docs = detail::parse_yaml_documents(std::string(text));
  } catch (const YAML::Exception& e) {
    return make_error(Errc::kBadInput, file_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                                           std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
  for (std::size_t i = 0; i < docs.size(); ++i) {
    Origin origin = file_name;
    if (docs.size() > 1) origin += " (document " + std::to_string(i + 1) + ", line " + std::to_string(docs[i].line) + ")";
    if (auto r = state_->add_document(docs[i].value, origin); !r) return r;
  }
  return {};
}

Result<void> ClusterBuilder::add_path(const fs::path& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return make_error(Errc::kIo, path.string() + ": no such file or directory", ec.value());
  }
  std::vector<fs::path> files;
  if (fs::is_directory(status)) {
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      auto ext = it->path().extension().string();
      if (it->is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) files.push_back(it->path());
    }
    if (ec) return make_error(Errc::kIo, path.string() + ": cannot read directory: " + ec.message(), ec.value());
    std::sort(files.begin(), files.end());
    if (files.empty()) return make_error(Errc::kBadInput, path.string() + ": directory holds no .yaml, .yml or .json file");
  } else {
    files.push_back(path);
  }
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return make_error(Errc::kIo, file.string() + ": cannot open: " + std::strerror(errno), errno);
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) return make_error(Errc::kIo, file.string() + ": read error", errno);
    if (auto r = add_text(content.str(), file.string()); !r) return r;
  }
  return {};
}

Result<ClusterState> ClusterBuilder::build() {
  State& s = *state_;
  // A workload is represented by its real pods when any are present (directly, or through the
  // ReplicaSet/Job it controls); a ReplicaSet or Job whose controller is in the input is
  // represented by that controller. Everything else contributes its pod template.
  std::set<std::tuple<std::string, std::string, std::string>> present;
  for (const auto& w : s.workloads) present.emplace(w.template_pod.ns, w.kind, w.template_pod.name);
  auto covered = s.pod_owners;
  for (const auto& w : s.workloads) {
    if (w.controller && covered.contains({w.template_pod.ns, w.kind, w.template_pod.name})) {
      covered.emplace(w.template_pod.ns, w.controller->kind, w.controller->name);
    }
  }
  std::set<std::pair<std::string, std::string>> pod_refs;
  for (const auto& p : s.cluster.pods) pod_refs.emplace(p.ns, p.name);
  int templates = 0;
  for (auto& w : s.workloads) {
    const Pod& t = w.template_pod;
    if (covered.contains({t.ns, w.kind, t.name})) continue;
    if (w.controller && present.contains({t.ns, w.controller->kind, w.controller->name})) continue;
    if (!pod_refs.emplace(t.ns, t.name).second) {
      return make_error(Errc::kBadInput, t.origin + ": " + w.kind + " " + t.ns + "/" + t.name +
                                             ": its pod template would be named like an existing pod " + t.ns + "/" +
                                             t.name);
    }
    s.cluster.pods.push_back(std::move(w.template_pod));
    ++templates;
  }
  if (templates > 0) {
    s.cluster.notes.push_back(std::to_string(templates) +
                              " workload pod template(s) analysed as pods without IPs (ipBlock peers cannot match them)");
  }
  for (const auto& [what, info] : s.skipped) {
    s.cluster.notes.push_back("skipped " + std::to_string(info.first) + " " + what + " object(s), first in " +
                              info.second + ": not used by NetworkPolicy evaluation");
  }
  ClusterState out = std::move(s.cluster);
  state_ = std::make_unique<State>();
  out.finalize();
  for (const auto& tie : priority_ties(out.tier_policies)) out.notes.push_back(describe(tie));
  return out;
}

Result<ClusterState> load_cluster(const std::vector<std::string>& paths) {
  ClusterBuilder builder;
  for (const auto& p : paths) {
    if (auto r = builder.add_path(p); !r) return std::unexpected(r.error());
  }
  return builder.build();
}

}  // namespace npv
