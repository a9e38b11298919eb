// HttpEndpoint and PrometheusText (what the agent serves on /metrics, /healthz, /readyz).
#include "npv/http_endpoint.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "npv/prometheus_text.hpp"

namespace npv {
namespace {

// Sends `request` to 127.0.0.1:port and returns everything the server answered.
std::string exchange(std::uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

TEST(ListenAddress, Parses) {
  EXPECT_EQ(ListenAddress::parse(":9990")->host, "0.0.0.0");
  EXPECT_EQ(ListenAddress::parse(":9990")->port, 9990);
  EXPECT_EQ(ListenAddress::parse("127.0.0.1:0")->host, "127.0.0.1");
  EXPECT_EQ(ListenAddress::parse("[::1]:80")->host, "::1");
  for (const char* bad : {"9990", "localhost:80", "1.2.3.4:", "1.2.3.4:70000", "[::1:80", "1.2.3.4:8x"}) {
    auto r = ListenAddress::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::kBadInput);
    EXPECT_NE(r.error().message.find(bad), std::string::npos);
  }
}

TEST(HttpEndpoint, ServesPathsAndRejectsOtherMethods) {
  auto ep = HttpEndpoint::start(*ListenAddress::parse("127.0.0.1:0"), [](const std::string& path) {
    if (path == "/healthz") return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
    if (path == "/readyz") return HttpResponse{503, "text/plain; charset=utf-8", "not synced\n"};
    return HttpResponse{404, "text/plain; charset=utf-8", "not found\n"};
  });
  ASSERT_TRUE(ep) << ep.error().message;
  ASSERT_NE(ep->port(), 0);
  auto ok = exchange(ep->port(), "GET /healthz?verbose=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("Content-Length: 3\r\n"), std::string::npos);
  EXPECT_EQ(ok.substr(ok.size() - 3), "ok\n");
  auto unready = exchange(ep->port(), "GET /readyz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(unready.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << unready;
  auto head = exchange(ep->port(), "HEAD /healthz HTTP/1.1\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");  // no body
  EXPECT_EQ(exchange(ep->port(), "POST /healthz HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(exchange(ep->port(), "garbage\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(exchange(ep->port(), "GET /nope HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  const std::string huge = "GET / HTTP/1.1\r\nX: " + std::string(10000, 'a') + "\r\n\r\n";
  EXPECT_EQ(exchange(ep->port(), huge).rfind("HTTP/1.1 431", 0), 0u);
}

TEST(HttpEndpoint, ABoundPortIsAnEnvironmentError) {
  auto first = HttpEndpoint::start(*ListenAddress::parse("127.0.0.1:0"), [](const std::string&) { return HttpResponse{}; });
  ASSERT_TRUE(first);
  auto second = HttpEndpoint::start(*ListenAddress::parse("127.0.0.1:" + std::to_string(first->port())),
                                    [](const std::string&) { return HttpResponse{}; });
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::kEnvironment);
  EXPECT_NE(second.error().message.find("cannot listen on 127.0.0.1:"), std::string::npos);
}

TEST(PrometheusText, FamiliesSamplesAndEscaping) {
  PrometheusText p;
  p.family("npv_findings_total", "counter", "Findings by kind.\nSecond line \\ here");
  p.sample("npv_findings_total", {{"kind", "silent-non-enforcement"}}, std::uint64_t{3});
  p.sample("npv_findings_total", {{"kind", "we\"ird\\\n"}, {"node", "n1"}}, std::uint64_t{0});
  p.family("npv_cluster_synced", "gauge", "1 once synced.");
  p.sample("npv_cluster_synced", std::uint64_t{1});
  p.family("npv_last_event_timestamp_seconds", "gauge", "Unix time.");
  p.sample("npv_last_event_timestamp_seconds", 1763900000.25);
  EXPECT_EQ(p.text(),
            "# HELP npv_findings_total Findings by kind.\\nSecond line \\\\ here\n"
            "# TYPE npv_findings_total counter\n"
            "npv_findings_total{kind=\"silent-non-enforcement\"} 3\n"
            "npv_findings_total{kind=\"we\\\"ird\\\\\\n\",node=\"n1\"} 0\n"
            "# HELP npv_cluster_synced 1 once synced.\n"
            "# TYPE npv_cluster_synced gauge\n"
            "npv_cluster_synced 1\n"
            "# HELP npv_last_event_timestamp_seconds Unix time.\n"
            "# TYPE npv_last_event_timestamp_seconds gauge\n"
            "npv_last_event_timestamp_seconds 1763900000.25\n");
}

}  // namespace
}  // namespace npv
