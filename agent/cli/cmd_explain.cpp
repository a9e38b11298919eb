#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "npv/explain_report.hpp"
#include "npv/policy_engine.hpp"

namespace npv::cli {

namespace {

struct ExplainOptions {
  ClusterOptions cluster;
  std::string from, to, port;
  std::string output = "table";
};

// "ns/pod" or an IP address. An IP that belongs to a pod of the cluster is that pod.
Result<Endpoint> parse_endpoint(const ClusterState& cluster, const std::string& flag, const std::string& text) {
  if (auto ip = IpAddr::parse(text)) {
    Endpoint e = Endpoint::of_ip(*ip);
    e.pod = cluster.find_pod_by_ip(*ip);
    return e;
  }
  if (text.find('/') == std::string::npos) {
    return make_error(Errc::kBadInput, flag + " \"" + text + "\": expected NAMESPACE/POD or an IP address");
  }
  if (auto pod = cluster.find_pod(text)) return Endpoint::of_pod(*pod);
  return make_error(Errc::kBadInput, flag + " \"" + text + "\": no such pod in the cluster (" +
                                         std::to_string(cluster.pods.size()) + " pods loaded; 'npv matrix' lists them)");
}

int run_explain(const ExplainOptions& opt) {
  auto port = PortProto::parse(opt.port);
  if (!port) return report(Error{Errc::kBadInput, "--port " + port.error()});
  auto cluster = opt.cluster.load();
  if (!cluster) return report(cluster.error());
  auto src = parse_endpoint(*cluster, "--from", opt.from);
  if (!src) return report(src.error());
  auto dst = parse_endpoint(*cluster, "--to", opt.to);
  if (!dst) return report(dst.error());
  if (!src->pod && !dst->pod) {
    return report(Error{Errc::kBadInput, "neither --from nor --to is a pod of the cluster: NetworkPolicy cannot apply"});
  }
  PolicyEngine engine(*cluster);
  Flow flow{*src, *dst, *port};
  Explanation e = engine.explain(flow);
  if (opt.output == "json") {
    std::cout << explanation_to_json(*cluster, flow, e).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    std::cout << explanation_to_text(*cluster, flow, e);
  }
  return kExitOk;
}

}  // namespace

RunFn register_explain(CLI::App& app) {
  auto opt = std::make_shared<ExplainOptions>();
  auto* sub = app.add_subcommand("explain", "Verdict for one flow, and which policies and rules decide it");
  sub->footer(
      "The verdict does not change the exit code (0); read \"allowed\" in -o json.\n"
      "Example: npv explain --cluster examples/three-tier --from production/frontend \\\n"
      "           --to production/backend --port 8080/TCP");
  opt->cluster.add_to(*sub);
  sub->add_option("--from", opt->from, "Source: NAMESPACE/POD, or an IP address")->required()->type_name("POD|IP");
  sub->add_option("--to", opt->to, "Destination: NAMESPACE/POD, or an IP address")->required()->type_name("POD|IP");
  sub->add_option("-p,--port", opt->port, "Destination port, PORT/PROTO (80/TCP, 53/UDP, 5432/SCTP)")
      ->required()
      ->type_name("PORT/PROTO");
  sub->add_option("-o,--output", opt->output, "Output format")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  return [opt] { return run_explain(*opt); };
}

}  // namespace npv::cli
