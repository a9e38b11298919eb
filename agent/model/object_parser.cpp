#include "model/object_parser.hpp"

#include "model/json_fields.hpp"
#include "model/k8s_names.hpp"

#include <algorithm>

namespace npv::detail {

using nlohmann::json;

LabelSelector parse_selector(const json& v, const std::string& path) {
  want_object(v, path);
  std::vector<Requirement> reqs;
  if (const json* ml = member(v, "matchLabels")) {
    for (auto& [key, value] : parse_labels(*ml, join(path, "matchLabels"))) {
      reqs.push_back({key, SelectorOp::kIn, {value}});
    }
  }
  if (const json* me = member(v, "matchExpressions")) {
    const std::string me_path = join(path, "matchExpressions");
    want_array(*me, me_path);
    for (std::size_t i = 0; i < me->size(); ++i) {
      const std::string p = index(me_path, i);
      const json& e = want_object((*me)[i], p);
      Requirement r;
      const json* key = member(e, "key");
      if (!key || want_string(*key, join(p, "key")).empty()) fail(join(p, "key"), "required");
      r.key = key->get<std::string>();
      if (!is_qualified_name(r.key)) fail(join(p, "key"), "\"" + r.key + "\" is not a valid label key");
      const json* op = member(e, "operator");
      if (!op) fail(join(p, "operator"), "required (In, NotIn, Exists or DoesNotExist)");
      const auto& op_text = want_string(*op, join(p, "operator"));
      if (op_text == "In") r.op = SelectorOp::kIn;
      else if (op_text == "NotIn") r.op = SelectorOp::kNotIn;
      else if (op_text == "Exists") r.op = SelectorOp::kExists;
      else if (op_text == "DoesNotExist") r.op = SelectorOp::kDoesNotExist;
      else fail(join(p, "operator"), "unknown operator \"" + op_text + "\" (expected In, NotIn, Exists or DoesNotExist)");
      if (const json* values = member(e, "values")) {
        want_array(*values, join(p, "values"));
        for (std::size_t j = 0; j < values->size(); ++j) {
          const std::string vp = index(join(p, "values"), j);
          r.values.push_back(want_string((*values)[j], vp));
          if (!is_label_value(r.values.back())) fail(vp, "\"" + r.values.back() + "\" is not a valid label value");
        }
      }
      bool set_op = r.op == SelectorOp::kIn || r.op == SelectorOp::kNotIn;
      if (set_op && r.values.empty()) fail(join(p, "values"), "must be non-empty when operator is " + op_text);
      if (!set_op && !r.values.empty()) fail(join(p, "values"), "must be empty when operator is " + op_text);
      reqs.push_back(std::move(r));
    }
  }
  return LabelSelector(std::move(reqs));
}

namespace {

IpBlock parse_ip_block(const json& v, const std::string& path) {
  want_object(v, path);
  const json* cidr_text = member(v, "cidr");
  if (!cidr_text) fail(join(path, "cidr"), "required");
  auto cidr = Cidr::parse(want_string(*cidr_text, join(path, "cidr")));
  if (!cidr) fail(join(path, "cidr"), "invalid CIDR " + cidr.error());
  IpBlock block{*cidr, {}};
  if (const json* except = member(v, "except")) {
    const std::string ex_path = join(path, "except");
    want_array(*except, ex_path);
    for (std::size_t i = 0; i < except->size(); ++i) {
      const std::string p = index(ex_path, i);
      auto e = Cidr::parse(want_string((*except)[i], p));
      if (!e) fail(p, "invalid CIDR " + e.error());
      if (!cidr->strictly_contains(*e)) {
        fail(p, "\"" + e->to_string() + "\" must be a strict subset of cidr \"" + cidr->to_string() + "\"");
      }
      block.except.push_back(*e);
    }
  }
  return block;
}

PolicyPeer parse_peer(const json& v, const std::string& path) {
  want_object(v, path);
  PolicyPeer peer;
  if (const json* s = member(v, "podSelector")) peer.pod_selector = parse_selector(*s, join(path, "podSelector"));
  if (const json* s = member(v, "namespaceSelector")) {
    peer.namespace_selector = parse_selector(*s, join(path, "namespaceSelector"));
  }
  if (const json* b = member(v, "ipBlock")) peer.ip_block = parse_ip_block(*b, join(path, "ipBlock"));
  bool has_selector = peer.pod_selector || peer.namespace_selector;
  if (!has_selector && !peer.ip_block) {
    fail(path, "must specify podSelector, namespaceSelector or ipBlock");
  }
  if (has_selector && peer.ip_block) {
    fail(path, "ipBlock may not be combined with podSelector or namespaceSelector");
  }
  return peer;
}

PolicyPort parse_policy_port(const json& v, const std::string& path) {
  want_object(v, path);
  PolicyPort out;
  out.proto = parse_protocol_field(v, path);
  const json* port = member(v, "port");
  const json* end_port = member(v, "endPort");
  if (!port) {
    if (end_port) fail(join(path, "endPort"), "requires a numeric port");
    out.kind = PolicyPort::Kind::kAllPorts;
    return out;
  }
  if (port->is_string()) {
    const auto& name = port->get_ref<const std::string&>();
    if (!is_valid_port_name(name)) {
      fail(join(path, "port"), "\"" + name + "\" is neither a port number nor a valid port name "
                                             "(1-15 of a-z, 0-9 and '-', with at least one letter)");
    }
    if (end_port) fail(join(path, "endPort"), "may not be set when port is a named port (\"" + name + "\")");
    out.kind = PolicyPort::Kind::kNamed;
    out.name = name;
    return out;
  }
  out.kind = PolicyPort::Kind::kNumber;
  out.port = static_cast<std::uint16_t>(want_int(*port, join(path, "port"), 1, 65535));
  out.end_port = out.port;
  if (end_port) {
    auto end = want_int(*end_port, join(path, "endPort"), 1, 65535);
    if (end < out.port) {
      fail(join(path, "endPort"), "must be greater than or equal to port (" + std::to_string(out.port) + "), got " +
                                      std::to_string(end));
    }
    out.end_port = static_cast<std::uint16_t>(end);
  }
  return out;
}

std::vector<PolicyRule> parse_rules(const json& v, const std::string& path, const char* peers_key) {
  want_array(v, path);
  std::vector<PolicyRule> rules;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string p = index(path, i);
    const json& r = want_object(v[i], p);
    PolicyRule rule;
    if (const json* peers = member(r, peers_key)) {
      const std::string peers_path = join(p, peers_key);
      want_array(*peers, peers_path);
      for (std::size_t j = 0; j < peers->size(); ++j) rule.peers.push_back(parse_peer((*peers)[j], index(peers_path, j)));
    }
    if (const json* ports = member(r, "ports")) {
      const std::string ports_path = join(p, "ports");
      want_array(*ports, ports_path);
      for (std::size_t j = 0; j < ports->size(); ++j) {
        rule.ports.push_back(parse_policy_port((*ports)[j], index(ports_path, j)));
      }
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

void parse_container_ports(const json& containers, const std::string& path, std::vector<ContainerPort>& out,
                           bool sidecars_only) {
  want_array(containers, path);
  for (std::size_t i = 0; i < containers.size(); ++i) {
    const std::string p = index(path, i);
    const json& c = want_object(containers[i], p);
    if (sidecars_only) {
      // Native sidecars (init containers with restartPolicy: Always) keep serving their ports.
      const json* rp = member(c, "restartPolicy");
      if (!rp || !rp->is_string() || rp->get<std::string>() != "Always") continue;
    }
    const json* ports = member(c, "ports");
    if (!ports) continue;
    const std::string ports_path = join(p, "ports");
    want_array(*ports, ports_path);
    for (std::size_t j = 0; j < ports->size(); ++j) {
      const std::string pp = index(ports_path, j);
      const json& port = want_object((*ports)[j], pp);
      ContainerPort cp;
      const json* number = member(port, "containerPort");
      if (!number) fail(join(pp, "containerPort"), "required");
      cp.port = static_cast<std::uint16_t>(want_int(*number, join(pp, "containerPort"), 1, 65535));
      cp.proto = parse_protocol_field(port, pp);
      if (const json* name = member(port, "name")) {
        cp.name = want_string(*name, join(pp, "name"));
        if (!is_valid_port_name(cp.name)) fail(join(pp, "name"), "\"" + cp.name + "\" is not a valid port name");
      }
      out.push_back(std::move(cp));
    }
  }
}

// Reads labels, ports and hostNetwork of a pod or pod template (`meta` and `spec` objects).
void parse_pod_body(const json* meta, const std::string& meta_path, const json* spec, const std::string& spec_path,
                    Pod& pod) {
  if (meta) {
    want_object(*meta, meta_path);
    if (const json* labels = member(*meta, "labels")) pod.labels = parse_labels(*labels, join(meta_path, "labels"));
  }
  if (!spec) return;
  want_object(*spec, spec_path);
  if (const json* c = member(*spec, "containers")) parse_container_ports(*c, join(spec_path, "containers"), pod.ports, false);
  if (const json* c = member(*spec, "initContainers")) {
    parse_container_ports(*c, join(spec_path, "initContainers"), pod.ports, true);
  }
  if (const json* h = member(*spec, "hostNetwork")) {
    if (!h->is_boolean()) fail(join(spec_path, "hostNetwork"), std::string("expected a boolean, got ") + type_name(*h));
    pod.host_network = h->get<bool>();
  }
}

}  // namespace

Labels parse_labels(const json& v, const std::string& path) {
  want_object(v, path);
  Labels labels;
  for (auto& [key, value] : v.items()) {
    if (!value.is_string()) {
      fail(path + "." + key, std::string("label values must be strings, got ") + type_name(value) +
                                 " (quote it in YAML)");
    }
    const auto& text = value.get_ref<const std::string&>();
    if (!is_qualified_name(key)) {
      fail(path + "." + key, "is not a valid label key ([prefix/]name, name: 1-63 of A-Z a-z 0-9 - _ .)");
    }
    if (!is_label_value(text)) {
      fail(path + "." + key, "\"" + text + "\" is not a valid label value (at most 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)");
    }
    labels.emplace(key, text);
  }
  return labels;
}

ObjectMeta parse_meta(const json& obj, bool namespaced) {
  const json* meta = member(obj, "metadata");
  if (!meta) fail("metadata", "required");
  want_object(*meta, "metadata");
  ObjectMeta out;
  const json* name = member(*meta, "name");
  if (!name || want_string(*name, "metadata.name").empty()) fail("metadata.name", "required");
  out.name = name->get<std::string>();
  // Namespaces are DNS labels, namespaced objects DNS subdomains (Pod, NetworkPolicy, workloads).
  if (namespaced ? !is_dns1123_subdomain(out.name) : !is_dns1123_label(out.name)) {
    fail("metadata.name", "\"" + out.name + "\" is not a valid name (lower-case alphanumerics, '-'" +
                              (namespaced ? std::string(" and '.'") : std::string()) + ", alphanumeric at both ends)");
  }
  if (namespaced) {
    out.ns = "default";
    if (const json* ns = member(*meta, "namespace")) {
      out.ns = want_string(*ns, "metadata.namespace");
      if (out.ns.empty()) out.ns = "default";
      if (!is_dns1123_label(out.ns)) fail("metadata.namespace", "\"" + out.ns + "\" is not a valid namespace name");
    }
  }
  if (const json* owners = member(*meta, "ownerReferences")) {
    want_array(*owners, "metadata.ownerReferences");
    for (std::size_t i = 0; i < owners->size(); ++i) {
      const json& o = (*owners)[i];
      if (!o.is_object()) continue;
      const json* controller = member(o, "controller");
      const json* kind = member(o, "kind");
      const json* oname = member(o, "name");
      if (controller && controller->is_boolean() && controller->get<bool>() && kind && kind->is_string() && oname &&
          oname->is_string()) {
        out.controller = OwnerRef{kind->get<std::string>(), oname->get<std::string>()};
      }
    }
  }
  return out;
}

Namespace parse_namespace(const json& obj) {
  Namespace ns;
  ns.name = parse_meta(obj, false).name;
  if (const json* labels = member(obj["metadata"], "labels")) ns.labels = parse_labels(*labels, "metadata.labels");
  ns.declared = true;
  return ns;
}

Pod parse_pod(const json& obj) {
  ObjectMeta meta = parse_meta(obj, true);
  Pod pod;
  pod.ns = meta.ns;
  pod.name = meta.name;
  parse_pod_body(member(obj, "metadata"), "metadata", member(obj, "spec"), "spec", pod);
  if (const json* status = member(obj, "status")) {
    want_object(*status, "status");
    auto add_ip = [&](const json& v, const std::string& path) {
      const auto& text = want_string(v, path);
      auto ip = IpAddr::parse(text);
      if (!ip) fail(path, "\"" + text + "\" is not an IP address");
      if (std::find(pod.ips.begin(), pod.ips.end(), *ip) == pod.ips.end()) pod.ips.push_back(*ip);
    };
    if (const json* ip = member(*status, "podIP")) add_ip(*ip, "status.podIP");
    if (const json* ips = member(*status, "podIPs")) {
      want_array(*ips, "status.podIPs");
      for (std::size_t i = 0; i < ips->size(); ++i) {
        const std::string p = index("status.podIPs", i);
        const json& entry = want_object((*ips)[i], p);
        if (const json* ip = member(entry, "ip")) add_ip(*ip, join(p, "ip"));
      }
    }
  }
  return pod;
}

Pod parse_workload_template(const json& obj, const std::string& kind) {
  ObjectMeta meta = parse_meta(obj, true);
  Pod pod;
  pod.ns = meta.ns;
  pod.name = meta.name;
  pod.kind = kind;
  const json* spec = member(obj, "spec");
  if (!spec) fail("spec", "required");
  want_object(*spec, "spec");
  std::string path = "spec";
  if (kind == "CronJob") {
    const json* job = member(*spec, "jobTemplate");
    if (!job) fail("spec.jobTemplate", "required");
    want_object(*job, "spec.jobTemplate");
    spec = member(*job, "spec");
    path = "spec.jobTemplate.spec";
    if (!spec) fail(path, "required");
    want_object(*spec, path);
  }
  const json* tmpl = member(*spec, "template");
  path = join(path, "template");
  if (!tmpl) fail(path, "required");
  want_object(*tmpl, path);
  parse_pod_body(member(*tmpl, "metadata"), join(path, "metadata"), member(*tmpl, "spec"), join(path, "spec"), pod);
  return pod;
}

// Kubernetes defaulting of policyTypes (SetDefaults_NetworkPolicy): when omitted or empty, Ingress
// always, and Egress when the policy has at least one egress rule (`egress: []` does not count).
NetworkPolicy parse_network_policy(const json& obj) {
  ObjectMeta meta = parse_meta(obj, true);
  NetworkPolicy pol;
  pol.ns = meta.ns;
  pol.name = meta.name;
  if (const json* ts = member(obj["metadata"], "creationTimestamp")) {
    pol.creation_timestamp = want_string(*ts, "metadata.creationTimestamp");
    if (!is_rfc3339_utc(pol.creation_timestamp)) {
      fail("metadata.creationTimestamp", "\"" + pol.creation_timestamp +
                                             "\" is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)");
    }
  }
  const json* spec = member(obj, "spec");
  if (!spec) fail("spec", "required");
  want_object(*spec, "spec");
  if (const json* sel = member(*spec, "podSelector")) pol.pod_selector = parse_selector(*sel, "spec.podSelector");
  const json* ingress = member(*spec, "ingress");
  const json* egress = member(*spec, "egress");
  if (ingress) pol.ingress = parse_rules(*ingress, "spec.ingress", "from");
  if (egress) pol.egress = parse_rules(*egress, "spec.egress", "to");
  if (const json* types = member(*spec, "policyTypes")) {
    want_array(*types, "spec.policyTypes");
    for (std::size_t i = 0; i < types->size(); ++i) {
      const std::string p = index("spec.policyTypes", i);
      const auto& t = want_string((*types)[i], p);
      if (t == "Ingress") pol.affects_ingress = true;
      else if (t == "Egress") pol.affects_egress = true;
      else fail(p, "must be Ingress or Egress, got \"" + t + "\"");
    }
  }
  if (!pol.affects_ingress && !pol.affects_egress) {
    pol.affects_ingress = true;
    pol.affects_egress = !pol.egress.empty();
  }
  return pol;
}

}  // namespace npv::detail
