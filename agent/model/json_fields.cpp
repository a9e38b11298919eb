#include "model/json_fields.hpp"

#include <algorithm>

namespace npv::detail {

using nlohmann::json;

void fail(const std::string& field, std::string message) {
  throw FieldError{field, std::move(message)};
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "a list";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    default: return "a number";
  }
}

// A member that is present and not null, else nullptr (Kubernetes treats null as omitted).
const json* member(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string join(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }
std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

const json& want_object(const json& v, const std::string& path) {
  if (!v.is_object()) fail(path, std::string("expected an object, got ") + type_name(v));
  return v;
}

const json& want_array(const json& v, const std::string& path) {
  if (!v.is_array()) fail(path, std::string("expected a list, got ") + type_name(v));
  return v;
}

const std::string& want_string(const json& v, const std::string& path) {
  if (!v.is_string()) fail(path, std::string("expected a string, got ") + type_name(v));
  return v.get_ref<const std::string&>();
}

// A JSON integer in [lo, hi].
long long want_int(const json& v, const std::string& path, long long lo, long long hi) {
  if (!v.is_number_integer()) fail(path, std::string("expected an integer, got ") + type_name(v));
  long long x = v.is_number_unsigned() ? static_cast<long long>(std::min<unsigned long long>(
                                             v.get<unsigned long long>(), 1ULL << 62))
                                       : v.get<long long>();
  if (x < lo || x > hi) {
    fail(path, "must be in " + std::to_string(lo) + "-" + std::to_string(hi) + ", got " + std::to_string(x));
  }
  return x;
}

Protocol parse_protocol_field(const json& parent, const std::string& path) {
  const json* p = member(parent, "protocol");
  if (!p) return Protocol::kTCP;  // Kubernetes default
  const auto& text = want_string(*p, join(path, "protocol"));
  auto proto = parse_protocol(text);
  if (!proto) fail(join(path, "protocol"), "must be TCP, UDP or SCTP, got \"" + text + "\"");
  return *proto;
}

bool want_bool(const json& v, const std::string& path) {
  if (!v.is_boolean()) fail(path, std::string("expected a boolean, got ") + type_name(v));
  return v.get<bool>();
}

}  // namespace npv::detail
