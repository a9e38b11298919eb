// YAML → nlohmann::json conversion with YAML 1.2 core-schema scalars: plain `123` is an integer,
// `true`/`false` booleans, `null`/`~`/empty null; quoted scalars and everything else are strings.
// Floats stay strings: no Kubernetes field npv reads is a float, and a label value such as 1.10
// must not silently become 1.1.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

namespace npv::detail {

// Throws YAML::Exception on malformed input (callers catch it; see manifest_loader.cpp).
nlohmann::json yaml_to_json(const YAML::Node& node);

}  // namespace npv::detail
