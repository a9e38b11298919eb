// Subcommands of the npv binary. Each register_* adds its subcommand to `app` and returns the
// function to run when it was chosen; that function returns the process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "npv/error.hpp"
#include "npv/model.hpp"

namespace npv::cli {

using RunFn = std::function<int()>;

// --cluster PATH (repeatable, required), shared by every command that reads manifests.
struct ClusterOptions {
  std::vector<std::string> paths;
  void add_to(CLI::App& sub);
  // Loads and logs the loader's notes; prints the error and returns it on failure.
  Result<ClusterState> load() const;
};

// Prints `error` to stderr as "npv: error: ..." and returns its exit code.
int report(const Error& error);

RunFn register_matrix(CLI::App& app);
RunFn register_explain(CLI::App& app);
RunFn register_observe(CLI::App& app);
RunFn register_lab(CLI::App& app);
RunFn register_agent(CLI::App& app);
RunFn register_audit(CLI::App& app);

}  // namespace npv::cli
