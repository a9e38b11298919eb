// describe_tier_policy() of random_cluster.hpp: a tier policy as compact text for failure messages.
#include "support/random_cluster.hpp"

namespace npv::test {

std::string describe_tier_policy(const TierPolicy& policy) {
  std::string out = policy.ref() + ": tier " + to_string(policy.tier) + " priority " + std::to_string(policy.priority) +
                    " subject {ns " + policy.subject.namespace_selector.to_string() + " pod " +
                    policy.subject.pod_selector.to_string() + "}";
  auto rules = [&](const char* dir, const std::vector<TierRule>& list) {
    for (std::size_t r = 0; r < list.size(); ++r) {
      out += "\n  " + std::string(dir) + "[" + std::to_string(r) + "] " + to_string(list[r].action) + ": peers [";
      for (const TierPeer& p : list[r].peers) {
        switch (p.kind) {
          case TierPeer::Kind::kNamespaces: out += " {namespaces " + p.namespace_selector.to_string() + "}"; break;
          case TierPeer::Kind::kPods:
            out += " {pods ns " + p.namespace_selector.to_string() + " pod " + p.pod_selector.to_string() + "}";
            break;
          case TierPeer::Kind::kNetworks:
            out += " {networks";
            for (const Cidr& c : p.networks) out += " " + c.to_string();
            out += "}";
            break;
          default: out += " {nodes/domainNames}"; break;
        }
      }
      out += " ] ports [";
      for (const TierPort& tp : list[r].ports) {
        if (tp.kind == TierPort::Kind::kNamed) out += " " + tp.name;
        else out += " " + std::to_string(tp.port) + "-" + std::to_string(tp.end_port) + "/" + to_string(tp.proto);
      }
      out += " ]";
    }
  };
  rules("ingress", policy.ingress);
  rules("egress", policy.egress);
  return out;
}

}  // namespace npv::test
