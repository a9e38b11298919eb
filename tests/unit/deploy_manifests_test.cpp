// deploy/: the manifests users apply to a real cluster. No cluster here, so they are checked for
// what a cluster would reject or what would make the agent fail there: well-formed objects, RBAC
// exactly as documented (read what the agent watches, write Events, nothing else), a DaemonSet
// that is not privileged and has only the capabilities it needs, an image that ships every shared
// library the binary links, and a demo whose labels the example policies really select.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "npv/loader.hpp"
#include "npv/policy_engine.hpp"

namespace npv {
namespace {

const std::filesystem::path kDeploy = std::filesystem::path(NPV_SOURCE_DIR) / "deploy";

std::vector<YAML::Node> load_all(const std::filesystem::path& file) {
  std::vector<YAML::Node> docs;
  for (const auto& d : YAML::LoadAllFromFile(file.string())) {
    if (d.IsMap()) docs.push_back(d);
  }
  return docs;
}

// Every object kustomization.yaml lists, by kind.
std::vector<YAML::Node> deploy_objects() {
  std::vector<YAML::Node> out;
  auto kustomization = YAML::LoadFile((kDeploy / "kustomization.yaml").string());
  for (const auto& r : kustomization["resources"]) {
    for (auto& d : load_all(kDeploy / r.as<std::string>())) out.push_back(d);
  }
  return out;
}

YAML::Node find(const std::vector<YAML::Node>& objects, const std::string& kind) {
  for (const auto& o : objects) {
    if (o["kind"].as<std::string>() == kind) return o;
  }
  ADD_FAILURE() << "no " << kind << " in deploy/";
  return {};
}

std::set<std::string> strings(const YAML::Node& seq) {
  std::set<std::string> out;
  for (const auto& s : seq) out.insert(s.as<std::string>());
  return out;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

TEST(DeployManifests, EveryObjectIsWellFormed) {
  const auto objects = deploy_objects();
  ASSERT_EQ(objects.size(), 5u);
  const std::set<std::string> cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding"};
  for (const auto& o : objects) {
    ASSERT_TRUE(o["apiVersion"] && o["kind"] && o["metadata"]["name"]) << YAML::Dump(o);
    const auto kind = o["kind"].as<std::string>();
    SCOPED_TRACE(kind);
    if (cluster_scoped.contains(kind)) {
      EXPECT_FALSE(o["metadata"]["namespace"]);
    } else {
      EXPECT_EQ(o["metadata"]["namespace"].as<std::string>(), "npv-system");
    }
    EXPECT_EQ(o["metadata"]["labels"]["app.kubernetes.io/name"].as<std::string>(), "npv");
  }
}

TEST(DeployManifests, RbacGrantsExactlyWhatTheAgentUses) {
  const auto objects = deploy_objects();
  using Grant = std::tuple<std::string, std::string, std::string>;  // group, resource, verb
  std::set<Grant> granted;
  for (const auto& rule : find(objects, "ClusterRole")["rules"]) {
    ASSERT_FALSE(rule["resourceNames"]);
    ASSERT_FALSE(rule["nonResourceURLs"]);
    for (const auto& g : rule["apiGroups"]) {
      for (const auto& r : rule["resources"]) {
        for (const auto& v : rule["verbs"]) granted.emplace(g.as<std::string>(), r.as<std::string>(), v.as<std::string>());
      }
    }
  }
  std::set<Grant> expected;
  for (const auto& [group, resource] : std::vector<std::pair<std::string, std::string>>{
           {"", "namespaces"}, {"", "pods"}, {"", "services"},
           {"networking.k8s.io", "networkpolicies"}, {"discovery.k8s.io", "endpointslices"},
           {"policy.networking.k8s.io", "adminnetworkpolicies"}, {"policy.networking.k8s.io", "baselineadminnetworkpolicies"},
           {"policy.networking.k8s.io", "clusternetworkpolicies"}}) {
    for (const char* verb : {"get", "list", "watch"}) expected.emplace(group, resource, verb);
  }
  expected.emplace("", "events", "create");
  expected.emplace("", "events", "patch");
  EXPECT_EQ(granted, expected);

  const auto binding = find(objects, "ClusterRoleBinding");
  EXPECT_EQ(binding["roleRef"]["kind"].as<std::string>(), "ClusterRole");
  EXPECT_EQ(binding["roleRef"]["name"].as<std::string>(), find(objects, "ClusterRole")["metadata"]["name"].as<std::string>());
  ASSERT_EQ(binding["subjects"].size(), 1u);
  EXPECT_EQ(binding["subjects"][0]["kind"].as<std::string>(), "ServiceAccount");
  EXPECT_EQ(binding["subjects"][0]["name"].as<std::string>(),
            find(objects, "ServiceAccount")["metadata"]["name"].as<std::string>());
  EXPECT_EQ(binding["subjects"][0]["namespace"].as<std::string>(), "npv-system");
}

TEST(DeployManifests, DaemonSetIsLeastPrivilege) {
  const auto ds = find(deploy_objects(), "DaemonSet");
  const auto spec = ds["spec"]["template"]["spec"];
  // The selector selects the template.
  for (const auto& kv : ds["spec"]["selector"]["matchLabels"]) {
    EXPECT_EQ(ds["spec"]["template"]["metadata"]["labels"][kv.first.as<std::string>()].as<std::string>(),
              kv.second.as<std::string>());
  }
  EXPECT_EQ(spec["serviceAccountName"].as<std::string>(), "npv-agent");
  EXPECT_EQ(spec["securityContext"]["seccompProfile"]["type"].as<std::string>(), "RuntimeDefault");
  EXPECT_FALSE(spec["hostPID"]);
  EXPECT_FALSE(spec["hostIPC"]);
  EXPECT_TRUE(spec["hostNetwork"].as<bool>());  // needed: see the comment in daemonset.yaml
  EXPECT_EQ(spec["dnsPolicy"].as<std::string>(), "ClusterFirstWithHostNet");
  ASSERT_EQ(spec["tolerations"].size(), 1u);
  EXPECT_EQ(spec["tolerations"][0]["operator"].as<std::string>(), "Exists");
  EXPECT_FALSE(spec["tolerations"][0]["key"]);

  ASSERT_EQ(spec["containers"].size(), 1u);
  const auto c = spec["containers"][0];
  const auto sc = c["securityContext"];
  EXPECT_FALSE(sc["privileged"].as<bool>());
  EXPECT_FALSE(sc["allowPrivilegeEscalation"].as<bool>());
  EXPECT_TRUE(sc["readOnlyRootFilesystem"].as<bool>());
  EXPECT_EQ(strings(sc["capabilities"]["drop"]), std::set<std::string>{"ALL"});
  EXPECT_EQ(strings(sc["capabilities"]["add"]), (std::set<std::string>{"BPF", "PERFMON", "NET_ADMIN"}));
  for (const char* r : {"requests", "limits"}) {
    EXPECT_TRUE(c["resources"][r]["cpu"] && c["resources"][r]["memory"]) << r;
  }
  // Probes hit the agent's endpoints on a port the container declares.
  std::set<std::string> port_names;
  for (const auto& p : c["ports"]) port_names.insert(p["name"].as<std::string>());
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/readyz");
  EXPECT_TRUE(port_names.contains(c["livenessProbe"]["httpGet"]["port"].as<std::string>()));
  EXPECT_TRUE(port_names.contains(c["readinessProbe"]["httpGet"]["port"].as<std::string>()));
  // Every hostPath is mounted read-only.
  std::set<std::string> host_volumes;
  for (const auto& v : spec["volumes"]) {
    if (v["hostPath"]) host_volumes.insert(v["name"].as<std::string>());
  }
  for (const auto& m : c["volumeMounts"]) {
    if (host_volumes.contains(m["name"].as<std::string>())) {
      EXPECT_TRUE(m["readOnly"].as<bool>()) << m["name"].as<std::string>();
    }
  }
  EXPECT_EQ(c["args"][0].as<std::string>(), "agent");
}

TEST(DeployManifests, DaemonSetArgumentsAreFlagsTheAgentHas) {
  // The DaemonSet starts `npv agent` with these; a renamed flag would crash-loop every node.
  const auto c = find(deploy_objects(), "DaemonSet")["spec"]["template"]["spec"]["containers"][0];
  const std::string help = run("'" NPV_BINARY "' agent --help");
  ASSERT_NE(help.find("--kubeconfig"), std::string::npos) << help;
  int flags = 0;
  for (std::size_t i = 1; i < c["args"].size(); ++i) {
    const std::string arg = c["args"][i].as<std::string>();
    ASSERT_TRUE(arg.starts_with("--")) << arg;
    const std::string flag = arg.substr(0, arg.find('='));
    EXPECT_NE(help.find(flag + " "), std::string::npos) << flag << " is not an option of npv agent";
    ++flags;
  }
  EXPECT_GE(flags, 3);
  // The in-cluster mount the agent is pointed at exists.
  bool mounted = false;
  for (const auto& m : c["volumeMounts"]) mounted |= m["mountPath"].as<std::string>() == "/host/sys/fs/cgroup";
  EXPECT_TRUE(mounted);
}

TEST(DeployManifests, ImageShipsEveryLibraryTheBinaryLinks) {
  // The runtime stage's apt-get line must install the Debian package of every shared library
  // `npv` links directly (ELF NEEDED; apt brings their own dependencies), or the agent would not
  // start in the cluster.
  std::ifstream in(kDeploy / "Dockerfile");
  std::stringstream text;
  text << in.rdbuf();
  const std::string dockerfile = text.str();
  const auto runtime = dockerfile.find("FROM debian:12-slim");
  ASSERT_NE(runtime, std::string::npos);
  const std::string runtime_stage = dockerfile.substr(runtime);
  const std::string libs = run("for lib in $(objdump -p '" NPV_BINARY "' | awk '/NEEDED/{print $2}'); do "
                               "ldd '" NPV_BINARY "' | awk -v l=\"$lib\" '$1 == l {print $3}'; done");
  ASSERT_FALSE(libs.empty());
  std::istringstream lines(libs);
  std::string lib;
  int checked = 0;
  while (std::getline(lines, lib)) {
    std::string package = run("dpkg -S \"$(readlink -f '" + lib + "')\" 2>/dev/null | head -1 | cut -d: -f1");
    if (package.empty()) package = run("dpkg -S '" + lib + "' 2>/dev/null | head -1 | cut -d: -f1");
    while (!package.empty() && (package.back() == '\n' || package.back() == ' ')) package.pop_back();
    ASSERT_FALSE(package.empty()) << lib << " belongs to no Debian package";
    if (package == "libc6" || package == "libstdc++6" || package == "libgcc-s1") continue;  // in the base image
    EXPECT_NE(runtime_stage.find(" " + package + " "), std::string::npos)
        << lib << " comes from " << package << ", which deploy/Dockerfile's runtime stage does not install";
    ++checked;
  }
  EXPECT_GE(checked, 5);
}

TEST(DeployManifests, KindClusterHasNoDefaultCni) {
  auto kind = YAML::LoadFile((kDeploy / "kind" / "cluster.yaml").string());
  EXPECT_EQ(kind["apiVersion"].as<std::string>(), "kind.x-k8s.io/v1alpha4");
  EXPECT_TRUE(kind["networking"]["disableDefaultCNI"].as<bool>());
  EXPECT_GE(kind["nodes"].size(), 2u);  // cross-node traffic
}

TEST(DeployManifests, DemoWorkloadsAreWhatTheExamplePoliciesSelect) {
  // The demo's probes are meant to be allowed or denied exactly as its header says; the engine,
  // on the demo's own Deployments and the example's policies, must agree.
  auto cluster = load_cluster({(kDeploy / "demo" / "three-tier.yaml").string(),
                               std::string(NPV_SOURCE_DIR) + "/examples/three-tier/policies.yaml"});
  ASSERT_TRUE(cluster) << cluster.error().message;
  PolicyEngine engine(*cluster);
  auto pod = [&](const char* ref) {
    auto id = cluster->find_pod(ref);
    EXPECT_TRUE(id) << ref;
    return Endpoint::of_pod(id.value_or(0));
  };
  auto allowed = [&](const char* src, const char* dst, std::uint16_t port) {
    return engine.allowed(Flow{pod(src), pod(dst), PortProto{port, Protocol::kTCP}});
  };
  EXPECT_TRUE(allowed("production/frontend", "production/backend", 8080));
  EXPECT_FALSE(allowed("production/frontend", "production/database", 5432));
  EXPECT_TRUE(allowed("production/backend", "production/database", 5432));
  EXPECT_FALSE(allowed("tenant-a/app", "production/frontend", 80));
  EXPECT_FALSE(allowed("tenant-a/app", "production/backend", 8080));
  EXPECT_FALSE(allowed("tenant-a/app", "production/database", 5432));
}

}  // namespace
}  // namespace npv
