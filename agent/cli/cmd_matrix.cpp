#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "npv/matrix.hpp"

namespace npv::cli {

namespace {

struct MatrixOptions {
  ClusterOptions cluster;
  std::vector<std::string> ports;
  std::string output = "table";
};

int run_matrix(const MatrixOptions& opt) {
  std::vector<PortProto> ports;
  for (const auto& text : opt.ports) {
    auto p = PortProto::parse(text);
    if (!p) return report(Error{Errc::kBadInput, "--port " + p.error()});
    ports.push_back(*p);
  }
  auto cluster = opt.cluster.load();
  if (!cluster) return report(cluster.error());
  if (ports.empty()) {
    ports = declared_ports(*cluster);
    if (ports.empty()) {
      return report(Error{Errc::kBadInput,
                          "no pod declares a container port, so there is nothing to tabulate: pass --port, e.g. --port 80/TCP"});
    }
  }
  if (cluster->pods.empty()) return report(Error{Errc::kBadInput, "the cluster has no pods"});
  PolicyEngine engine(*cluster);
  // Show progress on a terminal when the table is large enough to take a while.
  const bool show_progress = isatty(STDERR_FILENO) && cluster->pods.size() * cluster->pods.size() * ports.size() > 20'000'000;
  int last_percent = -1;
  auto m = compute_matrix(engine, ports, [&](std::size_t done, std::size_t total) {
    if (!show_progress) return;
    int percent = static_cast<int>(done * 100 / total);
    if (percent != last_percent) std::fprintf(stderr, "\rnpv: matrix %3d%%", percent);
    last_percent = percent;
    if (done == total) std::fputc('\n', stderr);
  });
  if (opt.output == "json") {
    write_matrix_json(std::cout, m, *cluster);
  } else {
    std::cout << matrix_to_table(m, *cluster);
  }
  return kExitOk;
}

}  // namespace

RunFn register_matrix(CLI::App& app) {
  auto opt = std::make_shared<MatrixOptions>();
  auto* sub = app.add_subcommand("matrix", "Reachability truth table: which pod may reach which, per port");
  sub->footer(
      "Without --port, every port/protocol some pod declares in spec.containers[].ports is tabulated.\n"
      "JSON (-o json): {\"80/TCP\": {\"ns/src\": [\"ns/dst\", ...], ...}, ...}; every pod is a key and its\n"
      "value the sorted destinations allowed on that port (a pod always reaches itself).\n"
      "Example: npv matrix --cluster examples/three-tier --port 8080/TCP");
  opt->cluster.add_to(*sub);
  sub->add_option("-p,--port", opt->ports, "Port to tabulate, PORT/PROTO (80/TCP, 53/UDP, 5432/SCTP); repeatable")
      ->type_name("PORT/PROTO");
  sub->add_option("-o,--output", opt->output, "Output format")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  return [opt] { return run_matrix(*opt); };
}

}  // namespace npv::cli
