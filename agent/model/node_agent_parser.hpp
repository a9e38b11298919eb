// Reads a node agent (node_agent.hpp) from a DaemonSet or from a Pod a DaemonSet controls.
// Internal to agent/model. Container details are read leniently: a field of an unexpected type is
// left out, never an error, because nothing but CNI detection depends on them. Object metadata
// errors are thrown as FieldError, like the other parsers (the loader has validated it already).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "npv/node_agent.hpp"

namespace npv::detail {

// A DaemonSet (kind "DaemonSet"), or a Pod (kind "Pod") whose controller ownerReference is a
// DaemonSet; std::nullopt for every other object.
std::optional<NodeAgent> parse_node_agent(const nlohmann::json& obj, const std::string& kind);

}  // namespace npv::detail
