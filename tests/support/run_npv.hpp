// Test helper: runs the npv binary under test with stdout and stderr captured.
// Header-only: the including test target defines NPV_BINARY and NPV_SOURCE_DIR.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace npv::test {

struct CmdResult {
  int code = -1;  // exit status; -1 when the process did not exit normally
  std::string out;
  std::string err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `npv ARGS` through the shell (ARGS is shell text) from the source directory, stdin empty.
inline CmdResult run_npv(const std::string& args) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto out = dir / ("npv-test-out-" + std::to_string(::getpid()));
  const auto err = dir / ("npv-test-err-" + std::to_string(::getpid()));
  const std::string cmd = "cd '" NPV_SOURCE_DIR "' && '" NPV_BINARY "' " + args + " >'" + out.string() + "' 2>'" +
                          err.string() + "' </dev/null";
  const int status = std::system(cmd.c_str());
  CmdResult r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

}  // namespace npv::test
