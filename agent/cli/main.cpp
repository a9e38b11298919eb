// npv: proves that a Kubernetes cluster's CNI enforces its NetworkPolicies.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_st("npv");
  logger->set_pattern("npv: %^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);

  CLI::App app{"npv - NetworkPolicy verifier: proves that a cluster's CNI enforces its NetworkPolicies", "npv"};
  app.set_version_flag("--version", std::string("npv ") + NPV_VERSION);
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 findings, 2 bad usage or input, 3 environment cannot support the command.\n"
             "Run 'npv COMMAND --help' for a command's options.");
  bool verbose = false;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbose, "Log debug details to stderr");
  app.add_flag("-q,--quiet", quiet, "Log only warnings and errors to stderr");

  std::map<CLI::App*, npv::cli::RunFn> commands;
  auto add = [&](npv::cli::RunFn run) { commands[app.get_subcommands({}).back()] = std::move(run); };
  add(npv::cli::register_matrix(app));
  add(npv::cli::register_explain(app));
  add(npv::cli::register_audit(app));
  add(npv::cli::register_observe(app));
  add(npv::cli::register_lab(app));
  add(npv::cli::register_agent(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help/version to stdout, errors to stderr
    return code == 0 ? npv::kExitOk : npv::kExitBadInput;
  }
  if (verbose) spdlog::set_level(spdlog::level::debug);
  if (quiet) spdlog::set_level(spdlog::level::warn);
  for (auto* sub : app.get_subcommands()) return commands.at(sub)();
  return npv::kExitBadInput;
}
