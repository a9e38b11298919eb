// Test helper: a throwaway PKI made with OpenSSL for the TLS tests of the Kubernetes client: a CA,
// a server certificate for 127.0.0.1 signed by it, a client certificate (CN npv-agent) signed by
// it, and an unrelated CA that must not verify the server. EC P-256 keys, valid for one day.
#pragma once

#include <string>

namespace npv::test {

struct TestPki {
  std::string ca_cert_pem;
  std::string server_cert_pem;  // subjectAltName IP:127.0.0.1, DNS:localhost
  std::string server_key_pem;
  std::string client_cert_pem;  // CN=npv-agent, clientAuth
  std::string client_key_pem;
  std::string other_ca_cert_pem;
};

// Aborts the test binary (with a message) if OpenSSL fails: there is nothing to test without it.
TestPki make_test_pki();

}  // namespace npv::test
