#include "model/service_parser.hpp"

#include <algorithm>
#include <set>

#include "model/json_fields.hpp"
#include "model/k8s_names.hpp"

namespace npv {

const char* to_string(AddressType t) {
  switch (t) {
    case AddressType::kIPv4: return "IPv4";
    case AddressType::kIPv6: return "IPv6";
    case AddressType::kFQDN: return "FQDN";
  }
  return "?";
}

namespace detail {

using nlohmann::json;

namespace {

// RFC 1035 label (Service names, Service port names): 1-63 of [a-z0-9-], starting with a letter.
bool is_dns1035_label(std::string_view s) { return is_dns1123_label(s) && s.front() >= 'a' && s.front() <= 'z'; }

IpAddr want_ip(const json& v, const std::string& path) {
  const auto& text = want_string(v, path);
  auto ip = IpAddr::parse(text);
  if (!ip) fail(path, "\"" + text + "\" is not an IP address");
  return *ip;
}

ServicePort parse_service_port(const json& v, const std::string& path, bool name_required) {
  want_object(v, path);
  ServicePort out;
  const json* port = member(v, "port");
  if (!port) fail(join(path, "port"), "required");
  out.port = static_cast<std::uint16_t>(want_int(*port, join(path, "port"), 1, 65535));
  out.proto = parse_protocol_field(v, path);
  if (const json* name = member(v, "name")) out.name = want_string(*name, join(path, "name"));
  if (out.name.empty() && name_required) fail(join(path, "name"), "required when the Service has more than one port");
  if (!out.name.empty() && !is_dns1123_label(out.name)) {
    fail(join(path, "name"), "\"" + out.name + "\" is not a valid port name (lower-case alphanumerics and '-')");
  }
  out.target_port = out.port;  // Kubernetes default: targetPort = port
  if (const json* target = member(v, "targetPort")) {
    if (target->is_string()) {
      const auto& text = target->get_ref<const std::string&>();
      // The API accepts a numeric string ("8080") as a number (intstr.Parse).
      if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (text.size() > 5 || std::stoi(text) < 1 || std::stoi(text) > 65535) {
          fail(join(path, "targetPort"), "must be in 1-65535, got " + text);
        }
        out.target_port = static_cast<std::uint16_t>(std::stoi(text));
      } else {
        if (!is_valid_port_name(text)) {
          fail(join(path, "targetPort"), "\"" + text + "\" is neither a port number nor a valid port name");
        }
        out.target_port = 0;
        out.target_port_name = text;
      }
    } else {
      out.target_port = static_cast<std::uint16_t>(want_int(*target, join(path, "targetPort"), 1, 65535));
    }
  }
  if (const json* node_port = member(v, "nodePort")) {
    out.node_port = static_cast<std::uint16_t>(want_int(*node_port, join(path, "nodePort"), 0, 65535));
  }
  return out;
}

}  // namespace

// Service validation (ValidateService), for the fields read here:
//  1. metadata.name is an RFC 1035 label; spec is required.
//  2. spec.type is ClusterIP (default), NodePort, LoadBalancer or ExternalName; ExternalName
//     requires spec.externalName.
//  3. spec.clusterIP is "", "None" (headless) or an IP; spec.clusterIPs[0] equals clusterIP.
//  4. ports: at least one unless headless or ExternalName; port 1-65535, protocol TCP/UDP/SCTP,
//     names unique and required when there are several, targetPort a number or a port name
//     (default: port).
Service parse_service(const json& obj) {
  ObjectMeta meta = parse_meta(obj, true);
  if (!is_dns1035_label(meta.name)) {  // rule 1
    fail("metadata.name", "\"" + meta.name + "\" is not a valid Service name (an RFC 1035 label: lower-case "
                          "alphanumerics and '-', starting with a letter)");
  }
  Service svc;
  svc.ns = meta.ns;
  svc.name = meta.name;
  const json* spec = member(obj, "spec");
  if (!spec) fail("spec", "required");
  want_object(*spec, "spec");
  if (const json* type = member(*spec, "type")) {  // rule 2
    svc.type = want_string(*type, "spec.type");
    static const std::set<std::string, std::less<>> kTypes = {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"};
    if (!kTypes.contains(svc.type)) {
      fail("spec.type", "must be ClusterIP, NodePort, LoadBalancer or ExternalName, got \"" + svc.type + "\"");
    }
  }
  if (svc.type == "ExternalName") {
    const json* ext = member(*spec, "externalName");
    if (!ext || want_string(*ext, "spec.externalName").empty()) fail("spec.externalName", "required for type ExternalName");
    svc.external_name = ext->get<std::string>();
  }
  std::string cluster_ip;  // rule 3
  if (const json* ip = member(*spec, "clusterIP")) cluster_ip = want_string(*ip, "spec.clusterIP");
  if (cluster_ip == "None") {
    svc.headless = true;
  } else if (!cluster_ip.empty()) {
    svc.cluster_ips.push_back(want_ip((*spec)["clusterIP"], "spec.clusterIP"));
  }
  if (const json* ips = member(*spec, "clusterIPs")) {
    want_array(*ips, "spec.clusterIPs");
    for (std::size_t i = 0; i < ips->size(); ++i) {
      const std::string p = index("spec.clusterIPs", i);
      const auto& text = want_string((*ips)[i], p);
      if (i == 0 && !cluster_ip.empty() && text != cluster_ip) {
        fail(p, "must equal spec.clusterIP (\"" + cluster_ip + "\"), got \"" + text + "\"");
      }
      if (text == "None") {
        if (i != 0) fail(p, "\"None\" may only be the first entry");
        svc.headless = true;
        continue;
      }
      IpAddr ip = want_ip((*ips)[i], p);
      if (std::find(svc.cluster_ips.begin(), svc.cluster_ips.end(), ip) == svc.cluster_ips.end()) {
        svc.cluster_ips.push_back(ip);
      }
    }
  }
  if (const json* selector = member(*spec, "selector")) svc.selector = parse_labels(*selector, "spec.selector");
  const json* ports = member(*spec, "ports");
  if ((!ports || ports->empty()) && !svc.headless && svc.type != "ExternalName") {  // rule 4
    fail("spec.ports", "required (at least one port) unless the Service is headless or ExternalName");
  }
  if (ports) {
    want_array(*ports, "spec.ports");
    std::set<std::string> names;
    for (std::size_t i = 0; i < ports->size(); ++i) {
      const std::string p = index("spec.ports", i);
      svc.ports.push_back(parse_service_port((*ports)[i], p, ports->size() > 1));
      if (!svc.ports.back().name.empty() && !names.insert(svc.ports.back().name).second) {
        fail(join(p, "name"), "duplicate port name \"" + svc.ports.back().name + "\"");
      }
    }
  }
  return svc;
}

// EndpointSlice validation (ValidateEndpointSlice), for the fields read here:
//  1. addressType is required: IPv4, IPv6 or FQDN.
//  2. endpoints[].addresses holds 1-100 addresses of that type.
//  3. conditions.ready is a boolean when set; nil means ready.
//  4. targetRef of kind Pod names the backend pod (its namespace defaults to the slice's).
//  5. ports[]: name empty or a DNS label, port 0-65535 or nil ("all ports"), protocol TCP/UDP/SCTP.
EndpointSlice parse_endpoint_slice(const json& obj) {
  ObjectMeta meta = parse_meta(obj, true);
  EndpointSlice slice;
  slice.ns = meta.ns;
  slice.name = meta.name;
  if (const json* labels = member(obj["metadata"], "labels")) {
    Labels parsed = parse_labels(*labels, "metadata.labels");
    if (auto it = parsed.find(kServiceNameLabel); it != parsed.end()) slice.service_name = it->second;
  }
  const json* type = member(obj, "addressType");  // rule 1
  if (!type) fail("addressType", "required (IPv4, IPv6 or FQDN)");
  const auto& type_text = want_string(*type, "addressType");
  if (type_text == "IPv4") slice.address_type = AddressType::kIPv4;
  else if (type_text == "IPv6") slice.address_type = AddressType::kIPv6;
  else if (type_text == "FQDN") slice.address_type = AddressType::kFQDN;
  else fail("addressType", "must be IPv4, IPv6 or FQDN, got \"" + type_text + "\"");

  if (const json* endpoints = member(obj, "endpoints")) {
    want_array(*endpoints, "endpoints");
    for (std::size_t i = 0; i < endpoints->size(); ++i) {
      const std::string p = index("endpoints", i);
      const json& e = want_object((*endpoints)[i], p);
      SliceEndpoint ep;
      const json* addresses = member(e, "addresses");  // rule 2
      if (!addresses) fail(join(p, "addresses"), "required");
      want_array(*addresses, join(p, "addresses"));
      if (addresses->empty() || addresses->size() > 100) fail(join(p, "addresses"), "must hold 1-100 addresses");
      for (std::size_t j = 0; j < addresses->size(); ++j) {
        const std::string ap = index(join(p, "addresses"), j);
        ep.addresses.push_back(want_string((*addresses)[j], ap));
        if (slice.address_type == AddressType::kFQDN) {
          if (!is_dns1123_subdomain(ep.addresses.back())) fail(ap, "\"" + ep.addresses.back() + "\" is not a DNS name");
          continue;
        }
        IpAddr ip = want_ip((*addresses)[j], ap);
        if (ip.family != (slice.address_type == AddressType::kIPv4 ? 4 : 6)) {
          fail(ap, "\"" + ep.addresses.back() + "\" is not an " + to_string(slice.address_type) + " address");
        }
        ep.ips.push_back(ip);
      }
      if (const json* conditions = member(e, "conditions")) {  // rule 3
        want_object(*conditions, join(p, "conditions"));
        if (const json* ready = member(*conditions, "ready")) ep.ready = want_bool(*ready, join(p, "conditions.ready"));
      }
      if (const json* ref = member(e, "targetRef")) {  // rule 4
        want_object(*ref, join(p, "targetRef"));
        const json* kind = member(*ref, "kind");
        const json* name = member(*ref, "name");
        if (kind && want_string(*kind, join(p, "targetRef.kind")) == "Pod" && name) {
          std::string ns = slice.ns;
          if (const json* n = member(*ref, "namespace"); n && !want_string(*n, join(p, "targetRef.namespace")).empty()) {
            ns = n->get<std::string>();
          }
          ep.target_pod = ns + "/" + want_string(*name, join(p, "targetRef.name"));
        }
      }
      if (const json* node = member(e, "nodeName")) ep.node_name = want_string(*node, join(p, "nodeName"));
      slice.endpoints.push_back(std::move(ep));
    }
  }
  if (const json* ports = member(obj, "ports")) {  // rule 5
    want_array(*ports, "ports");
    for (std::size_t i = 0; i < ports->size(); ++i) {
      const std::string p = index("ports", i);
      const json& port = want_object((*ports)[i], p);
      EndpointPort out;
      if (const json* name = member(port, "name")) {
        out.name = want_string(*name, join(p, "name"));
        if (!out.name.empty() && !is_dns1123_label(out.name)) fail(join(p, "name"), "\"" + out.name + "\" is not a valid port name");
      }
      if (const json* number = member(port, "port")) {
        out.port = static_cast<std::uint16_t>(want_int(*number, join(p, "port"), 0, 65535));
      }
      out.proto = parse_protocol_field(port, p);
      slice.ports.push_back(std::move(out));
    }
  }
  return slice;
}

}  // namespace detail
}  // namespace npv
