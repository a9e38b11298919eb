// Kubeconfig files and the in-cluster configuration (kube_client.hpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "npv/kube_client.hpp"

namespace npv::kube {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const char* kCaPem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
// base64 of kCaPem
const char* kCaB64 = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJmYWtlCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K";

class KubeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("npv-kubeconfig-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "certs");
    write("certs/ca.crt", kCaPem);
    write("certs/client.crt", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
    write("certs/client.key", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n");
    write("token", "file-token\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }

  // A kubeconfig with one context "main" (cluster "c", user "u") plus `extra` appended.
  fs::path kubeconfig(const std::string& cluster, const std::string& user, const std::string& extra = "") {
    return write("config", "apiVersion: v1\nkind: Config\ncurrent-context: main\n"
                           "clusters:\n- name: c\n  cluster:\n" + cluster +
                           "users:\n- name: u\n  user:\n" + user +
                           "contexts:\n- name: main\n  context: {cluster: c, user: u, namespace: shop}\n" + extra);
  }

  fs::path dir_;
};

TEST_F(KubeConfigTest, CaDataAndToken) {
  auto c = load_kubeconfig(kubeconfig("    server: https://10.0.0.1:6443/\n    certificate-authority-data: " +
                                          std::string(kCaB64) + "\n",
                                      "    token: abc.def\n"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");
  EXPECT_EQ(c->ca_pem, kCaPem);
  EXPECT_TRUE(c->ca_file.empty());
  EXPECT_EQ(c->token, "abc.def");
  EXPECT_EQ(c->ns, "shop");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_THAT(c->source, HasSubstr("context main"));
}

TEST_F(KubeConfigTest, RelativeFilesResolveAgainstTheKubeconfigDirectory) {
  auto c = load_kubeconfig(kubeconfig("    server: https://k8s.example:443\n    certificate-authority: certs/ca.crt\n",
                                      "    tokenFile: token\n    client-certificate: certs/client.crt\n"
                                      "    client-key: certs/client.key\n"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->ca_file, (dir_ / "certs/ca.crt").string());
  EXPECT_EQ(c->token_file, (dir_ / "token").string());
  EXPECT_EQ(c->client_cert_file, (dir_ / "certs/client.crt").string());
  EXPECT_EQ(c->client_key_file, (dir_ / "certs/client.key").string());
}

TEST_F(KubeConfigTest, ClientCertificateDataAndInsecure) {
  auto c = load_kubeconfig(kubeconfig("    server: https://10.0.0.1\n    insecure-skip-tls-verify: true\n",
                                      "    client-certificate-data: " + std::string(kCaB64) +
                                          "\n    client-key-data: " + std::string(kCaB64) + "\n"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->client_cert_pem, kCaPem);
  EXPECT_EQ(c->client_key_pem, kCaPem);
  EXPECT_TRUE(c->token.empty());
}

TEST_F(KubeConfigTest, ExplicitContextWinsOverCurrentContext) {
  auto file = write("config", "current-context: main\n"
                              "clusters:\n- {name: c, cluster: {server: 'https://10.0.0.1'}}\n"
                              "- {name: c2, cluster: {server: 'https://10.9.9.9:8443'}}\n"
                              "users:\n- {name: u, user: {token: a}}\n"
                              "contexts:\n- {name: main, context: {cluster: c, user: u}}\n"
                              "- {name: other, context: {cluster: c2, user: u, namespace: ops}}\n");
  auto c = load_kubeconfig(file, "other");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://10.9.9.9:8443");
  EXPECT_EQ(c->ns, "ops");
  auto main = load_kubeconfig(file);
  ASSERT_TRUE(main);
  EXPECT_EQ(main->server, "https://10.0.0.1");
}

TEST_F(KubeConfigTest, JsonKubeconfig) {
  auto file = write("config.json", R"({"current-context":"x","clusters":[{"name":"c","cluster":{"server":"https://1.2.3.4"}}],
    "users":[{"name":"u","user":{"token":"t"}}],"contexts":[{"name":"x","context":{"cluster":"c","user":"u"}}]})");
  auto c = load_kubeconfig(file);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->token, "t");
}

struct BadCase {
  std::string cluster, user, extra;
  std::string expected;  // substring of the error, after "<file>: "
};

TEST_F(KubeConfigTest, MalformedOrUnsupportedNamesFileAndField) {
  const std::string ok_cluster = "    server: https://10.0.0.1\n";
  const BadCase cases[] = {
      {"    insecure-skip-tls-verify: true\n", "    token: a\n", "", "clusters[0] (c): cluster.server: required"},
      {"    server: 10.0.0.1:6443\n", "    token: a\n", "", "cluster.server: expected an https:// URL, got \"10.0.0.1:6443\""},
      {ok_cluster + "    certificate-authority-data: '%%%'\n", "    token: a\n", "",
       "clusters[0] (c): cluster.certificate-authority-data: not valid base64"},
      {ok_cluster + "    certificate-authority-data: aGVsbG8=\n", "    token: a\n", "",
       "cluster.certificate-authority-data: does not hold PEM data"},
      {ok_cluster + "    certificate-authority: certs/missing.crt\n", "    token: a\n", "",
       "clusters[0] (c): cluster.certificate-authority: cannot read"},
      {ok_cluster + "    certificate-authority: certs/ca.crt\n    insecure-skip-tls-verify: true\n", "    token: a\n", "",
       "cluster.insecure-skip-tls-verify: may not be combined with a certificate authority"},
      {ok_cluster + "    insecure-skip-tls-verify: 'yes'\n", "    token: a\n", "",
       "cluster.insecure-skip-tls-verify: expected true or false"},
      {ok_cluster, "    exec: {command: aws}\n", "", "users[0] (u): user.exec: credential plugins are not supported"},
      {ok_cluster, "    username: admin\n", "", "users[0] (u): user.username: basic authentication is not supported"},
      {ok_cluster, "    client-certificate-data: " + std::string(kCaB64) + "\n", "",
       "users[0] (u): user.client-key(-data): required with a client certificate"},
      {ok_cluster, "    tokenFile: nope\n", "", "users[0] (u): user.tokenFile: cannot read"},
      {ok_cluster, "    token: [a]\n", "", "users[0] (u): user.token: expected a string"},
  };
  for (const auto& c : cases) {
    auto file = kubeconfig(c.cluster, c.user, c.extra);
    auto r = load_kubeconfig(file);
    ASSERT_FALSE(r) << c.expected;
    EXPECT_THAT(r.error().message, HasSubstr(file.string() + ": ")) << c.expected;
    EXPECT_THAT(r.error().message, HasSubstr(c.expected));
    EXPECT_EQ(r.error().exit_code(), kExitBadInput);
  }
}

TEST_F(KubeConfigTest, MissingContextsAndFiles) {
  auto no_current = write("a", "clusters: []\nusers: []\ncontexts: []\n");
  auto r = load_kubeconfig(no_current);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr(no_current.string() + ": current-context: not set (name a context with --context)"));

  auto file = kubeconfig("    server: https://10.0.0.1\n", "    token: a\n");
  r = load_kubeconfig(file, "prod");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("contexts: no entry named \"prod\" (have: main)"));

  auto dangling = write("b", "current-context: x\ncontexts:\n- {name: x, context: {cluster: gone, user: u}}\n");
  r = load_kubeconfig(dangling);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("clusters: no entry named \"gone\" (the list is empty)"));

  auto bad_yaml = write("c", "clusters: [\n");
  r = load_kubeconfig(bad_yaml);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr(bad_yaml.string() + ":"));
  EXPECT_THAT(r.error().message, HasSubstr("invalid YAML"));

  auto scalar = write("d", "just text\n");
  r = load_kubeconfig(scalar);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("not a kubeconfig"));

  r = load_kubeconfig(dir_ / "does-not-exist");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kIo);
  EXPECT_THAT(r.error().message, HasSubstr("does-not-exist"));
}

InClusterEnv fake_env(const fs::path& dir, std::map<std::string, std::string> vars) {
  InClusterEnv env;
  env.account_dir = dir;
  env.getenv = [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  return env;
}

TEST_F(KubeConfigTest, InClusterFromEnvironmentAndServiceAccountFiles) {
  write("ca.crt", kCaPem);
  write("namespace", "npv-system\n");
  auto c = in_cluster_config(fake_env(dir_, {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token_file, (dir_ / "token").string());
  EXPECT_EQ(c->ca_file, (dir_ / "ca.crt").string());
  EXPECT_EQ(c->ns, "npv-system");

  auto v6 = in_cluster_config(fake_env(dir_, {{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}));
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->server, "https://[fd00::1]:6443");
}

TEST_F(KubeConfigTest, InClusterErrorsAreEnvironmentErrors) {
  auto r = in_cluster_config(fake_env(dir_, {}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code(), kExitEnvironment);
  EXPECT_THAT(r.error().message, HasSubstr("KUBERNETES_SERVICE_HOST"));
  EXPECT_THAT(r.error().message, HasSubstr("--kubeconfig"));

  // No ca.crt in the account directory.
  r = in_cluster_config(fake_env(dir_, {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().exit_code(), kExitEnvironment);
  EXPECT_THAT(r.error().message, HasSubstr((dir_ / "ca.crt").string()));
}

TEST(KubeClientCreate, RejectsInconsistentConfigs) {
  KubeConfig c;
  c.server = "ftp://x";
  auto r = KubeClient::create(c);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("expected an https:// URL"));
  c.server = "https://x";
  c.ca_pem = "not pem";
  r = KubeClient::create(c);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("no PEM certificate"));
  c.ca_pem.clear();
  c.client_cert_pem = kCaPem;
  r = KubeClient::create(c);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("both a certificate and a key"));
  c.client_cert_pem.clear();
  c.token_file = "/nonexistent/npv/token";
  r = KubeClient::create(c);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("/nonexistent/npv/token"));
}

}  // namespace
}  // namespace npv::kube
