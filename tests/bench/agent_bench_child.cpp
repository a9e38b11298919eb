// The `npv agent` child process of npv_agent_bench, /proc sampling, HTTP scraping
// (agent_bench_child.hpp).
#include "agent_bench_child.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace npv::bench {

namespace {

std::uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// utime + stime and comm of a /proc/.../stat text; nullopt when it does not parse.
std::optional<std::pair<std::uint64_t, std::string>> parse_stat(const std::string& text) {
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  // Fields after the comm start with field 3 (state); utime is field 14, stime 15.
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  if (!rest) return std::nullopt;
  return std::make_pair(utime + stime, text.substr(open + 1, close - open - 1));
}

std::uint64_t status_kib(const std::string& status, const std::string& key) {
  const auto at = status.find("\n" + key + ":");
  if (at == std::string::npos) return 0;
  return std::strtoull(status.c_str() + at + key.size() + 2, nullptr, 10);
}

}  // namespace

Result<std::unique_ptr<AgentChild>> AgentChild::spawn(const std::string& binary, const std::vector<std::string>& args,
                                     const std::string& log_path) {
  // Everything the child needs is prepared before fork(): after it, only async-signal-safe calls.
  std::vector<std::string> argv_s = {binary, "agent"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) return make_error(Errc::kEnvironment, "cannot create " + log_path + ": " + std::strerror(errno), errno);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(log_fd);
    return make_error(Errc::kEnvironment, std::string("pipe: ") + std::strerror(errno), errno);
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    ::close(out[0]);
    ::close(out[1]);
    return make_error(Errc::kEnvironment, std::string("fork: ") + std::strerror(errno), errno);
  }
  if (pid == 0) {
    // Dies with the thread that forked it (main(), which lives until the end).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(out[1]);
  std::unique_ptr<AgentChild> child(new AgentChild());
  child->pid_ = pid;
  child->reader_ = std::thread([c = child.get(), fd = out[0]] { c->read_stdout(fd); });
  return child;
}

void AgentChild::read_stdout(int fd) {
  std::string pending;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      const std::string_view line(pending.data(), nl);
      lines_++;
      if (line.find("\"type\":\"finding\"") != std::string_view::npos) findings_++;
      if (line.find("\"type\":\"drift\"") != std::string_view::npos) drifts_++;
      pending.erase(0, nl + 1);
    }
  }
  ::close(fd);
}

AgentChild::~AgentChild() { stop(); }

bool AgentChild::alive() {
  if (pid_ <= 0) return false;
  if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int AgentChild::stop(std::chrono::milliseconds timeout) {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(timeout.count()) * 1'000'000ULL;
    while (::waitpid(pid_, &status_, WNOHANG) == 0) {
      if (now_ns() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }
  if (reader_.joinable()) reader_.join();  // EOF once the child is gone
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

std::optional<ProcSample> ProcSample::take(pid_t pid) {
  ProcSample s;
  s.wall_ns = now_ns();
  const std::string base = "/proc/" + std::to_string(pid);
  auto stat = parse_stat(slurp(base + "/stat"));
  if (!stat) return std::nullopt;
  s.cpu_ticks = stat->first;
  const std::string status = "\n" + slurp(base + "/status");
  s.rss_kib = status_kib(status, "VmRSS");
  s.hwm_kib = status_kib(status, "VmHWM");
  if (DIR* dir = ::opendir((base + "/task").c_str())) {
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      if (auto t = parse_stat(slurp(base + "/task/" + e->d_name + "/stat"))) {
        const int tid = std::atoi(e->d_name);
        s.thread_ticks[tid] = t->first;
        s.thread_names[tid] = t->second;
      }
    }
    ::closedir(dir);
  }
  return s;
}

double cpu_percent(const ProcSample& a, const ProcSample& b) {
  if (b.wall_ns <= a.wall_ns) return 0;
  const double cpu_s = static_cast<double>(b.cpu_ticks - a.cpu_ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  return 100.0 * cpu_s / (static_cast<double>(b.wall_ns - a.wall_ns) / 1e9);
}


double metric_sum(const std::string& text, const std::string& family, const std::string& label_filter) {
  double total = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.compare(0, family.size(), family) != 0) continue;
    const char next = line.size() > family.size() ? line[family.size()] : '\0';
    if (next != '{' && next != ' ') continue;  // another family sharing the prefix
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    if (!label_filter.empty() && line.substr(0, space).find(label_filter) == std::string::npos) continue;
    total += std::strtod(line.c_str() + space + 1, nullptr);
  }
  return total;
}

}  // namespace npv::bench
