// compile_nft: the nftables text of the lab's dataplanes (npv/nft_dataplane.hpp), and the
// metadata.creationTimestamp the `stale` dataplane reads. That nft accepts every generated
// ruleset, and that the kernel then enforces what the PolicyEngine decides, is checked in
// tests/privileged/nft_dataplane_test.cpp (nft needs CAP_NET_ADMIN even for --check).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "npv/nft_dataplane.hpp"
#include "support/manifest_builder.hpp"

namespace npv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// A pod manifest with any number of IPs (dual stack, IPv6 only).
std::string pod(const std::string& ns, const std::string& name, const std::string& labels,
                std::vector<std::string> ips, const std::string& ports = "[]") {
  std::string out = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: " + ns +
                    ", labels: " + labels + "}\nspec:\n  containers:\n  - name: c\n    ports: " + ports + "\n";
  if (!ips.empty()) {
    out += "status:\n  podIPs:\n";
    for (const auto& ip : ips) out += "  - {ip: \"" + ip + "\"}\n";
  }
  return out;
}

std::string policy(const std::string& ns, const std::string& name, const std::string& spec,
                   const std::string& created = "") {
  return "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name + ", namespace: " + ns +
         (created.empty() ? "" : ", creationTimestamp: \"" + created + "\"") + "}\nspec: " + spec + "\n";
}

DataplaneOptions mode(Dataplane d, std::string synced_before = {}) {
  DataplaneOptions o;
  o.mode = d;
  o.synced_before = std::move(synced_before);
  return o;
}

class Compiled {
 public:
  Compiled(const std::string& yaml, DataplaneOptions options = {}) {
    auto c = test::load_yaml(yaml);
    if (!c) {
      ADD_FAILURE() << c.error().message;
      return;
    }
    cluster_ = std::move(*c);
    rulesets_ = compile_nft(cluster_, options);
  }

  const std::map<PodId, std::string>& all() const { return rulesets_; }

  // The ruleset of pod "ns/name"; empty (and a failure) when there is none.
  std::string text(std::string_view ref) const {
    auto id = cluster_.find_pod(ref);
    if (!id || !rulesets_.contains(*id)) {
      ADD_FAILURE() << "no ruleset for " << ref;
      return {};
    }
    return rulesets_.at(*id);
  }

  // The statements of chain "ingress" or "egress" (the `type` line left out).
  std::vector<std::string> chain(std::string_view ref, std::string_view name) const {
    std::istringstream in(text(ref));
    std::vector<std::string> out;
    bool inside = false;
    for (std::string line; std::getline(in, line);) {
      line.erase(0, line.find_first_not_of(' '));
      if (line == "chain " + std::string(name) + " {") inside = true;
      else if (inside && line == "}") break;
      else if (inside && !line.starts_with("type ")) out.push_back(line);
    }
    return out;
  }

  // Only the accepts derived from policies (they carry the policy's name as comment).
  std::vector<std::string> rules(std::string_view ref, std::string_view name) const {
    std::vector<std::string> out;
    for (auto& line : chain(ref, name)) {
      if (line.find(" comment \"") != std::string::npos && line.find("\"fault") == std::string::npos) {
        out.push_back(line);
      }
    }
    return out;
  }

  bool isolated(std::string_view ref, std::string_view name) const {
    auto lines = chain(ref, name);
    return !lines.empty() && lines.back() == "counter drop";
  }

 private:
  ClusterState cluster_;
  std::map<PodId, std::string> rulesets_;
};

const std::string kTwoNamespaces =
    test::namespace_yaml("prod", "{env: prod}") + test::namespace_yaml("dev", "{env: dev}") +
    pod("prod", "web", "{app: web}", {"10.0.0.1"}, "[{name: http, containerPort: 8080}]") +
    pod("prod", "db", "{app: db}", {"10.0.0.2"}, "[{name: pg, containerPort: 5432}]") +
    pod("prod", "api", "{app: api}", {"10.0.0.3", "fd00::3"}, "[{name: http, containerPort: 9090}]") +
    pod("dev", "web", "{app: web}", {"10.0.1.1"}, "[{name: http, containerPort: 80}]") +
    pod("dev", "tmpl", "{app: web}", {});

TEST(NftDataplane, NamesRoundTrip) {
  for (auto d : {Dataplane::kNone, Dataplane::kEnforcing, Dataplane::kIngressOnly, Dataplane::kIgnoreNamedPorts,
                 Dataplane::kIgnoreExcept, Dataplane::kTcpOnly, Dataplane::kStale}) {
    EXPECT_EQ(parse_dataplane(to_string(d)), d);
    EXPECT_THAT(kDataplaneNames, HasSubstr(to_string(d)));
  }
  EXPECT_EQ(parse_dataplane("Enforcing"), std::nullopt);
  EXPECT_EQ(parse_dataplane(""), std::nullopt);
}

TEST(NftDataplane, DefaultDenyIngressExactText) {
  Compiled c(kTwoNamespaces + policy("prod", "deny", "{podSelector: {}}"));
  EXPECT_EQ(c.text("prod/web"), R"(# npv lab dataplane enforcing: pod prod/web
table inet npv_policy
delete table inet npv_policy
table inet npv_policy {
  chain ingress {
    type filter hook input priority 0; policy accept;
    ct state established,related accept
    iif "lo" accept
    ip saddr 10.0.0.1 accept
    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query, mld-listener-report, mld2-listener-report } accept
    counter drop
  }
  chain egress {
    type filter hook output priority 0; policy accept;
  }
}
)");
  // A pod no policy selects still gets its (permissive) table.
  EXPECT_FALSE(c.isolated("dev/web", "ingress"));
  EXPECT_THAT(c.chain("dev/web", "ingress"), IsEmpty());
  // Pod-to-self covers every address of a dual-stack pod.
  EXPECT_THAT(c.chain("prod/api", "ingress"),
              ElementsAre("ct state established,related accept", "iif \"lo\" accept", "ip saddr 10.0.0.3 accept",
                          "ip6 saddr fd00::3 accept", testing::StartsWith("icmpv6 type"), "counter drop"));
}

TEST(NftDataplane, EveryLabPodAndOnlyLabPodsGetARuleset) {
  Compiled c(kTwoNamespaces);
  EXPECT_EQ(c.all().size(), 4u);  // dev/tmpl has no IP
  Compiled none(kTwoNamespaces + policy("prod", "deny", "{podSelector: {}}"), mode(Dataplane::kNone));
  EXPECT_THAT(none.all(), IsEmpty());
}

TEST(NftDataplane, PodSelectorPeerIsTheSelectedPodsOfThePolicysNamespace) {
  Compiled c(kTwoNamespaces +
             policy("prod", "from-web", "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]}") +
             policy("prod", "from-dev", "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{namespaceSelector: {matchLabels: {env: dev}}}]}]}") +
             policy("prod", "from-any-web", "{podSelector: {matchLabels: {app: api}}, ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}], ports: [{port: 9090}]}]}"));
  EXPECT_THAT(c.rules("prod/db", "ingress"),
              ElementsAre("ip saddr 10.0.1.1 accept comment \"prod/from-dev ingress[0]\"",
                          "ip saddr 10.0.0.1 accept comment \"prod/from-web ingress[0]\""));
  EXPECT_THAT(c.rules("prod/api", "ingress"),
              ElementsAre("ip saddr { 10.0.0.1, 10.0.1.1 } tcp dport 9090 accept comment \"prod/from-any-web ingress[0]\""));
  EXPECT_FALSE(c.isolated("prod/web", "ingress"));
  EXPECT_FALSE(c.isolated("prod/db", "egress"));
}

TEST(NftDataplane, PeersThatSelectNoAddressAllowNothing) {
  Compiled c(kTwoNamespaces +
             policy("prod", "nobody", "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: nope}}}]}], egress: [{to: [{namespaceSelector: {matchLabels: {env: nope}}}]}], policyTypes: [Ingress, Egress]}"));
  EXPECT_TRUE(c.isolated("prod/db", "ingress"));
  EXPECT_TRUE(c.isolated("prod/db", "egress"));
  EXPECT_THAT(c.rules("prod/db", "ingress"), IsEmpty());
  EXPECT_THAT(c.rules("prod/db", "egress"), IsEmpty());
  EXPECT_THAT(c.text("prod/db"), Not(HasSubstr("{ }")));
}

TEST(NftDataplane, EmptyRuleAllowsEverything) {
  Compiled c(kTwoNamespaces + policy("prod", "all", "{podSelector: {}, ingress: [{}], egress: [{}]}"));
  EXPECT_THAT(c.rules("prod/web", "ingress"), ElementsAre("accept comment \"prod/all ingress[0]\""));
  EXPECT_THAT(c.rules("prod/web", "egress"), ElementsAre("accept comment \"prod/all egress[0]\""));
}

TEST(NftDataplane, PolicyTypesIngressIgnoresEgressRules) {
  Compiled c(kTwoNamespaces + policy("prod", "in", "{podSelector: {}, policyTypes: [Ingress], egress: [{to: [{podSelector: {}}]}]}"));
  EXPECT_TRUE(c.isolated("prod/web", "ingress"));
  EXPECT_FALSE(c.isolated("prod/web", "egress"));
}

TEST(NftDataplane, PortsEndPortSctpAndWholeProtocols) {
  Compiled c(kTwoNamespaces +
             policy("prod", "ports", "{podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: 80}, {port: 8000, endPort: 8080}, {port: 8050, endPort: 9000}, {port: 9001}, {protocol: SCTP, port: 5432}, {protocol: UDP}]}]}"));
  EXPECT_THAT(c.rules("prod/web", "ingress"),
              ElementsAre("tcp dport { 80, 8000-9001 } accept comment \"prod/ports ingress[0]\"",
                          "meta l4proto udp accept comment \"prod/ports ingress[0]\"",
                          "sctp dport 5432 accept comment \"prod/ports ingress[0]\""));
}

TEST(NftDataplane, IngressNamedPortsResolveAgainstThePodItself) {
  Compiled c(kTwoNamespaces +
             policy("prod", "http", "{podSelector: {}, ingress: [{ports: [{port: http}]}, {ports: [{port: http, protocol: UDP}]}]}"));
  EXPECT_THAT(c.rules("prod/web", "ingress"), ElementsAre("tcp dport 8080 accept comment \"prod/http ingress[0]\""));
  EXPECT_THAT(c.rules("prod/api", "ingress"), ElementsAre("tcp dport 9090 accept comment \"prod/http ingress[0]\""));
  // db declares no "http": the rule matches nothing there (it does not become "every port").
  EXPECT_THAT(c.rules("prod/db", "ingress"), IsEmpty());
  EXPECT_TRUE(c.isolated("prod/db", "ingress"));
}

TEST(NftDataplane, EgressNamedPortsExpandPerDestinationPod) {
  Compiled c(kTwoNamespaces + pod("dev", "web2", "{app: web}", {"10.0.1.2"}, "[{name: http, containerPort: 80}]") +
             policy("prod", "out", "{podSelector: {matchLabels: {app: db}}, policyTypes: [Egress], egress: [{to: [{namespaceSelector: {}}], ports: [{port: http}, {port: 443}]}, {to: [{ipBlock: {cidr: 10.0.0.0/24}}], ports: [{port: pg}]}]}"));
  EXPECT_THAT(c.rules("prod/db", "egress"),
              ElementsAre(
                  "ip daddr { 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.1.1, 10.0.1.2 } tcp dport 443 accept "
                  "comment \"prod/out egress[0]\"",
                  "ip6 daddr fd00::3 tcp dport 443 accept comment \"prod/out egress[0]\"",
                  "ip daddr { 10.0.1.1, 10.0.1.2 } tcp dport 80 accept comment \"prod/out egress[0] named ports\"",
                  "ip daddr 10.0.0.1 tcp dport 8080 accept comment \"prod/out egress[0] named ports\"",
                  "ip daddr 10.0.0.3 tcp dport 9090 accept comment \"prod/out egress[0] named ports\"",
                  "ip6 daddr fd00::3 tcp dport 9090 accept comment \"prod/out egress[0] named ports\"",
                  // ipBlock peers resolve named ports for the pods whose IPs they contain.
                  "ip daddr 10.0.0.2 tcp dport 5432 accept comment \"prod/out egress[1] named ports\""));
}

TEST(NftDataplane, IpBlockWithExceptAndIpv6) {
  Compiled c(kTwoNamespaces +
             policy("prod", "blocks", "{podSelector: {matchLabels: {app: api}}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.0/24, 10.0.1.128/25, 10.0.2.0/24]}}, {ipBlock: {cidr: \"fd00::/64\", except: [\"fd00::/120\"]}}, {ipBlock: {cidr: 0.0.0.0/0}}]}]}"));
  EXPECT_THAT(c.rules("prod/api", "ingress"),
              ElementsAre("ip saddr 10.0.0.0/16 ip saddr != { 10.0.1.0/24, 10.0.2.0/24 } accept comment \"prod/blocks ingress[0]\"",
                          "ip6 saddr fd00::/64 ip6 saddr != fd00::/120 accept comment \"prod/blocks ingress[0]\"",
                          "meta nfproto ipv4 accept comment \"prod/blocks ingress[0]\""));
}

TEST(NftDataplane, IngressOnlyDropsEgressFiltering) {
  const std::string yaml = kTwoNamespaces + policy("prod", "both", "{podSelector: {}, policyTypes: [Ingress, Egress]}");
  Compiled enforcing(yaml);
  Compiled faulty(yaml, mode(Dataplane::kIngressOnly));
  EXPECT_TRUE(enforcing.isolated("prod/web", "egress"));
  EXPECT_FALSE(faulty.isolated("prod/web", "egress"));
  EXPECT_EQ(enforcing.chain("prod/web", "ingress"), faulty.chain("prod/web", "ingress"));
}

TEST(NftDataplane, IgnoreNamedPortsRemovesNamedEntries) {
  const std::string yaml =
      kTwoNamespaces +
      policy("prod", "named", "{podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: http}, {port: 81}]}, {from: [{podSelector: {}}], ports: [{port: http}]}]}");
  Compiled enforcing(yaml);
  Compiled faulty(yaml, mode(Dataplane::kIgnoreNamedPorts));
  EXPECT_THAT(enforcing.rules("prod/web", "ingress"),
              ElementsAre("tcp dport { 81, 8080 } accept comment \"prod/named ingress[0]\"",
                          "ip saddr { 10.0.0.1, 10.0.0.2, 10.0.0.3 } tcp dport 8080 accept comment "
                          "\"prod/named ingress[1]\"",
                          "ip6 saddr fd00::3 tcp dport 8080 accept comment \"prod/named ingress[1]\""));
  // Left with no entries, rule 1 allows every port.
  EXPECT_THAT(faulty.rules("prod/web", "ingress"),
              ElementsAre("tcp dport 81 accept comment \"prod/named ingress[0]\"",
                          "ip saddr { 10.0.0.1, 10.0.0.2, 10.0.0.3 } accept comment \"prod/named ingress[1]\"",
                          "ip6 saddr fd00::3 accept comment \"prod/named ingress[1]\""));
}

TEST(NftDataplane, IgnoreExceptAllowsTheWholeCidr) {
  const std::string yaml =
      kTwoNamespaces + policy("prod", "cidr", "{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.0/24]}}]}]}");
  EXPECT_THAT(Compiled(yaml).rules("prod/web", "ingress"),
              ElementsAre("ip saddr 10.0.0.0/16 ip saddr != 10.0.1.0/24 accept comment \"prod/cidr ingress[0]\""));
  EXPECT_THAT(Compiled(yaml, mode(Dataplane::kIgnoreExcept)).rules("prod/web", "ingress"),
              ElementsAre("ip saddr 10.0.0.0/16 accept comment \"prod/cidr ingress[0]\""));
}

TEST(NftDataplane, TcpOnlyAcceptsUdpAndSctpFirst) {
  const std::string yaml = kTwoNamespaces + policy("prod", "both", "{podSelector: {}, policyTypes: [Ingress, Egress]}");
  Compiled faulty(yaml, mode(Dataplane::kTcpOnly));
  for (const char* chain : {"ingress", "egress"}) {
    auto lines = faulty.chain("prod/web", chain);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.front(), "meta l4proto { udp, sctp } accept comment \"fault tcp-only\"");
    EXPECT_EQ(lines.back(), "counter drop");
    lines.erase(lines.begin());
    EXPECT_EQ(lines, Compiled(yaml).chain("prod/web", chain));
  }
  // Nothing to add where nothing is filtered.
  EXPECT_THAT(faulty.chain("dev/web", "ingress"), IsEmpty());
}

TEST(NftDataplane, StaleEnforcesOnlyPoliciesCreatedBeforeTheCutoff) {
  const std::string yaml = kTwoNamespaces +
                           policy("prod", "old", "{podSelector: {matchLabels: {app: web}}}", "2026-01-01T00:00:00Z") +
                           policy("prod", "new", "{podSelector: {matchLabels: {app: db}}}", "2026-03-01T00:00:00Z") +
                           policy("prod", "undated", "{podSelector: {matchLabels: {app: api}}}");
  Compiled stale(yaml, mode(Dataplane::kStale, "2026-03-01T00:00:00Z"));
  EXPECT_TRUE(stale.isolated("prod/web", "ingress"));
  EXPECT_FALSE(stale.isolated("prod/db", "ingress"));   // created exactly at the cutoff: not before
  EXPECT_FALSE(stale.isolated("prod/api", "ingress"));  // no timestamp: counts as new
  Compiled enforcing(yaml);
  EXPECT_TRUE(enforcing.isolated("prod/db", "ingress"));
  EXPECT_TRUE(enforcing.isolated("prod/api", "ingress"));
  // An invalid cutoff syncs nothing.
  Compiled broken(yaml, mode(Dataplane::kStale, "yesterday"));
  EXPECT_FALSE(broken.isolated("prod/web", "ingress"));
}

TEST(NftDataplane, OutputIsDeterministic) {
  const std::string yaml = kTwoNamespaces + policy("prod", "b", "{podSelector: {}, ingress: [{from: [{namespaceSelector: {}}]}]}") +
                           policy("prod", "a", "{podSelector: {}, egress: [{ports: [{port: http}]}]}");
  EXPECT_EQ(Compiled(yaml).all(), Compiled(yaml).all());
  // Sorted addresses, one rule per family, policies in name order.
  EXPECT_THAT(Compiled(yaml).rules("prod/web", "ingress"),
              ElementsAre("ip saddr { 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.1.1 } accept comment \"prod/b ingress[0]\"",
                          "ip6 saddr fd00::3 accept comment \"prod/b ingress[0]\""));
}

TEST(CreationTimestamp, ValidatesRfc3339Utc) {
  EXPECT_TRUE(is_rfc3339_utc("2026-11-23T15:00:00Z"));
  EXPECT_TRUE(is_rfc3339_utc("2024-02-29T23:59:59Z"));
  for (const char* bad : {"", "2026-11-23", "2026-11-23T15:00:00", "2026-11-23T15:00:00+01:00", "2026-11-23t15:00:00z",
                          "2026-11-23T15:00:00.5Z", "2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T15:60:00Z", "2026-1a-23T15:00:00Z",
                          "2026-11-23 15:00:00Z"}) {
    EXPECT_FALSE(is_rfc3339_utc(bad)) << bad;
  }
}

TEST(CreationTimestamp, LoaderReadsAndValidatesIt) {
  auto ok = test::load_yaml(policy("prod", "a", "{podSelector: {}}", "2026-01-02T03:04:05Z") +
                            policy("prod", "b", "{podSelector: {}}") +
                            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: c, namespace: prod, "
                            "creationTimestamp: null}\nspec: {podSelector: {}}\n" +
                            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: d, namespace: prod, "
                            "creationTimestamp: 2026-01-02T03:04:05Z}\nspec: {podSelector: {}}\n");
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(ok->policies.size(), 4u);
  EXPECT_EQ(ok->policies[0].creation_timestamp, "2026-01-02T03:04:05Z");
  EXPECT_EQ(ok->policies[1].creation_timestamp, "");
  EXPECT_EQ(ok->policies[2].creation_timestamp, "");
  EXPECT_EQ(ok->policies[3].creation_timestamp, "2026-01-02T03:04:05Z");

  auto bad = test::load_yaml(policy("prod", "late", "{podSelector: {}}", "2026-01-02 03:04:05"));
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("test.yaml"));
  EXPECT_THAT(bad.error().message, HasSubstr("prod/late"));
  EXPECT_THAT(bad.error().message, HasSubstr("metadata.creationTimestamp"));
  auto number = test::load_yaml("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n, "
                                "namespace: prod, creationTimestamp: 5}\nspec: {podSelector: {}}\n");
  ASSERT_FALSE(number);
  EXPECT_THAT(number.error().message, HasSubstr("metadata.creationTimestamp"));
}

}  // namespace
}  // namespace npv
