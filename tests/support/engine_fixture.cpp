#include "support/engine_fixture.hpp"

#include <gtest/gtest.h>

#include <utility>

#include "support/manifest_builder.hpp"

namespace npv::test {

std::string policy_yaml(const std::string& ns, const std::string& name, const std::string& spec) {
  return "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name + ", namespace: " + ns +
         "}\nspec: " + spec + "\n";
}

PortProto port_of(std::string_view text) {
  auto p = PortProto::parse(text);
  EXPECT_TRUE(p) << text;
  return p.value_or(PortProto{});
}

Endpoint Cluster::ep(std::string_view text) const {
  if (auto ip = IpAddr::parse(text)) return Endpoint::of_ip(*ip);
  if (auto pod = state_.find_pod(text)) return Endpoint::of_pod(*pod);
  ADD_FAILURE() << "no pod " << text;
  return {};
}

Endpoint Cluster::ep(std::string_view pod, std::string_view ip) const {
  Endpoint e = ep(pod);
  e.ip = IpAddr::parse(ip);
  EXPECT_TRUE(e.ip) << ip;
  return e;
}

bool Cluster::allowed(const Endpoint& src, const Endpoint& dst, std::string_view port) const {
  Flow f = flow(src, dst, port);
  bool verdict = engine_.allowed(f);
  EXPECT_EQ(verdict, engine_.explain(f).allowed()) << "allowed() and explain() disagree";
  return verdict;
}

std::uint32_t Cluster::policy(std::string_view ref) const {
  for (std::uint32_t i = 0; i < state_.policies.size(); ++i) {
    if (state_.policies[i].ref() == ref) return i;
  }
  ADD_FAILURE() << "no policy " << ref;
  return UINT32_MAX;
}

ClusterState Cluster::load(std::string_view yaml) {
  auto c = load_yaml(yaml);
  if (c) return std::move(*c);
  ADD_FAILURE() << c.error().message;
  ClusterState empty;
  empty.finalize();
  return empty;
}

}  // namespace npv::test
