// Running helper programs (ip, nft) without a shell, and entering network namespaces.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "npv/unique_fd.hpp"
#include "npv/netns_lab.hpp"

extern char** environ;

namespace npv {
namespace {


std::string command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) {
    if (!line.empty()) line += ' ';
    line += arg.find(' ') == std::string::npos ? arg : "'" + arg + "'";
  }
  return line;
}

// posix_spawn attributes/file actions with RAII destruction.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

struct Pipe {
  UniqueFd read, write;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    int err = errno;
    return make_error(Errc::kEnvironment, std::string("pipe2: ") + std::strerror(err), err);
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Blocks SIGPIPE on the calling thread while alive, so a child that exits without reading its
// stdin gives EPIPE instead of killing the process; a SIGPIPE raised meanwhile is consumed.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_);
  }
  ~SigpipeGuard() {
    if (raised_) {
      timespec zero{};
      while (sigtimedwait(&pipe_set_, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  void raised() { raised_ = true; }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_set_, old_;
  bool raised_ = false;
};

// Feeds `input` to `in` and drains `out`/`err` until both reach EOF.
void pump(UniqueFd in, UniqueFd out, UniqueFd err, std::string_view input, CommandOutput& result) {
  SigpipeGuard sigpipe;
  std::size_t written = 0;
  if (input.empty()) in.reset();
  if (in) fcntl(in.get(), F_SETFL, O_NONBLOCK);
  while (out || err) {
    pollfd fds[3];
    int n = 0;
    int in_idx = -1, out_idx = -1, err_idx = -1;
    if (in) { in_idx = n; fds[n++] = {in.get(), POLLOUT, 0}; }
    if (out) { out_idx = n; fds[n++] = {out.get(), POLLIN, 0}; }
    if (err) { err_idx = n; fds[n++] = {err.get(), POLLIN, 0}; }
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (in_idx >= 0 && fds[in_idx].revents) {
      ssize_t w = write(in.get(), input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<std::size_t>(w);
      if (w < 0 && errno == EPIPE) sigpipe.raised();
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) in.reset();
    }
    auto drain = [](UniqueFd& fd, short revents, std::string& sink) {
      if (!revents) return;
      char buf[4096];
      ssize_t r = read(fd.get(), buf, sizeof(buf));
      if (r > 0) sink.append(buf, static_cast<std::size_t>(r));
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) fd.reset();
    };
    if (out_idx >= 0) drain(out, fds[out_idx].revents, result.out);
    if (err_idx >= 0) drain(err, fds[err_idx].revents, result.err);
  }
}

}  // namespace

Result<CommandOutput> run_command(const std::vector<std::string>& argv, std::string_view input) {
  if (argv.empty()) return make_error(Errc::kBadInput, "run_command: empty command line");
  auto in = make_pipe();
  if (!in) return std::unexpected(in.error());
  auto out = make_pipe();
  if (!out) return std::unexpected(out.error());
  auto err = make_pipe();
  if (!err) return std::unexpected(err.error());

  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, in->read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, out->write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err->write.get(), STDERR_FILENO);
  // The child must not inherit the calling thread's signal mask or an ignored SIGPIPE.
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&setup.attr, &empty);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0].c_str(), &setup.actions, &setup.attr, args.data(), environ);
  if (rc != 0) {
    std::string hint = rc == ENOENT ? " (not installed or not in PATH)" : "";
    return make_error(Errc::kEnvironment,
                      "cannot run `" + command_line(argv) + "`: " + std::strerror(rc) + hint, rc);
  }
  in->read.reset();
  out->write.reset();
  err->write.reset();

  CommandOutput result;
  pump(std::move(in->write), std::move(out->read), std::move(err->read), input, result);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      int e = errno;
      return make_error(Errc::kEnvironment,
                        "waitpid for `" + command_line(argv) + "`: " + std::strerror(e), e);
    }
  }
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Result<std::string> run_checked(const std::vector<std::string>& argv, std::string_view input) {
  auto result = run_command(argv, input);
  if (!result) return std::unexpected(result.error());
  if (result->exit_status != 0) {
    std::string err = result->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return make_error(Errc::kEnvironment, "`" + command_line(argv) + "` failed (exit status " +
                                              std::to_string(result->exit_status) + "): " + err);
  }
  return std::move(result->out);
}

namespace lab_detail {

Result<void> enter_netns(const std::string& netns) {
  if (netns.empty() || netns.find('/') != std::string::npos || netns == "." || netns == "..") {
    return make_error(Errc::kBadInput, "invalid network namespace name \"" + netns + "\"");
  }
  const std::string path = "/run/netns/" + netns;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int e = errno;
    return make_error(Errc::kEnvironment, "cannot open network namespace " + path + ": " + std::strerror(e), e);
  }
  if (setns(fd.get(), CLONE_NEWNET) != 0) {
    int e = errno;
    std::string hint = e == EPERM ? " (needs CAP_SYS_ADMIN: run as root)" : "";
    return make_error(Errc::kEnvironment,
                      "setns(" + path + ", CLONE_NEWNET): " + std::strerror(e) + hint, e);
  }
  return {};
}

}  // namespace lab_detail

Result<void> apply_nft_in(const std::string& netns, std::string_view ruleset) {
  auto result = run_in_netns(netns, [&] { return run_command({"nft", "-f", "-"}, ruleset); });
  if (!result) return std::unexpected(result.error());
  if (result->exit_status != 0) {
    std::string err = result->err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return make_error(Errc::kBadInput, "`nft -f -` in network namespace " + netns +
                                           " rejected the ruleset (exit status " +
                                           std::to_string(result->exit_status) + "):\n" + err);
  }
  return {};
}

Result<void> apply_nft(const LabPod& pod, std::string_view ruleset) {
  return apply_nft_in(pod.netns, ruleset);
}

}  // namespace npv
