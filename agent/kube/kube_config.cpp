// In-cluster configuration and kubeconfig files (kube_client.hpp).
#include <yaml-cpp/exceptions.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/yaml_json.hpp"
#include "npv/kube_client.hpp"
#include "kube/text_file.hpp"

namespace npv::kube {

using nlohmann::json;
namespace fs = std::filesystem;

Result<std::string> read_text_file(const fs::path& path, const std::string& context) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return make_error(Errc::kIo, context + "cannot read \"" + path.string() + "\": " + std::strerror(err), err);
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string trim(std::string s) {
  auto end = s.find_last_not_of(" \t\r\n");
  s.erase(end == std::string::npos ? 0 : end + 1);
  auto begin = s.find_first_not_of(" \t\r\n");
  return begin == std::string::npos ? std::string() : s.substr(begin);
}

namespace {

// Strict RFC 4648 base64 (padding optional, whitespace ignored, as Go's decoder accepts in YAML).
std::optional<std::string> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t padding = 0, symbols = 0;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    int v = value(c);
    if (v < 0 || padding > 0) return std::nullopt;  // bad character, or data after padding
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    ++symbols;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (symbols % 4 == 1 || padding > 2 || (padding > 0 && (symbols + padding) % 4 != 0)) return std::nullopt;
  return out;
}

// Reads one named entry list of a kubeconfig ("clusters", "users", "contexts").
class Kubeconfig {
 public:
  Kubeconfig(json doc, fs::path file) : doc_(std::move(doc)), file_(std::move(file)) {}

  // The entry `name` of list `list` and its body (the member `body_key`); `where` is set to
  // "list[i] (name)" for messages.
  Result<const json*> entry(const char* list, const char* body_key, const std::string& name, std::string& where) const {
    auto it = doc_.find(list);
    std::string names;
    if (it != doc_.end() && !it->is_null()) {
      if (!it->is_array()) return bad(std::string(list) + ": expected a list");
      for (std::size_t i = 0; i < it->size(); ++i) {
        const json& e = (*it)[i];
        if (!e.is_object()) return bad(std::string(list) + "[" + std::to_string(i) + "]: expected a mapping");
        auto n = e.find("name");
        if (n == e.end() || !n->is_string()) return bad(std::string(list) + "[" + std::to_string(i) + "].name: required");
        if (n->get<std::string>() != name) {
          names += (names.empty() ? "" : ", ") + n->get<std::string>();
          continue;
        }
        where = std::string(list) + "[" + std::to_string(i) + "] (" + name + ")";
        auto body = e.find(body_key);
        if (body == e.end() || !body->is_object()) return bad(where + ": " + body_key + ": required (a mapping)");
        return &*body;
      }
    }
    return bad(std::string(list) + ": no entry named \"" + name + "\"" +
               (names.empty() ? std::string(" (the list is empty)") : " (have: " + names + ")"));
  }

  std::unexpected<Error> bad(const std::string& message) const {
    return make_error(Errc::kBadInput, file_.string() + ": " + message);
  }

  // "clusters[0] (c): cluster" + "server" -> "clusters[0] (c): cluster.server".
  static std::string field(const std::string& where, const char* key) {
    return where.empty() ? std::string(key) : where + "." + key;
  }

  // A string member, or "" when absent; an error when present but not a string.
  Result<std::string> string_field(const json& body, const char* key, const std::string& where) const {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return std::string();
    if (!it->is_string()) return bad(field(where, key) + ": expected a string");
    return it->get<std::string>();
  }

  // A file path member, resolved against the kubeconfig's directory and checked readable.
  Result<std::string> file_field(const json& body, const char* key, const std::string& where) const {
    auto text = string_field(body, key, where);
    if (!text || text->empty()) return text;
    fs::path p(*text);
    if (p.is_relative()) p = file_.parent_path() / p;
    if (auto r = read_text_file(p, file_.string() + ": " + field(where, key) + ": "); !r) return std::unexpected(r.error());
    return p.string();
  }

  // A base64 PEM member (…-data), decoded and checked to hold a PEM block.
  Result<std::string> pem_field(const json& body, const char* key, const std::string& where) const {
    auto text = string_field(body, key, where);
    if (!text || text->empty()) return text;
    auto pem = base64_decode(*text);
    if (!pem) return bad(field(where, key) + ": not valid base64");
    if (pem->find("-----BEGIN ") == std::string::npos) return bad(field(where, key) + ": does not hold PEM data");
    return *pem;
  }

  const json& doc() const { return doc_; }
  const fs::path& file() const { return file_; }

 private:
  json doc_;
  fs::path file_;
};

Result<void> read_cluster(const Kubeconfig& kc, const json& cluster, const std::string& where, KubeConfig& out) {
  if (cluster.contains("tls-server-name")) return kc.bad(where + ": cluster.tls-server-name: not supported");
  auto server = kc.string_field(cluster, "server", where + ": cluster");
  if (!server) return std::unexpected(server.error());
  if (server->empty()) return kc.bad(where + ": cluster.server: required");
  if (!server->starts_with("https://") && !server->starts_with("http://")) {
    return kc.bad(where + ": cluster.server: expected an https:// URL, got \"" + *server + "\"");
  }
  out.server = *server;
  while (out.server.ends_with('/')) out.server.pop_back();
  auto ca_pem = kc.pem_field(cluster, "certificate-authority-data", where + ": cluster");
  if (!ca_pem) return std::unexpected(ca_pem.error());
  out.ca_pem = *ca_pem;
  if (out.ca_pem.empty()) {  // the data wins over the file, as in client-go
    auto ca_file = kc.file_field(cluster, "certificate-authority", where + ": cluster");
    if (!ca_file) return std::unexpected(ca_file.error());
    out.ca_file = *ca_file;
  }
  if (auto it = cluster.find("insecure-skip-tls-verify"); it != cluster.end() && !it->is_null()) {
    if (!it->is_boolean()) return kc.bad(where + ": cluster.insecure-skip-tls-verify: expected true or false");
    out.insecure_skip_tls_verify = it->get<bool>();
  }
  if (out.insecure_skip_tls_verify && (!out.ca_pem.empty() || !out.ca_file.empty())) {
    return kc.bad(where + ": cluster.insecure-skip-tls-verify: may not be combined with a certificate authority");
  }
  auto proxy = kc.string_field(cluster, "proxy-url", where + ": cluster");
  if (!proxy) return std::unexpected(proxy.error());
  out.proxy_url = *proxy;
  return {};
}

Result<void> read_user(const Kubeconfig& kc, const json& user, const std::string& where, KubeConfig& out) {
  const std::string at = where + ": user";
  for (const char* key : {"exec", "auth-provider"}) {
    if (user.contains(key) && !user[key].is_null()) {
      return kc.bad(at + "." + key + ": credential plugins are not supported (use token, tokenFile or a client certificate)");
    }
  }
  for (const char* key : {"username", "password"}) {
    if (user.contains(key) && !user[key].is_null()) return kc.bad(at + "." + key + ": basic authentication is not supported");
  }
  auto token = kc.string_field(user, "token", at);
  if (!token) return std::unexpected(token.error());
  out.token = *token;
  auto token_file = kc.file_field(user, "tokenFile", at);
  if (!token_file) return std::unexpected(token_file.error());
  out.token_file = *token_file;
  auto cert_pem = kc.pem_field(user, "client-certificate-data", at);
  if (!cert_pem) return std::unexpected(cert_pem.error());
  auto key_pem = kc.pem_field(user, "client-key-data", at);
  if (!key_pem) return std::unexpected(key_pem.error());
  out.client_cert_pem = *cert_pem;
  out.client_key_pem = *key_pem;
  if (out.client_cert_pem.empty()) {
    auto f = kc.file_field(user, "client-certificate", at);
    if (!f) return std::unexpected(f.error());
    out.client_cert_file = *f;
  }
  if (out.client_key_pem.empty()) {
    auto f = kc.file_field(user, "client-key", at);
    if (!f) return std::unexpected(f.error());
    out.client_key_file = *f;
  }
  bool has_cert = !out.client_cert_pem.empty() || !out.client_cert_file.empty();
  bool has_key = !out.client_key_pem.empty() || !out.client_key_file.empty();
  if (has_cert != has_key) {
    return kc.bad(at + (has_cert ? ".client-key(-data): required with a client certificate"
                                 : ".client-certificate(-data): required with a client key"));
  }
  return {};
}

}  // namespace

Result<KubeConfig> in_cluster_config(const InClusterEnv& env) {
  auto getenv = [&](const char* name) -> std::optional<std::string> {
    if (env.getenv) return env.getenv(name);
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  auto host = getenv("KUBERNETES_SERVICE_HOST");
  auto port = getenv("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return make_error(Errc::kEnvironment,
                      "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running "
                      "in a pod?); pass --kubeconfig FILE");
  }
  KubeConfig out;
  // An IPv6 service host needs brackets in a URL.
  out.server = "https://" + (host->find(':') != std::string::npos ? "[" + *host + "]" : *host) + ":" + *port;
  out.token_file = (env.account_dir / "token").string();
  out.ca_file = (env.account_dir / "ca.crt").string();
  for (const auto& path : {out.token_file, out.ca_file}) {
    if (auto r = read_text_file(path, "in-cluster config: service account: "); !r) {
      return make_error(Errc::kEnvironment, r.error().message, r.error().sys_errno);
    }
  }
  if (auto ns = read_text_file(env.account_dir / "namespace", "")) out.ns = trim(*ns);
  out.source = "in-cluster config (" + out.server + ")";
  return out;
}

Result<KubeConfig> load_kubeconfig(const fs::path& file, std::string_view context) {
  auto text = read_text_file(file, file.string() + ": ");
  if (!text) return std::unexpected(text.error());
  json doc;
  try {
    auto first = text->find_first_not_of(" \t\r\n");
    if (first != std::string::npos && (*text)[first] == '{') {
      doc = json::parse(*text);
    } else {
      auto docs = detail::parse_yaml_documents(*text);
      if (!docs.empty()) doc = std::move(docs.front().value);
    }
  } catch (const YAML::Exception& e) {
    return make_error(Errc::kBadInput, file.string() + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  } catch (const json::exception& e) {
    return make_error(Errc::kBadInput, file.string() + ": invalid JSON: " + e.what());
  }
  if (!doc.is_object()) return make_error(Errc::kBadInput, file.string() + ": not a kubeconfig (expected a mapping)");
  Kubeconfig kc(std::move(doc), file);

  std::string context_name(context);
  if (context_name.empty()) {
    auto current = kc.string_field(kc.doc(), "current-context", "");
    if (!current) return std::unexpected(current.error());
    if (current->empty()) return kc.bad("current-context: not set (name a context with --context)");
    context_name = *current;
  }
  std::string where;
  auto ctx = kc.entry("contexts", "context", context_name, where);
  if (!ctx) return std::unexpected(ctx.error());
  const std::string ctx_where = where;
  auto cluster_name = kc.string_field(**ctx, "cluster", ctx_where + ": context");
  if (!cluster_name) return std::unexpected(cluster_name.error());
  if (cluster_name->empty()) return kc.bad(ctx_where + ": context.cluster: required");
  auto user_name = kc.string_field(**ctx, "user", ctx_where + ": context");
  if (!user_name) return std::unexpected(user_name.error());
  auto ns = kc.string_field(**ctx, "namespace", ctx_where + ": context");
  if (!ns) return std::unexpected(ns.error());

  KubeConfig out;
  out.ns = *ns;
  auto cluster = kc.entry("clusters", "cluster", *cluster_name, where);
  if (!cluster) return std::unexpected(cluster.error());
  if (auto r = read_cluster(kc, **cluster, where, out); !r) return std::unexpected(r.error());
  if (!user_name->empty()) {  // a context without a user connects anonymously
    auto user = kc.entry("users", "user", *user_name, where);
    if (!user) return std::unexpected(user.error());
    if (auto r = read_user(kc, **user, where, out); !r) return std::unexpected(r.error());
  }
  out.source = "kubeconfig " + file.string() + " (context " + context_name + ")";
  return out;
}

}  // namespace npv::kube
