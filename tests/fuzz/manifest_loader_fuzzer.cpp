// libFuzzer target: arbitrary bytes as a manifest file. The loader must return a value or an
// Error, never crash, hang or trip a sanitizer; whatever it accepts must compile into an engine
// and answer verdicts and explanations.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "npv/explain_report.hpp"
#include "npv/loader.hpp"
#include "npv/matrix.hpp"
#include "npv/policy_engine.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  npv::ClusterBuilder builder;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!builder.add_text(text, "fuzz.yaml")) return 0;
  auto cluster = builder.build();
  if (!cluster || cluster->pods.size() > 64) return 0;
  npv::PolicyEngine engine(*cluster);
  auto ports = npv::declared_ports(*cluster);
  ports.push_back({80, npv::Protocol::kTCP});
  auto matrix = npv::compute_matrix(engine, ports);
  std::ostringstream json;
  npv::write_matrix_json(json, matrix, *cluster);
  if (!nlohmann::json::accept(json.str())) __builtin_trap();  // the streamed JSON must parse
  for (npv::PodId src = 0; src < cluster->pods.size(); ++src) {
    npv::Flow flow{npv::Endpoint::of_pod(src), npv::Endpoint::of_ip(*npv::IpAddr::parse("10.0.0.1")), ports[0]};
    auto e = engine.explain(flow);
    if (e.allowed() != engine.allowed(flow)) __builtin_trap();  // explanation and verdict must agree
    (void)npv::explanation_to_text(*cluster, flow, e);
  }
  return 0;
}
