#include "kube/watch_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace npv::kube {

using nlohmann::json;

namespace {

std::size_t slot(Resource r) { return static_cast<std::size_t>(r); }

// "ns/name" ("name" for namespaces), or "" when the object has no name.
std::string key_of(Resource r, const json& obj) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return "";
  auto name = meta->find("name");
  if (name == meta->end() || !name->is_string()) return "";
  if (r == Resource::kNamespaces || is_optional(r)) return name->get<std::string>();  // cluster-scoped
  auto ns = meta->find("namespace");
  return (ns != meta->end() && ns->is_string() ? ns->get<std::string>() : std::string("default")) + "/" +
         name->get<std::string>();
}

// The parts of an object that can change a verdict or a Service mapping: not resourceVersion,
// managedFields, annotations, or pod status beyond phase and IPs.
std::string fingerprint(Resource r, const json& obj) {
  json fp = obj;
  fp.erase("kind");
  fp.erase("apiVersion");
  const json& meta = obj["metadata"];
  json kept = json::object();
  for (const char* key : {"name", "namespace", "creationTimestamp"}) {
    if (meta.contains(key)) kept[key] = meta[key];
  }
  if (r != Resource::kNetworkPolicies && meta.contains("labels")) kept["labels"] = meta["labels"];
  fp["metadata"] = std::move(kept);
  if (r == Resource::kPods && obj.contains("status") && obj["status"].is_object()) {
    json status = json::object();
    for (const char* key : {"phase", "podIP", "podIPs"}) {
      if (obj["status"].contains(key)) status[key] = obj["status"][key];
    }
    fp["status"] = std::move(status);
  } else {
    fp.erase("status");
  }
  return fp.dump();
}

std::string string_at(const json& obj, const char* a, const char* b) {
  auto outer = obj.find(a);
  if (outer == obj.end() || !outer->is_object()) return "";
  auto inner = outer->find(b);
  return inner != outer->end() && inner->is_string() ? inner->get<std::string>() : "";
}

}  // namespace

WatchStore::WatchStore(const WatchOptions& options) : options_(options) {}

std::optional<std::string> WatchStore::decode(Resource resource, const json& object, Entry& entry) {
  auto decoded = decode_object(object, kind_of(resource), std::string("API ") + to_string(resource));
  if (!decoded) {
    spdlog::warn("kube: skipping an object the model rejects: {}", decoded.error().message);
    return decoded.error().message;
  }
  entry.object = std::move(*decoded);
  entry.fingerprint = fingerprint(resource, object);
  entry.uid = string_at(object, "metadata", "uid");
  const std::string phase = string_at(object, "status", "phase");
  entry.terminal = resource == Resource::kPods && (phase == "Succeeded" || phase == "Failed");
  return std::nullopt;
}

bool WatchStore::admit(Resource resource, const std::string& key, const Entry* previous, MonoTime now, Entry& entry) {
  const bool same = previous && previous->fingerprint == entry.fingerprint;
  entry.changed = same ? previous->changed : now;
  invalid_[slot(resource)].erase(key);
  if (resource == Resource::kNetworkPolicies) policy_deleted_.erase(key);
  return !same;
}

void WatchStore::erased(Resource resource, const std::string& key, MonoTime now) {
  if (resource == Resource::kNetworkPolicies) policy_deleted_[key] = now;
}

struct WatchStore::Staged final : ListStage {
  explicit Staged(Resource r) : resource(r) {}
  Resource resource;
  Objects fresh;
  std::map<std::string, std::string> invalid;  // key -> the model's error
};

std::unique_ptr<ReflectorSink::ListStage> WatchStore::begin_list(Resource resource) {
  return std::make_unique<Staged>(resource);
}

void WatchStore::stage_page(ListStage& stage, std::vector<json>& items) {
  auto& staged = static_cast<Staged&>(stage);
  for (auto& item : items) {
    std::string key = item.is_object() ? key_of(staged.resource, item) : "";
    if (key.empty()) key = "(unnamed #" + std::to_string(staged.invalid.size()) + ")";
    Entry entry;
    if (auto error = decode(staged.resource, item, entry)) {
      staged.invalid[key] = std::move(*error);
    } else if (!staged.fresh.contains(key)) {  // a duplicate: the first one counts
      staged.invalid.erase(key);
      staged.fresh.emplace(std::move(key), std::move(entry));
    }
    item = json();  // free this object's JSON now
  }
}

std::size_t WatchStore::replace(ListStage& stage) {
  auto& staged = static_cast<Staged&>(stage);
  const Resource resource = staged.resource;
  const MonoTime now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  Objects& old = objects_[slot(resource)];
  invalid_[slot(resource)].clear();
  bool changed = false;
  for (auto& [key, entry] : staged.fresh) {
    auto prev = old.find(key);
    changed |= admit(resource, key, prev == old.end() ? nullptr : &prev->second, now, entry);
  }
  for (const auto& [key, entry] : old) {
    if (!staged.fresh.contains(key)) {
      erased(resource, key, now);
      changed = true;
    }
  }
  old = std::move(staged.fresh);
  invalid_[slot(resource)] = std::move(staged.invalid);
  const std::size_t invalid = invalid_[slot(resource)].size();
  if (changed || !synced_[slot(resource)]) {
    dirty_ = true;
    cv_.notify_all();
  }
  return invalid;
}

bool WatchStore::apply(Resource resource, std::string_view type, const json& object) {
  const MonoTime now = std::chrono::steady_clock::now();
  const std::string key = key_of(resource, object);
  Entry entry;
  std::optional<std::string> error;
  if (type != "DELETED") {
    error = key.empty() ? std::optional<std::string>(std::string("API ") + to_string(resource) +
                                                     ": object has no metadata.name")
                        : decode(resource, object, entry);  // outside the lock
  }
  std::lock_guard lock(mutex_);
  Objects& objects = objects_[slot(resource)];
  auto it = objects.find(key);
  bool changed = false;
  if (type == "DELETED") {
    invalid_[slot(resource)].erase(key);
    if (it != objects.end()) {
      objects.erase(it);
      erased(resource, key, now);
      changed = true;
    }
  } else if (error) {
    invalid_[slot(resource)][key.empty() ? "(unnamed)" : key] = *error;
    if (it != objects.end()) {  // its last valid version no longer exists
      objects.erase(it);
      erased(resource, key, now);
      changed = true;
    }
  } else {
    changed = admit(resource, key, it == objects.end() ? nullptr : &it->second, now, entry);
    objects[key] = std::move(entry);
  }
  if (changed) {
    dirty_ = true;
    cv_.notify_all();
  }
  return !error;
}

void WatchStore::synced(Resource resource) {
  std::lock_guard lock(mutex_);
  synced_[slot(resource)] = true;
  bool all = std::all_of(options_.resources.begin(), options_.resources.end(), [&](Resource r) { return synced_[slot(r)]; });
  if (all && synced_at_ == MonoTime{}) synced_at_ = std::chrono::steady_clock::now();
  dirty_ = true;
  cv_.notify_all();
}

bool WatchStore::all_synced() const {
  std::lock_guard lock(mutex_);
  return synced_at_ != MonoTime{};
}

std::size_t WatchStore::object_count(Resource resource) const {
  std::lock_guard lock(mutex_);
  return objects_[slot(resource)].size();
}

bool WatchStore::wait_for_change() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return stopping_ || (dirty_ && synced_at_ != MonoTime{}); });
  return !stopping_;
}

void WatchStore::stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  cv_.notify_all();
}

ClusterSnapshot WatchStore::build() {
  ClusterSnapshot snap;
  const MonoTime now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    dirty_ = false;
    snap.built_at = now;
    snap.synced_at = synced_at_;
    std::size_t terminal = 0;
    for (Resource r : kAllResources) {
      for (const auto& [key, entry] : objects_[slot(r)]) {
        snap.uids[std::string(kind_of(r)) + "/" + key] = entry.uid;  // also tells that it exists
        // Objects present at the first sync count as changed when it completed.
        MonoTime changed = std::max(entry.changed, synced_at_);
        std::visit(
            [&](const auto& object) {
              using T = std::decay_t<decltype(object)>;
              if constexpr (std::is_same_v<T, Namespace>) {
                snap.state.namespaces.push_back(object);
                snap.namespace_changed[key] = changed;
              } else if constexpr (std::is_same_v<T, Pod>) {
                if (entry.terminal) {
                  ++terminal;
                  return;
                }
                snap.state.pods.push_back(object);
                snap.pod_changed[key] = changed;
              } else if constexpr (std::is_same_v<T, NetworkPolicy>) {
                snap.state.policies.push_back(object);
                snap.policy_changed[key] = changed;
              } else if constexpr (std::is_same_v<T, Service>) {
                snap.state.services.push_back(object);
              } else if constexpr (std::is_same_v<T, TierPolicy>) {
                snap.state.tier_policies.push_back(object);
                snap.policy_changed[object.ref()] = changed;
              } else {
                snap.state.endpoint_slices.push_back(object);
              }
            },
            entry.object);
      }
    }
    for (auto it = policy_deleted_.begin(); it != policy_deleted_.end();) {
      if (now - it->second > options_.deleted_policy_retention) {
        it = policy_deleted_.erase(it);
      } else {
        snap.policy_changed[it->first] = it->second;
        snap.policy_deleted.insert(*it++);
      }
    }
    std::size_t noted = 0, skipped = 0;
    for (const auto& per_resource : invalid_) {
      for (const auto& [key, message] : per_resource) {
        if (noted++ < 50) snap.state.notes.push_back("skipped " + message);
        ++skipped;
      }
    }
    if (skipped > 50) snap.state.notes.push_back("skipped " + std::to_string(skipped - 50) + " more invalid object(s)");
    if (terminal > 0) {
      snap.state.notes.push_back(std::to_string(terminal) + " terminated pod(s) (Succeeded or Failed) left out: their IPs "
                                 "may belong to new pods");
    }
  }
  snap.state.finalize();
  for (const auto& tie : priority_ties(snap.state.tier_policies)) snap.state.notes.push_back(describe(tie));
  return snap;
}

std::optional<ObjectRef> ClusterSnapshot::ref(std::string_view kind, std::string_view ns, std::string_view name) const {
  for (Resource r : kAllResources) {
    if (kind != kind_of(r)) continue;
    const bool cluster_scoped = r == Resource::kNamespaces || is_optional(r);
    std::string key = cluster_scoped ? std::string(name) : std::string(ns) + "/" + std::string(name);
    auto it = uids.find(std::string(kind) + "/" + key);
    if (it == uids.end()) return std::nullopt;
    return ObjectRef{std::string(kind), api_version_of(r), cluster_scoped ? "" : std::string(ns), std::string(name),
                     it->second};
  }
  return std::nullopt;
}

}  // namespace npv::kube
