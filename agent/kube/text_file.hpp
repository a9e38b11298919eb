// Small file helpers of the Kubernetes client (kubeconfig, CA bundles, service account token).
#pragma once

#include <filesystem>
#include <string>

#include "npv/error.hpp"

namespace npv::kube {

// The whole file; Errc::kIo naming the path (after `context`, e.g. "kubeconfig X: ") on failure.
Result<std::string> read_text_file(const std::filesystem::path& path, const std::string& context = {});
// Without leading and trailing spaces, tabs and line ends (a token file ends with a newline).
std::string trim(std::string s);

}  // namespace npv::kube
