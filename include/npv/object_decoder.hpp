// One Kubernetes object, already parsed as JSON, to a model object: the object-level entry point
// of the loader, for sources that receive objects one at a time (the Kubernetes API client,
// kube_watch.hpp). Validation and messages are the manifest loader's (loader.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <variant>

#include "npv/error.hpp"
#include "npv/model.hpp"

namespace npv {

using ModelObject = std::variant<Namespace, Pod, NetworkPolicy, Service, EndpointSlice, TierPolicy>;

// `kind` is one of Namespace, Pod, NetworkPolicy, Service, EndpointSlice, AdminNetworkPolicy,
// BaselineAdminNetworkPolicy, ClusterNetworkPolicy (list items from the API
// carry no kind, so the caller names it). The result's `origin` is set to `origin`. Errors
// (Errc::kBadInput) read "<origin>: <Kind> <ns/name>: <field>: <what was expected>". Never throws.
Result<ModelObject> decode_object(const nlohmann::json& obj, std::string_view kind, const Origin& origin);

}  // namespace npv
