// Compiles a ClusterState into PolicyEngine::Index. Selectors are matched with integer-coded labels
// (label_codec.hpp); every distinct peer (namespace scope + selectors) is resolved to a pod set
// once and shared.
#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

#include "policy/label_codec.hpp"
#include "policy/policy_index.hpp"

namespace npv {

namespace {

class Compiler {
 public:
  Compiler(const ClusterState& c, PolicyEngine::Index& index) : cluster_(c), index_(index) {
    // Pods are sorted by namespace (ClusterState::finalize), so each namespace is a range.
    ns_begin_.assign(c.namespaces.size() + 1, 0);
    for (PodId p = 0; p < c.pods.size(); ++p) ++ns_begin_[c.namespace_of(p) + 1];
    for (std::size_t i = 1; i < ns_begin_.size(); ++i) ns_begin_[i] += ns_begin_[i - 1];
    for (const auto& pod : c.pods) pod_labels_.push_back(codec_.encode(pod.labels));
    for (const auto& ns : c.namespaces) ns_labels_.push_back(codec_.encode(ns.labels));
  }

  void run() {
    const auto& pods = cluster_.pods;
    index_.named_ports.resize(pods.size());
    for (PodId p = 0; p < pods.size(); ++p) {
      for (const auto& cp : pods[p].ports) {
        if (!cp.name.empty()) index_.named_ports[p].push_back({intern_port_name(cp.name), cp.proto, cp.port});
      }
    }
    std::vector<std::vector<std::uint32_t>> isolating[2] = {std::vector<std::vector<std::uint32_t>>(pods.size()),
                                                            std::vector<std::vector<std::uint32_t>>(pods.size())};
    // All ingress rules, then all egress rules, so that each policy's rules of one direction form
    // the range first_rule[d][p] .. first_rule[d][p + 1]. Rules of a direction the policy does not
    // affect are never consulted: they compile to an empty range.
    static const std::vector<PolicyRule> kNone;
    for (const auto& pol : cluster_.policies) compile_rules(pol, pol.affects_ingress ? pol.ingress : kNone, 0);
    index_.first_rule[0].push_back(static_cast<std::uint32_t>(index_.rules.size()));  // sentinel
    for (const auto& pol : cluster_.policies) compile_rules(pol, pol.affects_egress ? pol.egress : kNone, 1);
    index_.first_rule[1].push_back(static_cast<std::uint32_t>(index_.rules.size()));  // sentinel
    for (std::uint32_t i = 0; i < cluster_.policies.size(); ++i) {
      const NetworkPolicy& pol = cluster_.policies[i];
      const EncodedSelector& selector = selector_for(pol.pod_selector);
      NamespaceId ns = *cluster_.find_namespace(pol.ns);
      for (PodId p = ns_begin_[ns]; p < ns_begin_[ns + 1]; ++p) {
        if (!selector.matches(pod_labels_[p])) continue;
        if (pol.affects_ingress) isolating[0][p].push_back(i);
        if (pol.affects_egress) isolating[1][p].push_back(i);
      }
    }
    for (int d = 0; d < 2; ++d) {
      flatten(isolating[d], index_.isolating[d]);
      // Each pod's rules: the concatenated rule ranges of its isolating policies.
      auto& offsets = index_.pod_rule_offsets[d];
      auto& rules = index_.pod_rules[d];
      offsets.assign(1, 0);
      for (PodId p = 0; p < pods.size(); ++p) {
        for (std::uint32_t pol : isolating[d][p]) {
          for (std::uint32_t r = index_.first_rule[d][pol]; r < index_.first_rule[d][pol + 1]; ++r) {
            rules.push_back(index_.rules[r]);
          }
        }
        offsets.push_back(static_cast<std::uint32_t>(rules.size()));
      }
    }
    compile_tiers();
  }

 private:
  std::uint32_t intern_port_name(const std::string& name) {
    return port_names_.emplace(name, static_cast<std::uint32_t>(port_names_.size())).first->second;
  }

  const EncodedSelector& selector_for(const LabelSelector& s) {
    auto key = s.to_string();
    auto it = selectors_.find(key);
    if (it == selectors_.end()) it = selectors_.emplace(std::move(key), codec_.encode(s)).first;
    return it->second;
  }

  // Appends the rules of one policy and direction; records where they start.
  void compile_rules(const NetworkPolicy& pol, const std::vector<PolicyRule>& rules, int dir) {
    index_.first_rule[dir].push_back(static_cast<std::uint32_t>(index_.rules.size()));
    for (const auto& rule : rules) {
      CompiledRule cr{};
      cr.peers_begin = static_cast<std::uint32_t>(index_.peers.size());
      for (const auto& peer : rule.peers) {
        if (peer.ip_block) {
          index_.peers.push_back({ip_block_pods(*peer.ip_block).view(), &*peer.ip_block});
        } else {
          index_.peers.push_back({selector_pods(pol.ns, peer).view(), nullptr});
        }
      }
      cr.peers_end = static_cast<std::uint32_t>(index_.peers.size());
      cr.ports_begin = static_cast<std::uint32_t>(index_.ports.size());
      for (const auto& port : rule.ports) {
        CompiledPort cp{port.kind, port.proto, port.port, port.end_port, kNoName};
        if (port.kind == PolicyPort::Kind::kNamed) {
          // A name no pod declares can never match; it needs no id of its own.
          auto it = port_names_.find(port.name);
          cp.name_id = it == port_names_.end() ? kNoName : it->second;
        }
        index_.ports.push_back(cp);
      }
      cr.ports_end = static_cast<std::uint32_t>(index_.ports.size());
      index_.rules.push_back(cr);
    }
  }

  const std::vector<NamespaceId>& namespaces_for(const LabelSelector& s) {
    auto key = s.to_string();
    auto it = namespace_lists_.find(key);
    if (it != namespace_lists_.end()) return it->second;
    const EncodedSelector& selector = selector_for(s);
    std::vector<NamespaceId> out;
    for (NamespaceId ns = 0; ns < cluster_.namespaces.size(); ++ns) {
      if (selector.matches(ns_labels_[ns])) out.push_back(ns);
    }
    return namespace_lists_.emplace(std::move(key), std::move(out)).first->second;
  }

  // Pods selected by a selector peer of a policy in namespace `policy_ns` ([R9][R10][R11]).
  const PodSet& selector_pods(const std::string& policy_ns, const PolicyPeer& peer) {
    std::string key = peer.namespace_selector ? "ns:" + peer.namespace_selector->to_string() : "in:" + policy_ns;
    key += "|pod:" + (peer.pod_selector ? peer.pod_selector->to_string() : std::string("*"));
    auto it = peer_sets_.find(key);
    if (it != peer_sets_.end()) return *it->second;

    const EncodedSelector* pod_selector = peer.pod_selector ? &selector_for(*peer.pod_selector) : nullptr;
    std::vector<PodId> ids;
    auto add_namespace = [&](NamespaceId ns) {
      for (PodId p = ns_begin_[ns]; p < ns_begin_[ns + 1]; ++p) {
        if (!pod_selector || pod_selector->matches(pod_labels_[p])) ids.push_back(p);
      }
    };
    if (peer.namespace_selector) {
      for (NamespaceId ns : namespaces_for(*peer.namespace_selector)) add_namespace(ns);
    } else {
      add_namespace(*cluster_.find_namespace(policy_ns));
    }
    index_.pod_sets.emplace_back(std::move(ids), cluster_.pods.size());
    peer_sets_.emplace(std::move(key), &index_.pod_sets.back());
    return index_.pod_sets.back();
  }

  // Pods having any IP inside `block` ([R12] for a pod endpoint without the flow's own IP).
  const PodSet& ip_block_pods(const IpBlock& block) {
    std::string key = "ip:" + block.cidr.to_string();
    for (const auto& e : block.except) key += "!" + e.to_string();
    if (auto found = peer_sets_.find(key); found != peer_sets_.end()) return *found->second;
    if (pod_ips_.empty()) {
      for (PodId p = 0; p < cluster_.pods.size(); ++p) {
        for (const auto& ip : cluster_.pods[p].ips) pod_ips_.emplace_back(ip, p);
      }
      std::sort(pod_ips_.begin(), pod_ips_.end());
    }
    // Addresses sort by family then bytes, so a block is one contiguous range of pod_ips_.
    IpAddr last = block.cidr.base;
    for (int bit = block.cidr.prefix; bit < last.bit_width(); ++bit) last.bytes[bit / 8] |= 0x80 >> (bit % 8);
    auto it = std::lower_bound(pod_ips_.begin(), pod_ips_.end(), std::make_pair(block.cidr.base, PodId{0}));
    std::vector<PodId> ids;
    for (; it != pod_ips_.end() && it->first <= last; ++it) {
      // Inside cidr by construction; only `except` remains to check.
      bool excepted = false;
      for (const auto& e : block.except) excepted = excepted || e.contains(it->first);
      if (!excepted) ids.push_back(it->second);
    }
    index_.pod_sets.emplace_back(std::move(ids), cluster_.pods.size());
    peer_sets_.emplace(std::move(key), &index_.pod_sets.back());
    return index_.pod_sets.back();
  }

  // [T2][T3] the pods a tier policy's subject selects: hostNetwork pods never are.
  std::vector<PodId> tier_subject_pods(const TierSubject& subject) {
    const EncodedSelector& pod_selector = selector_for(subject.pod_selector);
    std::vector<PodId> out;
    for (NamespaceId ns : namespaces_for(subject.namespace_selector)) {
      for (PodId p = ns_begin_[ns]; p < ns_begin_[ns + 1]; ++p) {
        if (!cluster_.pods[p].host_network && pod_selector.matches(pod_labels_[p])) out.push_back(p);
      }
    }
    return out;
  }

  // [T7] namespaces and pods peers: the pods (not hostNetwork) in the matching namespaces.
  const PodSet& tier_peer_pods(const TierPeer& peer) {
    std::string key = "tier:" + peer.namespace_selector.to_string() + "|" + peer.pod_selector.to_string();
    if (auto it = peer_sets_.find(key); it != peer_sets_.end()) return *it->second;
    TierSubject as_subject{peer.namespace_selector, peer.pod_selector};
    index_.pod_sets.emplace_back(tier_subject_pods(as_subject), cluster_.pods.size());
    peer_sets_.emplace(std::move(key), &index_.pod_sets.back());
    return index_.pod_sets.back();
  }

  CompiledRule compile_tier_rule(const TierRule& rule) {
    CompiledRule cr{};
    cr.peers_begin = static_cast<std::uint32_t>(index_.peers.size());
    for (const auto& peer : rule.peers) {
      switch (peer.kind) {
        case TierPeer::Kind::kNamespaces:
        case TierPeer::Kind::kPods:
          index_.peers.push_back({tier_peer_pods(peer).view(), nullptr});
          break;
        case TierPeer::Kind::kNetworks:  // [T8] one peer per CIDR; pods match by their IPs
          for (const auto& cidr : peer.networks) {
            const IpBlock& block = index_.tier_networks.emplace_back(IpBlock{cidr, {}});
            index_.peers.push_back({ip_block_pods(block).view(), &block});
          }
          break;
        case TierPeer::Kind::kNodes:        // [T9] matches nothing: no pods, no IP block
        case TierPeer::Kind::kDomainNames:
          index_.peers.push_back({PodSetView{}, nullptr});
          break;
      }
    }
    cr.peers_end = static_cast<std::uint32_t>(index_.peers.size());
    cr.ports_begin = static_cast<std::uint32_t>(index_.ports.size());
    for (const auto& port : rule.ports) {
      if (port.kind == TierPort::Kind::kNumber) {
        index_.ports.push_back({PolicyPort::Kind::kNumber, port.proto, port.port, port.end_port, kNoName});
        continue;
      }
      // [T10] a named port has no protocol: one entry per protocol, each resolving the name.
      auto it = port_names_.find(port.name);
      const std::uint32_t id = it == port_names_.end() ? kNoName : it->second;
      for (Protocol proto : {Protocol::kTCP, Protocol::kUDP, Protocol::kSCTP}) {
        index_.ports.push_back({PolicyPort::Kind::kNamed, proto, 0, 0, id});
      }
    }
    cr.ports_end = static_cast<std::uint32_t>(index_.ports.size());
    return cr;
  }

  // The tier policies in ClusterState order (tier, then priority: evaluation order), their rules
  // appended to each subject pod's list.
  void compile_tiers() {
    const auto& pods = cluster_.pods;
    std::vector<std::vector<std::uint32_t>> lists[2][2];
    for (auto& per_tier : lists) {
      for (auto& l : per_tier) l.resize(pods.size());
    }
    for (std::uint32_t i = 0; i < cluster_.tier_policies.size(); ++i) {
      const TierPolicy& pol = cluster_.tier_policies[i];
      const std::vector<PodId> subjects = tier_subject_pods(pol.subject);
      for (int d = 0; d < 2; ++d) {
        const auto& rules = d == 0 ? pol.ingress : pol.egress;
        for (std::uint32_t r = 0; r < rules.size(); ++r) {
          const auto id = static_cast<std::uint32_t>(index_.tier_rules.size());
          index_.tier_rules.push_back({compile_tier_rule(rules[r]), rules[r].action, i, r});
          rule_direction_.push_back(d);
          for (PodId p : subjects) lists[tier_slot(pol.tier)][d][p].push_back(id);
        }
      }
    }
    for (int t = 0; t < 2; ++t) {
      for (int d = 0; d < 2; ++d) build_filter(lists[t][d], t, d, index_.tier_filters[t][d]);
    }
    for (int t = 0; t < 2; ++t) {
      for (int d = 0; d < 2; ++d) {
        TierLists& out = index_.tier_lists[t][d];
        out.begin.assign(pods.size(), 0);
        out.end.assign(pods.size(), 0);
        std::map<std::vector<std::uint32_t>, std::uint32_t> interned;
        for (PodId p = 0; p < pods.size(); ++p) {
          auto& l = lists[t][d][p];
          if (l.empty()) continue;
          auto [it, inserted] = interned.emplace(std::move(l), static_cast<std::uint32_t>(out.ids.size()));
          if (inserted) out.ids.insert(out.ids.end(), it->first.begin(), it->first.end());
          out.begin[p] = it->second;
          out.end[p] = it->second + static_cast<std::uint32_t>(it->first.size());
        }
      }
    }
  }

  // TierFilter for one tier and direction from the per-pod rule lists (before they are interned).
  void build_filter(const std::vector<std::vector<std::uint32_t>>& lists, int tier, int dir, TierFilter& f) {
    const auto pods = static_cast<std::uint32_t>(cluster_.pods.size());
    std::vector<std::uint32_t> local(index_.tier_rules.size(), UINT32_MAX);
    for (std::uint32_t id = 0; id < index_.tier_rules.size(); ++id) {
      const CompiledTierRule& r = index_.tier_rules[id];
      const TierPolicy& pol = cluster_.tier_policies[r.policy];
      if (tier_slot(pol.tier) != tier || rule_direction_[id] != dir) continue;
      local[id] = static_cast<std::uint32_t>(f.global.size());
      f.global.push_back(id);
    }
    f.words = static_cast<std::uint32_t>((f.global.size() + 63) / 64);
    if (f.words == 0) {
      f.subject_of.assign(pods, 0);
      return;
    }
    f.ip_rules.assign(f.words, 0);
    for (auto& bits : f.by_proto) bits.assign(f.words, 0);
    f.by_peer.assign(static_cast<std::size_t>(pods) * f.words, 0);
    f.by_peer_ip.assign(static_cast<std::size_t>(pods) * f.words, 0);
    for (std::uint32_t bit = 0; bit < f.global.size(); ++bit) {
      const CompiledRule& cr = index_.tier_rules[f.global[bit]].rule;
      for (int proto = 0; proto < kProtocolCount; ++proto) {
        bool any = cr.ports_begin == cr.ports_end;
        for (std::uint32_t i = cr.ports_begin; i < cr.ports_end; ++i) any = any || static_cast<int>(index_.ports[i].proto) == proto;
        if (any) f.by_proto[proto][bit / 64] |= std::uint64_t{1} << (bit % 64);
      }
      for (std::uint32_t i = cr.peers_begin; i < cr.peers_end; ++i) {
        const CompiledPeer& peer = index_.peers[i];
        if (peer.ip_block) {  // peer.pods: the pods with an IP in the block
          f.ip_rules[bit / 64] |= std::uint64_t{1} << (bit % 64);
          peer.pods.for_each([&](PodId q) { f.by_peer_ip[static_cast<std::size_t>(q) * f.words + bit / 64] |= std::uint64_t{1} << (bit % 64); });
          continue;
        }
        peer.pods.for_each([&](PodId q) { f.by_peer[static_cast<std::size_t>(q) * f.words + bit / 64] |= std::uint64_t{1} << (bit % 64); });
      }
    }
    std::map<std::vector<std::uint64_t>, std::uint32_t> interned;
    f.subject_of.assign(pods, 0);
    std::vector<std::uint64_t> bits(f.words);
    for (PodId p = 0; p < pods; ++p) {
      std::fill(bits.begin(), bits.end(), 0);
      for (std::uint32_t id : lists[p]) bits[local[id] / 64] |= std::uint64_t{1} << (local[id] % 64);
      auto [it, inserted] = interned.emplace(bits, static_cast<std::uint32_t>(f.subject.size()));
      if (inserted) f.subject.insert(f.subject.end(), bits.begin(), bits.end());
      f.subject_of[p] = it->second;
    }
  }

  static void flatten(const std::vector<std::vector<std::uint32_t>>& lists, PodLists& out) {
    out.offsets.assign(1, 0);
    for (const auto& l : lists) {
      out.ids.insert(out.ids.end(), l.begin(), l.end());
      out.offsets.push_back(static_cast<std::uint32_t>(out.ids.size()));
    }
  }

  const ClusterState& cluster_;
  PolicyEngine::Index& index_;
  LabelCodec codec_;
  std::vector<EncodedLabels> pod_labels_;
  std::vector<EncodedLabels> ns_labels_;
  std::vector<PodId> ns_begin_;
  std::unordered_map<std::string, std::uint32_t> port_names_;
  std::unordered_map<std::string, EncodedSelector> selectors_;
  std::unordered_map<std::string, std::vector<NamespaceId>> namespace_lists_;
  std::unordered_map<std::string, const PodSet*> peer_sets_;
  std::vector<std::pair<IpAddr, PodId>> pod_ips_;
  std::vector<int> rule_direction_;  // per tier rule: 0 ingress, 1 egress  // every pod IP, sorted; built on first use
};

}  // namespace

std::unique_ptr<PolicyEngine::Index> PolicyEngine::Index::compile(const ClusterState& cluster) {
  auto index = std::make_unique<Index>();
  Compiler(cluster, *index).run();
  return index;
}

std::size_t PolicyEngine::Index::memory_bytes() const {
  std::size_t bytes = rules.capacity() * sizeof(CompiledRule) + peers.capacity() * sizeof(CompiledPeer) +
                      ports.capacity() * sizeof(CompiledPort);
  for (int d = 0; d < 2; ++d) {
    bytes += first_rule[d].capacity() * sizeof(std::uint32_t);
    bytes += (isolating[d].offsets.capacity() + isolating[d].ids.capacity() + pod_rule_offsets[d].capacity()) *
             sizeof(std::uint32_t);
    bytes += pod_rules[d].capacity() * sizeof(CompiledRule);
  }
  for (const auto& s : pod_sets) bytes += sizeof(PodSet) + s.memory_bytes();
  for (const auto& n : named_ports) bytes += sizeof(n) + n.capacity() * sizeof(NamedPort);
  bytes += tier_rules.capacity() * sizeof(CompiledTierRule) + tier_networks.size() * sizeof(IpBlock);
  for (const auto& per_tier : tier_filters) {
    for (const auto& f : per_tier) {
      bytes += (f.subject.capacity() + f.by_peer.capacity() + f.by_peer_ip.capacity() + 4 * f.ip_rules.capacity()) *
                   sizeof(std::uint64_t) +
               (f.global.capacity() + f.subject_of.capacity()) * sizeof(std::uint32_t);
    }
  }
  for (const auto& per_tier : tier_lists) {
    for (const auto& l : per_tier) {
      bytes += (l.begin.capacity() + l.end.capacity() + l.ids.capacity()) * sizeof(std::uint32_t);
    }
  }
  return bytes;
}

}  // namespace npv
