// Parsers for Service (core/v1) and EndpointSlice (discovery.k8s.io/v1), with the API server's
// validation of the fields npv reads. Internal to agent/model, like object_parser.hpp: errors are
// thrown as FieldError and given file and object context by the caller.
#pragma once

#include <nlohmann/json.hpp>

#include "npv/service.hpp"

namespace npv::detail {

Service parse_service(const nlohmann::json& obj);
EndpointSlice parse_endpoint_slice(const nlohmann::json& obj);

}  // namespace npv::detail
