// KubeClient against the test API server: authentication, TLS, streaming, cancellation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "npv/kube_client.hpp"
#include "support/fake_api_server.hpp"
#include "support/kube_fixtures.hpp"
#include "support/test_pki.hpp"

namespace npv::kube {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using test::FakeApiServer;
using test::FakeApiServerOptions;

std::shared_ptr<KubeClient> client_for(KubeConfig config) {
  auto c = KubeClient::create(std::move(config));
  EXPECT_TRUE(c) << c.error().message;
  return c ? *c : nullptr;
}

std::shared_ptr<KubeClient> plain_client(const FakeApiServer& server) {
  KubeConfig config;
  config.server = server.url();
  return client_for(config);
}

RequestOptions cancellable(Cancellation& cancel) {
  RequestOptions o;
  o.cancel = &cancel;
  return o;
}

const test::TestPki& pki() {
  static const test::TestPki p = test::make_test_pki();
  return p;
}

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("npv-kube-" + std::to_string(::getpid()) + "-" + std::to_string(next_++))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  // Writes through a temporary file and rename(), as the kubelet swaps projected tokens.
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / (name + ".tmp")) << text;
    fs::rename(path_ / (name + ".tmp"), path_ / name);
    return path_ / name;
  }
  const fs::path& path() const { return path_; }

 private:
  static inline int next_ = 0;
  fs::path path_;
};

TEST(KubeClient, GetWithBearerTokenAndStatusErrors) {
  FakeApiServerOptions o;
  o.required_token = "s3cret";
  FakeApiServer server(o);
  test::seed_cluster(server);
  KubeConfig config;
  config.server = server.url();
  config.token = "s3cret";
  auto client = client_for(config);
  HttpResponse r = client->get("/api/v1/namespaces?limit=500");
  ASSERT_TRUE(r.ok()) << r.describe();
  auto list = nlohmann::json::parse(r.body);
  EXPECT_EQ(list["kind"], "NamespaceList");
  EXPECT_EQ(list["items"].size(), 2u);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].token, "s3cret");
  EXPECT_EQ(requests[0].query.at("limit"), "500");

  config.token = "wrong";
  auto other = client_for(config);
  r = other->get("/api/v1/namespaces");
  EXPECT_EQ(r.transport, Transport::kOk);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.describe(), "HTTP 401: Unauthorized");
}

TEST(KubeClient, TokenFileIsReadAgainWhenRotated) {
  TempDir dir;
  auto token = dir.write("token", "token-one\n");
  FakeApiServerOptions o;
  o.required_token = "token-one";
  FakeApiServer server(o);
  KubeConfig config;
  config.server = server.url();
  config.token_file = token.string();
  auto client = client_for(config);
  ASSERT_TRUE(client->get("/api/v1/pods").ok());
  ASSERT_TRUE(client->get("/api/v1/pods").ok());
  EXPECT_EQ(client->token_reads(), 1u);  // unchanged file: read once

  dir.write("token", "token-two\n");  // the kubelet rotates it
  server.set_required_token("token-two");
  HttpResponse r = client->get("/api/v1/pods");
  ASSERT_TRUE(r.ok()) << r.describe();
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].token, "token-one");
  EXPECT_EQ(requests[2].token, "token-two");  // the next request used the new token, no 401 first
  EXPECT_EQ(requests[2].status, 200);
  EXPECT_EQ(client->token_reads(), 2u);
}

TEST(KubeClient, TokenFileIsReadAgainAfter401) {
  TempDir dir;
  auto token = dir.write("token", "aaaa");
  FakeApiServerOptions o;
  o.required_token = "aaaa";
  FakeApiServer server(o);
  KubeConfig config;
  config.server = server.url();
  config.token_file = token.string();
  auto client = client_for(config);
  ASSERT_TRUE(client->get("/api/v1/pods").ok());
  // Same inode, size and mtime: only the 401 tells the client the token changed.
  struct stat before {};
  ASSERT_EQ(::stat(token.c_str(), &before), 0);
  { std::ofstream(token, std::ios::in | std::ios::out) << "bbbb"; }
  timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, token.c_str(), times, 0), 0);
  server.set_required_token("bbbb");
  HttpResponse r = client->get("/api/v1/pods");
  ASSERT_TRUE(r.ok()) << r.describe();
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].token, "aaaa");
  EXPECT_EQ(requests[1].status, 401);
  EXPECT_EQ(requests[2].token, "bbbb");
  EXPECT_EQ(requests[2].status, 200);
}

TEST(KubeClient, InClusterConfigOverTlsWithRotatingToken) {
  TempDir dir;
  dir.write("ca.crt", pki().ca_cert_pem);
  dir.write("token", "sa-token-1");
  dir.write("namespace", "npv-system");
  FakeApiServerOptions o;
  o.tls = true;
  o.server_cert_pem = pki().server_cert_pem;
  o.server_key_pem = pki().server_key_pem;
  o.required_token = "sa-token-1";
  FakeApiServer server(o);
  std::string port = server.url().substr(server.url().rfind(':') + 1);
  InClusterEnv env;
  env.account_dir = dir.path();
  env.getenv = [&](const char* name) -> std::optional<std::string> {
    if (std::string_view(name) == "KUBERNETES_SERVICE_HOST") return "127.0.0.1";
    if (std::string_view(name) == "KUBERNETES_SERVICE_PORT") return port;
    return std::nullopt;
  };
  auto config = in_cluster_config(env);
  ASSERT_TRUE(config) << config.error().message;
  auto client = client_for(*config);
  HttpResponse r = client->get("/api/v1/namespaces");
  ASSERT_TRUE(r.ok()) << r.describe();
  dir.write("token", "sa-token-2");
  server.set_required_token("sa-token-2");
  r = client->get("/api/v1/namespaces");
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(server.requests().back().token, "sa-token-2");
}

FakeApiServerOptions tls_server(bool client_ca) {
  FakeApiServerOptions o;
  o.tls = true;
  o.server_cert_pem = pki().server_cert_pem;
  o.server_key_pem = pki().server_key_pem;
  if (client_ca) o.client_ca_pem = pki().ca_cert_pem;
  return o;
}

TEST(KubeClientTls, VerifiesTheServerWithCaDataOrFileAndRejectsAWrongCa) {
  FakeApiServer server(tls_server(false));
  TempDir dir;
  KubeConfig config;
  config.server = server.url();
  config.ca_pem = pki().ca_cert_pem;
  EXPECT_TRUE(client_for(config)->get("/api/v1/pods").ok());

  config.ca_pem.clear();
  config.ca_file = dir.write("ca.crt", pki().ca_cert_pem).string();
  EXPECT_TRUE(client_for(config)->get("/api/v1/pods").ok());

  config.ca_file.clear();
  config.ca_pem = pki().other_ca_cert_pem;
  HttpResponse r = client_for(config)->get("/api/v1/pods");
  EXPECT_EQ(r.transport, Transport::kFailed);
  EXPECT_THAT(r.error, HasSubstr("certificate"));

  config.insecure_skip_tls_verify = true;  // what insecure-skip-tls-verify means
  config.ca_pem.clear();
  EXPECT_TRUE(client_for(config)->get("/api/v1/pods").ok());
  EXPECT_EQ(server.count("pods", "list"), 3);  // the wrong-CA request never reached the API
}

TEST(KubeClientTls, ClientCertificateAuthenticates) {
  FakeApiServerOptions o = tls_server(true);
  o.required_token = "unused";
  FakeApiServer server(o);
  TempDir dir;
  KubeConfig config;
  config.server = server.url();
  config.ca_pem = pki().ca_cert_pem;
  HttpResponse anonymous = client_for(config)->get("/api/v1/pods");
  EXPECT_EQ(anonymous.status, 401);

  config.client_cert_pem = pki().client_cert_pem;
  config.client_key_pem = pki().client_key_pem;
  HttpResponse r = client_for(config)->get("/api/v1/pods");
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(server.requests().back().client_cn, "npv-agent");

  config.client_cert_pem.clear();
  config.client_key_pem.clear();
  config.client_cert_file = dir.write("client.crt", pki().client_cert_pem).string();
  config.client_key_file = dir.write("client.key", pki().client_key_pem).string();
  r = client_for(config)->get("/api/v1/pods");
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(server.requests().back().client_cn, "npv-agent");
}

TEST(KubeClient, StreamDeliversAChunkedWatchAndPostsAndPatches) {
  FakeApiServer server;
  test::seed_cluster(server);
  auto client = plain_client(server);
  std::string received;
  std::string rv = server.resource_version();
  auto on_data = [&](std::string_view piece) {
    received.append(piece);
    if (received.find('\n') != std::string::npos) return false;  // one whole event: stop the stream
    return true;
  };
  std::thread writer([&] {
    test::wait_until([&] { return server.open_watches("pods") == 1; });
    server.apply("pods", test::pod_object("ops", "probe", {{"app", "probe"}, {"v", "2"}}, "10.0.1.7"));
  });
  HttpResponse r = client->stream("/api/v1/pods?watch=1&resourceVersion=" + rv, on_data);
  writer.join();
  EXPECT_EQ(r.transport, Transport::kAborted);
  auto line = received.substr(0, received.find('\n'));
  auto event = nlohmann::json::parse(line);
  EXPECT_EQ(event["type"], "MODIFIED");
  EXPECT_EQ(event["object"]["metadata"]["labels"]["v"], "2");

  HttpResponse post = client->post("/api/v1/namespaces/shop/events",
                                   R"({"metadata":{"name":"e1","namespace":"shop"},"involvedObject":{"kind":"Pod","namespace":"shop","name":"web-1"},"count":1})");
  EXPECT_EQ(post.status, 201) << post.describe();
  HttpResponse patch = client->patch("/api/v1/namespaces/shop/events/e1", R"({"count":2})",
                                     "application/strategic-merge-patch+json");
  EXPECT_EQ(patch.status, 200) << patch.describe();
  EXPECT_EQ(server.events().at(0)["count"], 2);
  EXPECT_EQ(server.requests().back().content_type, "application/strategic-merge-patch+json");
}

TEST(KubeClient, IdleTimeoutDetectsAServerThatStoppedAnswering) {
  FakeApiServer server;
  server.set_stalled(true);
  auto client = plain_client(server);
  HttpResponse r = client->get("/api/v1/pods", RequestOptions{nullptr, std::chrono::milliseconds(300), {}});
  EXPECT_EQ(r.transport, Transport::kIdleTimeout);
  server.set_stalled(false);
}

TEST(KubeClient, CancelReturnsABlockedRequestPromptly) {
  FakeApiServer server;
  server.set_stalled(true);
  auto client = plain_client(server);
  Cancellation cancel;
  auto pending = std::async(std::launch::async, [&] {
    return client->stream("/api/v1/pods?watch=1", [](std::string_view) { return true; }, cancellable(cancel));
  });
  ASSERT_TRUE(test::wait_until([&] { return server.requests().size() == 1; }));
  cancel.cancel();
  ASSERT_EQ(pending.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(pending.get().transport, Transport::kCancelled);
  // A later request with the same Cancellation fails at once, without connecting.
  EXPECT_EQ(client->get("/api/v1/pods", cancellable(cancel)).transport, Transport::kCancelled);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_FALSE(cancel.sleep_for(std::chrono::hours(1)));
  server.set_stalled(false);
}

TEST(KubeClient, QueryEscape) {
  EXPECT_EQ(query_escape("eyJ2Ijoi+/=="), "eyJ2Ijoi%2B%2F%3D%3D");
  EXPECT_EQ(query_escape("a-b_c.d~1"), "a-b_c.d~1");
}

}  // namespace
}  // namespace npv::kube
