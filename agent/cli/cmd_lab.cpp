// npv lab: the manifests as a miniature cluster on this machine, probed, observed and verified.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "npv/lab_runner.hpp"
#include "npv/loader.hpp"
#include "npv/netns_lab.hpp"

namespace npv::cli {

namespace {

std::atomic<bool> g_interrupted{false};
volatile std::sig_atomic_t g_signal = 0;

void say(const char* text, std::size_t len) {
  if (write(STDERR_FILENO, text, len) < 0) {
    // Nothing to do from a signal handler.
  }
}

// First SIGINT/SIGTERM: ask the run to stop (it tears the lab down). Second: exit at once; the
// next run (or `npv lab --cleanup`) removes what is left.
// A repeat within kRepeatNs of the first is the same interrupt delivered twice (e.g. to the
// process and to its process group) and is ignored.
constexpr long long kRepeatNs = 300'000'000;
volatile std::sig_atomic_t g_first_s = 0;
volatile long g_first_ns = 0;

extern "C" void on_lab_signal(int sig) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // async-signal-safe
  if (g_interrupted.load()) {
    const long long since = (static_cast<long long>(now.tv_sec) - g_first_s) * 1'000'000'000LL + now.tv_nsec - g_first_ns;
    if (since < kRepeatNs) return;
    static const char kMsg[] = "\nnpv: interrupted again: exiting now; 'npv lab --cleanup' removes what is left\n";
    say(kMsg, sizeof(kMsg) - 1);
    _exit(128 + sig);
  }
  g_signal = sig;
  g_first_s = static_cast<std::sig_atomic_t>(now.tv_sec);
  g_first_ns = now.tv_nsec;
  g_interrupted.store(true);
  static const char kMsg[] = "\nnpv: interrupted: tearing the lab down (again to exit at once)\n";
  say(kMsg, sizeof(kMsg) - 1);
}

struct LabCliOptions {
  std::vector<std::string> cluster_paths;
  std::string dataplane = "enforcing";
  std::string synced_before;
  std::vector<std::string> externals;
  std::string lab_cidr{kDefaultLabCidr};
  int timeout_ms = 300;
  unsigned parallel = 32;
  std::string output = "table";
  std::string report_path, html_path;
  bool cleanup = false;
};

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The example that ships in the repository (build tree), else ./examples/three-tier.
Result<std::string> default_cluster() {
  for (const std::string& dir : {std::string(NPV_EXAMPLES_DIR) + "/three-tier", std::string("examples/three-tier")}) {
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) return dir;
  }
  return make_error(Errc::kBadInput, "no --cluster given and the example examples/three-tier was not found");
}

// `path`'s directory must exist before the lab runs, so a typo does not cost a whole run.
Result<void> check_writable(const std::string& path, const char* flag) {
  if (path.empty()) return {};
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return make_error(Errc::kIo, std::string(flag) + " " + path + ": directory " + dir.string() + " does not exist");
  }
  return {};
}

// Writes FILE.tmp, then renames it over FILE: readers see the old file or the whole new one.
Result<void> write_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  auto fail = [&](const std::string& what) -> Result<void> {
    int e = errno;
    ::unlink(tmp.c_str());
    return make_error(Errc::kIo, "cannot write " + path + ": " + what + ": " + std::strerror(e), e);
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("open " + tmp);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return fail("write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail("fsync");
  }
  if (::close(fd) != 0) return fail("close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
  return {};
}

int run_cleanup(const std::string& prefix) {
  if (geteuid() != 0) {
    return report(Error{Errc::kEnvironment, "npv lab --cleanup needs root (it deletes network namespaces)", EPERM});
  }
  auto removed = NetnsLab::cleanup_stale(prefix);
  if (!removed) return report(removed.error());
  std::printf("npv lab: removed %d leftover network namespace%s\n", *removed, *removed == 1 ? "" : "s");
  return kExitOk;
}

Result<LabRunOptions> run_options(const LabCliOptions& opt) {
  LabRunOptions o;
  auto mode = parse_dataplane(opt.dataplane);
  if (!mode) {
    return make_error(Errc::kBadInput, "--dataplane \"" + opt.dataplane + "\": expected one of " + kDataplaneNames);
  }
  o.dataplane.mode = *mode;
  if (!opt.synced_before.empty()) {
    if (*mode != Dataplane::kStale) return make_error(Errc::kBadInput, "--synced-before applies only to --dataplane stale");
    if (!is_rfc3339_utc(opt.synced_before)) {
      return make_error(Errc::kBadInput,
                        "--synced-before \"" + opt.synced_before + "\": expected a UTC time like 2026-11-23T15:00:00Z");
    }
    o.dataplane.synced_before = opt.synced_before;
  } else if (*mode == Dataplane::kStale) {
    o.dataplane.synced_before = now_rfc3339();  // the agent stopped syncing when the lab started
  }
  for (const auto& text : opt.externals) {
    auto ext = parse_external(text);
    if (!ext) return make_error(Errc::kBadInput, "--external " + ext.error());
    o.externals.push_back(*ext);
  }
  o.lab_cidr = opt.lab_cidr;
  o.probe_timeout = std::chrono::milliseconds(opt.timeout_ms);
  o.parallel = opt.parallel;
  for (const auto& [path, flag] : {std::pair{opt.report_path, "--report"}, std::pair{opt.html_path, "--html"}}) {
    if (auto ok = check_writable(path, flag); !ok) return std::unexpected(ok.error());
  }
  return o;
}

int run_lab_command(const LabCliOptions& opt) {
  const LabRunOptions defaults;
  if (opt.cleanup) return run_cleanup(defaults.prefix);
  auto options = run_options(opt);
  if (!options) return report(options.error());
  ClusterOptions cluster_options{opt.cluster_paths};
  if (cluster_options.paths.empty()) {
    auto example = default_cluster();
    if (!example) return report(example.error());
    spdlog::info("lab: no --cluster given: using the example {}", *example);
    cluster_options.paths.push_back(*example);
  }
  auto loaded = cluster_options.load();
  if (!loaded) return report(loaded.error());
  auto cluster = lab_cluster(*loaded, *options);  // what the lab runs; the report refers to it
  if (!cluster) return report(cluster.error());

  struct sigaction sa {};
  sa.sa_handler = on_lab_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto result = run_lab(*cluster, *options, g_interrupted);
  if (g_interrupted.load()) {
    std::fprintf(stderr, "npv: lab interrupted; it was torn down\n");
    const int sig = g_signal;
    std::signal(sig, SIG_DFL);  // die of the signal, as the shell expects
    std::raise(sig);
    return 128 + sig;
  }
  if (!result) return report(result.error());

  if (!opt.report_path.empty()) {
    auto written = write_atomically(opt.report_path, report_to_json(*result, *cluster).dump(2) + "\n");
    if (!written) return report(written.error());
  }
  if (!opt.html_path.empty()) {
    auto written = write_atomically(opt.html_path, report_to_html(*result, *cluster));
    if (!written) return report(written.error());
  }
  if (opt.output == "json") {
    std::cout << report_to_json(*result, *cluster).dump(2) << '\n';
  } else {
    std::cout << report_to_text(*result, *cluster);
  }
  std::cout.flush();
  const bool findings = std::any_of(result->probes.begin(), result->probes.end(),
                                    [](const ProbeRecord& r) { return !r.findings.empty(); });
  return findings ? kExitFindings : kExitOk;
}

}  // namespace

RunFn register_lab(CLI::App& app) {
  auto opt = std::make_shared<LabCliOptions>();
  auto* sub = app.add_subcommand("lab", "Run the manifests as a miniature cluster on this machine and verify a dataplane");
  sub->footer(
      "Needs root (network namespaces, nftables, eBPF). Every pod becomes a network namespace on a bridge,\n"
      "with its status.podIP (or one from --lab-cidr) and a listener on each declared TCP/UDP container port.\n"
      "Every pod probes every other pod on each of its ports (and every --external peer); the eBPF observer\n"
      "reports what happened and each flow is checked against the policies. Lab traffic never leaves the lab.\n"
      "Dataplanes: none (accepts everything, like Flannel), enforcing (policies compiled to nftables),\n"
      "ingress-only, ignore-named-ports, ignore-except, tcp-only, stale (only policies created before\n"
      "--synced-before, default: now).\n"
      "Exit codes: 0 every flow agrees, 1 findings, 2 bad input, 3 no root or no eBPF; killed by the signal\n"
      "after teardown when interrupted.\n"
      "Example: sudo npv lab --dataplane none");
  sub->add_option("-c,--cluster", opt->cluster_paths,
                  "Kubernetes manifests (files or directories; repeatable); default: the three-tier example")
      ->type_name("PATH");
  sub->add_option("-d,--dataplane", opt->dataplane, std::string("Dataplane: ") + kDataplaneNames)
      ->type_name("MODE")
      ->capture_default_str();
  sub->add_option("--synced-before", opt->synced_before,
                  "With --dataplane stale: enforce only policies created before this UTC time (2026-11-23T15:00:00Z)")
      ->type_name("TIME");
  sub->add_option("-e,--external", opt->externals,
                  "An external peer as a lab host: IP:PORT/PROTO, e.g. 203.0.113.7:443/TCP; repeatable")
      ->type_name("IP:PORT/PROTO");
  sub->add_option("--lab-cidr", opt->lab_cidr, "IPv4 block for pods without status.podIP")
      ->type_name("CIDR")
      ->capture_default_str();
  sub->add_option("-t,--timeout", opt->timeout_ms, "Probe timeout, milliseconds")
      ->check(CLI::Range(10, 60000))
      ->type_name("MS")
      ->capture_default_str();
  sub->add_option("-j,--parallel", opt->parallel, "Probes run at once")->check(CLI::Range(1, 1024))->capture_default_str();
  sub->add_option("-o,--output", opt->output, "Output format")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  sub->add_option("--report", opt->report_path, "Also write the JSON report to FILE")->type_name("FILE");
  sub->add_option("--html", opt->html_path, "Also write a self-contained HTML report to FILE")->type_name("FILE");
  sub->add_flag("--cleanup", opt->cleanup, "Only remove network namespaces left by crashed or killed lab runs");
  return [opt] { return run_lab_command(*opt); };
}

}  // namespace npv::cli
