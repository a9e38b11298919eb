#include "npv/object_decoder.hpp"

#include "model/object_parser.hpp"
#include "model/service_parser.hpp"
#include "model/tier_policy_parser.hpp"

namespace npv {

namespace {

std::string object_label(const nlohmann::json& obj, std::string_view kind) {
  std::string label(kind);
  if (!obj.is_object()) return label;
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return label;
  std::string ref;
  if (auto ns = meta->find("namespace"); ns != meta->end() && ns->is_string()) ref = ns->get<std::string>() + "/";
  if (auto name = meta->find("name"); name != meta->end() && name->is_string()) ref += name->get<std::string>();
  return ref.empty() ? label : label + " " + ref;
}

template <class T>
ModelObject with_origin(T object, const Origin& origin) {
  object.origin = origin;
  return ModelObject(std::move(object));
}

}  // namespace

Result<ModelObject> decode_object(const nlohmann::json& obj, std::string_view kind, const Origin& origin) {
  const std::string context = origin + ": " + object_label(obj, kind) + ": ";
  if (!obj.is_object()) {
    return make_error(Errc::kBadInput, context + "expected an object, got " + std::string(obj.type_name()));
  }
  try {
    if (kind == "Namespace") return with_origin(detail::parse_namespace(obj), origin);
    if (kind == "Pod") return with_origin(detail::parse_pod(obj), origin);
    if (kind == "NetworkPolicy") return with_origin(detail::parse_network_policy(obj), origin);
    if (kind == "Service") return with_origin(detail::parse_service(obj), origin);
    if (kind == "EndpointSlice") return with_origin(detail::parse_endpoint_slice(obj), origin);
    if (kind == "AdminNetworkPolicy") return with_origin(detail::parse_admin_network_policy(obj), origin);
    if (kind == "BaselineAdminNetworkPolicy") return with_origin(detail::parse_baseline_admin_network_policy(obj), origin);
    if (kind == "ClusterNetworkPolicy") return with_origin(detail::parse_cluster_network_policy(obj), origin);
  } catch (const detail::FieldError& e) {
    return make_error(Errc::kBadInput, context + e.field + ": " + e.message);
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::kBadInput, context + e.what());
  }
  return make_error(Errc::kBadInput, context + "unsupported kind (expected Namespace, Pod, NetworkPolicy, Service, "
                                               "EndpointSlice, AdminNetworkPolicy, BaselineAdminNetworkPolicy or "
                                               "ClusterNetworkPolicy)");
}

}  // namespace npv
