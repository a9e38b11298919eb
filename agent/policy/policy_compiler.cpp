// Compiles a ClusterState into PolicyEngine::Index. Peers are resolved to pod sets once, and
// identical peers (same namespace scope and selectors) share one set.
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "policy/policy_index.hpp"

namespace npv {

namespace {

class Compiler {
 public:
  explicit Compiler(const ClusterState& c) : cluster_(c) {
    // Pods are sorted by namespace (ClusterState::finalize), so each namespace is a range.
    ns_begin_.assign(c.namespaces.size() + 1, 0);
    for (PodId p = 0; p < c.pods.size(); ++p) ++ns_begin_[c.namespace_of(p) + 1];
    for (std::size_t i = 1; i < ns_begin_.size(); ++i) ns_begin_[i] += ns_begin_[i - 1];
  }

  void run(PolicyEngine::Index& index) {
    pod_sets_ = &index.pod_sets;
    const auto& pods = cluster_.pods;
    index.named_ports.resize(pods.size());
    for (PodId p = 0; p < pods.size(); ++p) {
      for (const auto& cp : pods[p].ports) {
        if (!cp.name.empty()) index.named_ports[p].push_back({intern_name(cp.name), cp.proto, cp.port});
      }
    }
    std::vector<std::vector<std::uint32_t>> ingress(pods.size()), egress(pods.size());
    for (std::uint32_t i = 0; i < cluster_.policies.size(); ++i) {
      const NetworkPolicy& pol = cluster_.policies[i];
      CompiledPolicy compiled;
      if (pol.affects_ingress) compiled.ingress = compile_rules(pol, pol.ingress);
      if (pol.affects_egress) compiled.egress = compile_rules(pol, pol.egress);
      index.policies.push_back(std::move(compiled));
      auto ns = cluster_.find_namespace(pol.ns);
      for (PodId p = ns_begin_[*ns]; p < ns_begin_[*ns + 1]; ++p) {
        if (!pol.pod_selector.matches(pods[p].labels)) continue;
        if (pol.affects_ingress) ingress[p].push_back(i);
        if (pol.affects_egress) egress[p].push_back(i);
      }
    }
    flatten(ingress, index.ingress_offsets, index.ingress_ids);
    flatten(egress, index.egress_offsets, index.egress_ids);
  }

 private:
  std::uint32_t intern_name(const std::string& name) {
    return names_.emplace(name, static_cast<std::uint32_t>(names_.size())).first->second;
  }

  std::vector<CompiledRule> compile_rules(const NetworkPolicy& pol, const std::vector<PolicyRule>& rules) {
    std::vector<CompiledRule> out;
    for (const auto& rule : rules) {
      CompiledRule cr;
      cr.all_peers = rule.peers.empty();
      cr.all_ports = rule.ports.empty();
      for (const auto& peer : rule.peers) {
        if (peer.ip_block) {
          cr.peers.push_back({nullptr, &*peer.ip_block});
        } else {
          cr.peers.push_back({&selector_pods(pol.ns, peer), nullptr});
        }
      }
      for (const auto& port : rule.ports) {
        CompiledPort cp{port.kind, port.proto, port.port, port.end_port, kNoName};
        if (port.kind == PolicyPort::Kind::kNamed) {
          // A name no pod declares can never match; it needs no id of its own.
          auto it = names_.find(port.name);
          cp.name_id = it == names_.end() ? kNoName : it->second;
        }
        cr.ports.push_back(cp);
      }
      out.push_back(std::move(cr));
    }
    return out;
  }

  // Pods selected by a selector peer of a policy in namespace `policy_ns`.
  const PodSet& selector_pods(const std::string& policy_ns, const PolicyPeer& peer) {
    std::string key = peer.namespace_selector ? "ns:" + peer.namespace_selector->to_string() : "in:" + policy_ns;
    key += "|pod:" + (peer.pod_selector ? peer.pod_selector->to_string() : std::string("*"));
    auto it = peer_sets_.find(key);
    if (it != peer_sets_.end()) return *it->second;

    std::vector<PodId> ids;
    auto add_namespace = [&](NamespaceId ns) {
      for (PodId p = ns_begin_[ns]; p < ns_begin_[ns + 1]; ++p) {
        if (!peer.pod_selector || peer.pod_selector->matches(cluster_.pods[p].labels)) ids.push_back(p);
      }
    };
    if (peer.namespace_selector) {
      for (NamespaceId ns = 0; ns < cluster_.namespaces.size(); ++ns) {
        if (peer.namespace_selector->matches(cluster_.namespaces[ns].labels)) add_namespace(ns);
      }
    } else {
      add_namespace(*cluster_.find_namespace(policy_ns));
    }
    pod_sets_->emplace_back(std::move(ids), cluster_.pods.size());
    peer_sets_.emplace(std::move(key), &pod_sets_->back());
    return pod_sets_->back();
  }

  static void flatten(const std::vector<std::vector<std::uint32_t>>& lists, std::vector<std::uint32_t>& offsets,
                      std::vector<std::uint32_t>& ids) {
    offsets.assign(1, 0);
    for (const auto& l : lists) {
      ids.insert(ids.end(), l.begin(), l.end());
      offsets.push_back(static_cast<std::uint32_t>(ids.size()));
    }
  }

  const ClusterState& cluster_;
  std::vector<PodId> ns_begin_;
  std::unordered_map<std::string, std::uint32_t> names_;
  std::deque<PodSet>* pod_sets_ = nullptr;  // the index's; a deque keeps addresses stable
  std::unordered_map<std::string, const PodSet*> peer_sets_;
};

}  // namespace

std::unique_ptr<PolicyEngine::Index> PolicyEngine::Index::compile(const ClusterState& cluster) {
  auto index = std::make_unique<Index>();
  Compiler(cluster).run(*index);
  return index;
}

std::size_t PolicyEngine::Index::memory_bytes() const {
  std::size_t bytes = (ingress_offsets.capacity() + ingress_ids.capacity() + egress_offsets.capacity() +
                       egress_ids.capacity()) * sizeof(std::uint32_t);
  for (const auto& s : pod_sets) bytes += sizeof(PodSet) + s.memory_bytes();
  for (const auto& n : named_ports) bytes += sizeof(n) + n.capacity() * sizeof(NamedPort);
  for (const auto& p : policies) {
    bytes += sizeof(p);
    for (const auto* rules : {&p.ingress, &p.egress}) {
      for (const auto& r : *rules) {
        bytes += sizeof(r) + r.peers.capacity() * sizeof(CompiledPeer) + r.ports.capacity() * sizeof(CompiledPort);
      }
    }
  }
  return bytes;
}

}  // namespace npv
