// Which CNI (or NetworkPolicy engine) the node agents show, and whether it enforces NetworkPolicy.
//
// Each recogniser looks at one DaemonSet (or DaemonSet pod) by container names and images; the
// claims, with their sources, are in the README ("npv audit", CNI detection):
//  C1  Calico (container calico-node, image calico/node): enforces. A DaemonSet "canal", or
//      calico-node next to kube-flannel in one pod, is Canal: Calico enforcing over Flannel.
//  C2  Cilium (container cilium-agent, image cilium/cilium): enforces unless its arguments say
//      --enable-policy=never (the cilium-config ConfigMap, which may say so too, is not read).
//      DaemonSet "anetd" (GKE Dataplane V2, Cilium-based): enforces, always on.
//  C3  Antrea (antrea-agent): enforces.
//  C4  Weave Net (container weave, image weaveworks/weave-kube): enforces iff a weave-npc
//      container (the policy controller) runs beside it.
//  C5  kube-router (container/image kube-router): enforces unless --run-firewall=false (default true).
//  C6  Azure NPM (azure-npm): enforces.
//  C7  kube-network-policies (container/image kube-network-policies): enforces.
//  C8  Flannel (kube-flannel, image .../flannel): does not enforce NetworkPolicy.
//  C9  kindnet (kindnet-cni, image kindnetd): --network-policy=true enforces, =false does not; no
//      argument: unknown (the default differs between kind's kindnetd and the standalone kindnet).
//  C10 AWS VPC CNI (aws-node, image amazon-k8s-cni): enforces iff its network policy agent
//      container (aws-eks-nodeagent, image aws-network-policy-agent) runs with
//      --enable-network-policy=true (the agent's default is false); without the agent (VPC CNI
//      before v1.14) it does not.
//  C11 The cluster enforces when any component enforces (a policy engine beside a plain CNI);
//      else unknown when any is unknown or nothing was recognised; else it does not.
#include <algorithm>
#include <initializer_list>
#include <set>
#include <tuple>

#include "npv/audit.hpp"

namespace npv {

namespace {

// The image without its tag or digest ("quay.io/calico/node:v3.27@sha256:..." -> "quay.io/calico/node").
std::string_view repository(std::string_view image) {
  if (auto at = image.find('@'); at != std::string_view::npos) image = image.substr(0, at);
  auto colon = image.rfind(':');
  if (colon != std::string_view::npos && image.find('/', colon) == std::string_view::npos) image = image.substr(0, colon);
  return image;
}

// The first container named `name`, or whose image repository ends with one of `repos` (after a
// '/' or at the start, so "calico/node" does not match "mycalico/node").
const ContainerInfo* container(const NodeAgent& a, std::string_view name, std::initializer_list<std::string_view> repos) {
  for (const auto& c : a.containers) {
    if (c.name == name) return &c;
    std::string_view repo = repository(c.image);
    for (std::string_view r : repos) {
      if (repo.ends_with(r) && (repo.size() == r.size() || repo[repo.size() - r.size() - 1] == '/' || r.front() == '-')) return &c;
    }
  }
  return nullptr;
}

// The value of --flag=value, "" for a bare --flag, std::nullopt when absent (last one wins).
std::optional<std::string> flag(const ContainerInfo& c, std::string_view name) {
  std::optional<std::string> value;
  for (std::size_t i = 0; i < c.args.size(); ++i) {
    std::string_view arg = c.args[i];
    if (arg.starts_with("--")) arg.remove_prefix(2);
    else if (arg.starts_with("-")) arg.remove_prefix(1);
    else continue;
    if (arg == name) value = "";
    else if (arg.starts_with(name) && arg.size() > name.size() && arg[name.size()] == '=') value = std::string(arg.substr(name.size() + 1));
  }
  return value;
}

std::string describe(const ContainerInfo& c) { return "container " + c.name + (c.image.empty() ? "" : " (" + c.image + ")"); }

CniComponent component(const NodeAgent& a, std::string name, Enforcement e, std::string evidence) {
  return {std::move(name), e, std::move(evidence), ObjectRef{a.kind, a.ns, a.name, {}, a.origin}};
}

// Every component one node agent shows (a pod may run several, e.g. Canal).
void recognise(const NodeAgent& a, std::vector<CniComponent>& out) {
  const auto* calico = container(a, "calico-node", {"calico/node"});
  // Flannel images: flannel/flannel, flannel-io/flannel, coreos/flannel, rancher/mirrored-flannelcni-flannel.
  const auto* flannel = container(a, "kube-flannel", {"flannel", "-flannel"});
  if (calico && (flannel || a.daemonset == "canal")) {  // [C1]
    out.push_back(component(a, "Canal (Calico policy, Flannel networking)", Enforcement::kEnforces, describe(*calico)));
    return;
  }
  if (calico) out.push_back(component(a, "Calico", Enforcement::kEnforces, describe(*calico)));
  if (a.daemonset == "anetd") {  // [C2]
    out.push_back(component(a, "GKE Dataplane V2 (anetd)", Enforcement::kEnforces,
                            "DaemonSet anetd: NetworkPolicy is always on with Dataplane V2"));
  } else if (const auto* cilium = container(a, "cilium-agent", {"cilium/cilium"})) {
    auto mode = flag(*cilium, "enable-policy");
    if (mode && *mode == "never") {
      out.push_back(component(a, "Cilium", Enforcement::kDoesNotEnforce, describe(*cilium) + " with --enable-policy=never"));
    } else {
      out.push_back(component(a, "Cilium", Enforcement::kEnforces, describe(*cilium)));
    }
  }
  if (const auto* antrea = container(a, "antrea-agent", {})) {  // [C3]
    out.push_back(component(a, "Antrea", Enforcement::kEnforces, describe(*antrea)));
  }
  if (const auto* weave = container(a, "weave", {"weaveworks/weave-kube"})) {  // [C4]
    const auto* npc = container(a, "weave-npc", {"weaveworks/weave-npc"});
    out.push_back(npc ? component(a, "Weave Net", Enforcement::kEnforces, describe(*npc))
                      : component(a, "Weave Net", Enforcement::kDoesNotEnforce,
                                  describe(*weave) + " without the weave-npc policy controller"));
  }
  if (const auto* router = container(a, "kube-router", {"cloudnativelabs/kube-router"})) {  // [C5]
    auto firewall = flag(*router, "run-firewall");
    bool off = firewall && *firewall == "false";
    out.push_back(component(a, "kube-router", off ? Enforcement::kDoesNotEnforce : Enforcement::kEnforces,
                            describe(*router) + (off ? " with --run-firewall=false" : "")));
  }
  if (const auto* npm = container(a, "azure-npm", {"containernetworking/azure-npm"})) {  // [C6]
    out.push_back(component(a, "Azure Network Policy Manager", Enforcement::kEnforces, describe(*npm)));
  }
  if (const auto* knp = container(a, "kube-network-policies", {"kube-network-policies"})) {  // [C7]
    out.push_back(component(a, "kube-network-policies", Enforcement::kEnforces, describe(*knp)));
  }
  if (flannel && !calico) {  // [C8]
    out.push_back(component(a, "Flannel", Enforcement::kDoesNotEnforce,
                            describe(*flannel) + ": Flannel does not implement NetworkPolicy"));
  }
  if (const auto* kindnet = container(a, "kindnet-cni", {"kindnetd"})) {  // [C9]
    auto np = flag(*kindnet, "network-policy");
    if (np && (np->empty() || *np == "true")) {
      out.push_back(component(a, "kindnet", Enforcement::kEnforces, describe(*kindnet) + " with --network-policy"));
    } else if (np && *np == "false") {
      out.push_back(component(a, "kindnet", Enforcement::kDoesNotEnforce, describe(*kindnet) + " with --network-policy=false"));
    } else {
      out.push_back(component(a, "kindnet", Enforcement::kUnknown,
                              describe(*kindnet) + " without --network-policy: enforcement depends on the kindnet "
                                                   "version (kind enables it from v0.24.0)"));
    }
  }
  if (const auto* aws = container(a, "aws-node", {"amazon-k8s-cni"})) {  // [C10]
    const auto* agent = container(a, "aws-eks-nodeagent", {"aws-network-policy-agent"});
    if (!agent) {
      out.push_back(component(a, "AWS VPC CNI", Enforcement::kDoesNotEnforce,
                              describe(*aws) + " without the network policy agent container (aws-eks-nodeagent)"));
    } else {
      auto enabled = flag(*agent, "enable-network-policy");
      bool on = enabled && (enabled->empty() || *enabled == "true");
      out.push_back(component(a, "AWS VPC CNI", on ? Enforcement::kEnforces : Enforcement::kDoesNotEnforce,
                              describe(*agent) + (on ? " with --enable-network-policy=true"
                                                     : " without --enable-network-policy=true (default false)")));
    }
  }
}

}  // namespace

CniDetection detect_cni(const ClusterState& cluster) {
  CniDetection d;
  d.node_agents = cluster.node_agents.size();
  // One entry per (namespace, DaemonSet, component): a DaemonSet and its pods say the same thing.
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (const auto& a : cluster.node_agents) {
    std::vector<CniComponent> found;
    recognise(a, found);
    for (auto& c : found) {
      if (seen.emplace(a.ns, a.daemonset, c.name).second) d.components.push_back(std::move(c));
    }
  }
  auto any = [&](Enforcement e) {
    return std::any_of(d.components.begin(), d.components.end(), [&](const CniComponent& c) { return c.enforcement == e; });
  };
  if (any(Enforcement::kEnforces)) d.enforcement = Enforcement::kEnforces;  // [C11]
  else if (d.components.empty() || any(Enforcement::kUnknown)) d.enforcement = Enforcement::kUnknown;
  else d.enforcement = Enforcement::kDoesNotEnforce;

  if (d.components.empty()) {
    d.summary = d.node_agents == 0 ? "not detected: the input has no DaemonSets or DaemonSet pods "
                                     "(audit a 'kubectl get ns,pods,ds,netpol -A -o yaml' dump to detect it)"
                                   : "not recognised among " + std::to_string(d.node_agents) + " DaemonSet(s)/pod(s)";
    return d;
  }
  for (std::size_t i = 0; i < d.components.size(); ++i) {
    const auto& c = d.components[i];
    d.summary += (i ? "; " : "") + c.name + " (" + c.object.ns + "/" + c.object.name + "): " + to_string(c.enforcement);
  }
  d.summary += std::string(" => NetworkPolicy ") +
               (d.enforcement == Enforcement::kEnforces         ? "enforced"
                : d.enforcement == Enforcement::kDoesNotEnforce ? "NOT enforced"
                                                                : "enforcement unknown");
  return d;
}

}  // namespace npv
