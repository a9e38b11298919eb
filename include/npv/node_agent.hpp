// Node agents: the DaemonSets of the input, and the pods a DaemonSet controls, as far as telling
// which CNI runs on the cluster needs them (container names, images, arguments, literal env).
//
// The loader keeps them in ClusterState::node_agents; `npv audit` reads them to decide whether the
// CNI can enforce NetworkPolicy. Nothing else uses them, and they never become pods of the model by
// themselves (a DaemonSet's pod template still does, like every workload's).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "npv/selector.hpp"

namespace npv {

struct ContainerInfo {
  std::string name;
  std::string image;                                      // as written, e.g. "quay.io/cilium/cilium:v1.15.6"
  std::vector<std::string> args;                          // command then args, in order
  std::vector<std::pair<std::string, std::string>> env;   // entries with a literal `value` only
  bool init = false;                                      // from initContainers
};

struct NodeAgent {
  std::string kind;       // "DaemonSet", or "Pod" for a pod a DaemonSet controls
  std::string ns;
  std::string name;
  std::string daemonset;  // the DaemonSet's name (its own name for kind DaemonSet)
  Labels labels;          // the pod template's labels (DaemonSet) or the pod's
  std::vector<ContainerInfo> containers;
  std::string origin;     // file (and document) it came from, like every model object

  std::string ref() const { return ns + "/" + name; }
};

}  // namespace npv
