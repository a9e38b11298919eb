// Field access helpers shared by the object parsers (object_parser.cpp, service_parser.cpp).
// Every helper names the field path it checks; a violation throws FieldError (object_parser.hpp),
// which the loader and decode_object() turn into an npv::Error with file and object context.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/object_parser.hpp"
#include "npv/port.hpp"

namespace npv::detail {

[[noreturn]] void fail(const std::string& field, std::string message);
// "an object", "a list", "a string", "a boolean", "null" or "a number", for messages.
const char* type_name(const nlohmann::json& v);
// A member that is present and not null, else nullptr (Kubernetes treats null as omitted).
const nlohmann::json* member(const nlohmann::json& obj, const char* key);
// "spec" + "ports" -> "spec.ports"; "spec.ports" + 2 -> "spec.ports[2]".
std::string join(const std::string& path, const char* key);
std::string index(const std::string& path, std::size_t i);

const nlohmann::json& want_object(const nlohmann::json& v, const std::string& path);
const nlohmann::json& want_array(const nlohmann::json& v, const std::string& path);
const std::string& want_string(const nlohmann::json& v, const std::string& path);
bool want_bool(const nlohmann::json& v, const std::string& path);
// A JSON integer in [lo, hi].
long long want_int(const nlohmann::json& v, const std::string& path, long long lo, long long hi);
// The `protocol` member of `parent` (TCP when omitted, as Kubernetes defaults it).
Protocol parse_protocol_field(const nlohmann::json& parent, const std::string& path);

}  // namespace npv::detail
