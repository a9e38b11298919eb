// YAML documents → nlohmann::json, straight from yaml-cpp's event parser.
//
// Scalars follow the YAML 1.2 core schema as Kubernetes reads it: plain `123` is an integer,
// `true`/`false` booleans, `null`/`~`/empty null; quoted scalars and everything else are strings.
// Floats stay strings: no field npv reads is a float, and a label value 1.10 must not become 1.1.
// Anchors, aliases and `<<` merge keys are expanded; duplicate keys are an error (as in
// Kubernetes' strict decoding).
//
// Hardening, since manifests may come from anywhere:
//  - yaml-cpp 0.7's LoadAll loops forever on some malformed input (e.g. a lone ","; upstream
//    issue 1040, fixed after 0.7); documents are read one at a time here and a parser that stops
//    advancing is reported as a syntax error;
//  - alias expansion is capped (kMaxNodes) so an "alias bomb" is an error, not an OOM.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace npv::detail {

inline constexpr std::size_t kMaxNodes = 4'000'000;

struct YamlDocument {
  nlohmann::json value;  // null for an empty document
  int line = 0;          // 1-based line where the document starts
};

// Throws YAML::Exception (with a mark) on malformed input.
std::vector<YamlDocument> parse_yaml_documents(const std::string& text);

}  // namespace npv::detail
