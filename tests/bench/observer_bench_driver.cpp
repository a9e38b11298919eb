// Storms, consumer, bpftrace child and guards of npv_observer_bench (observer_bench_driver.hpp).
#include "observer_bench_driver.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <latch>
#include <mutex>
#include <sstream>

extern char** environ;

namespace npv::bench {

std::atomic<bool> g_interrupted{false};

namespace {

void on_signal(int) { g_interrupted.store(true); }

std::uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

sockaddr_in v4_sockaddr(const IpAddr& ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  std::memcpy(&a.sin_addr, ip.bytes.data(), 4);
  return a;
}

// What one storm thread did.
struct Tally {
  std::uint64_t attempts = 0, as_expected = 0, unexpected = 0;
  int first_errno = 0;
  std::uint64_t end_ns = 0;
  void fail(int err) {
    ++unexpected;
    if (first_errno == 0) first_errno = err;
  }
};

// One operation of a storm; returns whether it went as the storm expects (errno in `err` if not).
bool storm_op(StormKind kind, const sockaddr_in& dst, const sockaddr_in& dst2, int& err) {
  const auto* to = reinterpret_cast<const sockaddr*>(&dst);
  if (kind == StormKind::kUdp) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return err = errno, false;
    static constexpr char kPayload[] = "npvb";
    bool ok = sendto(fd, kPayload, sizeof(kPayload), 0, to, sizeof(dst)) >= 0;
    ok = ok && sendto(fd, kPayload, sizeof(kPayload), 0, reinterpret_cast<const sockaddr*>(&dst2), sizeof(dst2)) >= 0;
    if (!ok) err = errno;
    close(fd);
    return ok;
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return err = errno, false;
  const linger abort_on_close{1, 0};  // RST on close: no TIME_WAIT, so ports never run out
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
  const int rc = connect(fd, to, sizeof(dst));
  err = rc == 0 ? 0 : errno;
  close(fd);
  return kind == StormKind::kAccept ? rc == 0 : (rc != 0 && err == ECONNREFUSED);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::uint64_t monotonic_ns() { return clock_ns(CLOCK_MONOTONIC); }
std::uint64_t thread_cpu_ns() { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

// ---- storms -------------------------------------------------------------------------------------

StormResult run_storm(StormKind kind, const LabPod& client, const IpAddr& dst, std::uint16_t port,
                      std::uint16_t port2, std::uint64_t count, int threads) {
  const sockaddr_in to = v4_sockaddr(dst, port);
  const sockaddr_in to2 = v4_sockaddr(dst, port2);
  threads = std::max(threads, 1);
  std::atomic<std::uint64_t> next{0};
  std::latch ready(threads);
  std::latch go(1);
  std::vector<Tally> tallies(static_cast<std::size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Tally& tally = tallies[static_cast<std::size_t>(t)];
      auto entered = run_in(client, [&] {
        ready.count_down();
        go.wait();
        for (;;) {
          const std::uint64_t i = next.fetch_add(1, std::memory_order_relaxed);
          if (i >= count || g_interrupted.load(std::memory_order_relaxed)) break;
          ++tally.attempts;
          int err = 0;
          if (storm_op(kind, to, to2, err)) {
            ++tally.as_expected;
          } else {
            tally.fail(err);
          }
        }
        tally.end_ns = monotonic_ns();
      });
      if (!entered) {  // setns failed: nothing ran; do not leave the others waiting
        ready.count_down();
        tally.fail(entered.error().sys_errno);
      }
    });
  }
  ready.wait();
  const std::uint64_t start = monotonic_ns();
  go.count_down();
  for (auto& w : workers) w.join();

  StormResult r;
  std::uint64_t end = start;
  for (const Tally& t : tallies) {
    r.attempts += t.attempts;
    r.as_expected += t.as_expected;
    r.unexpected += t.unexpected;
    if (r.first_unexpected_errno == 0) r.first_unexpected_errno = t.first_errno;
    end = std::max(end, t.end_ns);
  }
  r.seconds = static_cast<double>(end - start) / 1e9;
  return r;
}

Result<std::unique_ptr<AcceptServer>> AcceptServer::start(const LabPod& server, std::uint16_t port) {
  std::unique_ptr<AcceptServer> s(new AcceptServer());
  auto opened = run_in(server, [&]() -> Result<void> {
    write_file("/proc/sys/net/core/somaxconn", "65535");  // this thread's (the pod's) namespace
    s->listener_ = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int one = 1;
    setsockopt(s->listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const sockaddr_in any = v4_sockaddr(IpAddr{}, port);
    if (!s->listener_ || bind(s->listener_.get(), reinterpret_cast<const sockaddr*>(&any), sizeof(any)) != 0 ||
        listen(s->listener_.get(), 65535) != 0)
      return make_error(Errc::kEnvironment, std::string("listener: ") + std::strerror(errno), errno);
    return {};
  });
  if (!opened) return std::unexpected(opened.error());
  AcceptServer* self = s.get();
  s->thread_ = std::thread([self] {
    for (;;) {
      const int fd = accept4(self->listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        close(fd);
        self->accepted_.fetch_add(1, std::memory_order_relaxed);
      } else if (errno != EINTR && errno != ECONNABORTED) {
        return;  // EINVAL after shutdown()
      }
    }
  });
  return s;
}

AcceptServer::~AcceptServer() {
  shutdown(listener_.get(), SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
}

Result<HeldConnections> HeldConnections::open(const LabPod& client, const LabPod& server, std::uint16_t port,
                                              std::uint64_t count) {
  auto listener = run_in(server, [&]() -> Result<UniqueFd> {
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const sockaddr_in any = v4_sockaddr(IpAddr{}, port);
    if (!fd || bind(fd.get(), reinterpret_cast<const sockaddr*>(&any), sizeof(any)) != 0 ||
        listen(fd.get(), SOMAXCONN) != 0)
      return make_error(Errc::kEnvironment, std::string("teardown listener: ") + std::strerror(errno), errno);
    return fd;
  });
  if (!listener) return std::unexpected(listener.error());
  HeldConnections held;
  const sockaddr_in to = v4_sockaddr(server.v4, port);
  auto opened = run_in(client, [&]() -> Result<void> {
    for (std::uint64_t i = 0; i < count && !g_interrupted.load(); ++i) {
      UniqueFd c(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!c || connect(c.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0)
        return make_error(Errc::kEnvironment, std::string("teardown connect: ") + std::strerror(errno), errno);
      UniqueFd s(accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!s) return make_error(Errc::kEnvironment, std::string("teardown accept: ") + std::strerror(errno), errno);
      held.clients_.push_back(std::move(c));
      held.servers_.push_back(std::move(s));
    }
    return {};
  });
  if (!opened) return std::unexpected(opened.error());
  return held;
}

StormResult HeldConnections::close_all() {
  StormResult r;
  const std::uint64_t start = monotonic_ns();
  for (auto& fd : clients_) fd.reset();
  for (auto& fd : servers_) fd.reset();
  r.seconds = static_cast<double>(monotonic_ns() - start) / 1e9;
  r.attempts = r.as_expected = clients_.size();
  clients_.clear();
  servers_.clear();
  return r;
}

std::uint64_t listen_overflows(const LabPod& pod) {
  // /proc/thread-self/net: the namespace of this thread (run_in's), not of the main thread.
  auto text = run_in(pod, [] { return read_file("/proc/thread-self/net/netstat"); });
  if (!text) return 0;
  std::istringstream in(*text);
  std::string names, values;
  while (std::getline(in, names) && std::getline(in, values)) {
    if (names.rfind("TcpExt:", 0) != 0) continue;
    std::istringstream n(names), v(values);
    std::string name, value;
    std::uint64_t total = 0;
    while (n >> name && v >> value) {
      if (name == "ListenOverflows" || name == "ListenDrops") total += std::stoull(value);
    }
    return total;
  }
  return 0;
}

// ---- the consumer -------------------------------------------------------------------------------

Consumer::Consumer(Observer& observer, std::chrono::milliseconds batch_interval)
    : observer_(observer), batch_interval_(batch_interval) {}
Consumer::~Consumer() {
  if (thread_.joinable()) stop();
}

void Consumer::start() {
  stop_.store(false);
  tally_ = {};
  thread_ = std::thread([this] { run(); });
}

ConsumerTally Consumer::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  return tally_;
}

void Consumer::run() {
  const std::uint64_t cpu0 = thread_cpu_ns();
  TrackerOptions options;
  options.drop_reason_name = [this](std::uint32_t v) { return observer_.drop_reason_name(v); };
  FlowTracker tracker(nullptr, options);
  std::string line;  // the text npv observe would print, discarded
  const auto on_event = [&](const npv_event& ev) {
    ++tally_.events;
    ++tally_.by_type[ev.type < tally_.by_type.size() ? ev.type : 0];
    tracker.on_event(ev);
  };
  const auto take = [&](std::vector<ObservedFlow> flows) {
    for (const ObservedFlow& f : flows) {
      line = flow_to_text(f, nullptr);
      ++tally_.flows;
      if (f.outcome == Outcome::kEstablished) ++tally_.flows_established;
      if (f.outcome == Outcome::kRefused) ++tally_.flows_refused;
    }
  };
  // The loop of `npv observe` (agent/cli/cmd_observe.cpp), or the batched variant.
  const bool batched = batch_interval_.count() > 0;
  while (!stop_.load()) {
    const int n = observer_.poll(batched ? std::chrono::milliseconds(0) : std::chrono::milliseconds(100), on_event);
    if (n < 0) {
      tally_.poll_error = n;
      break;
    }
    take(tracker.take_completed(monotonic_ns()));
    if (batched) std::this_thread::sleep_for(batch_interval_);
  }
  while (observer_.poll(std::chrono::milliseconds(50), on_event) > 0) {
  }
  take(tracker.flush());
  tally_.cpu_ns = thread_cpu_ns() - cpu0;
}

// ---- the bpftrace peer --------------------------------------------------------------------------

Result<BpftraceChild> BpftraceChild::start(const std::string& program, std::chrono::milliseconds timeout) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
    return make_error(Errc::kEnvironment, std::string("pipe: ") + std::strerror(errno), errno);
  BpftraceChild child;
  child.out_ = UniqueFd(out[0]);
  child.err_ = UniqueFd(err[0]);
  UniqueFd out_w(out[1]), err_w(err[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_w.get(), STDERR_FILENO);
  std::vector<std::string> args = {"bpftrace", "-e", program};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = posix_spawnp(&child.pid_, "bpftrace", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return make_error(Errc::kEnvironment, std::string("cannot run bpftrace: ") + std::strerror(rc), rc);
  out_w.reset();
  err_w.reset();

  const std::uint64_t deadline = monotonic_ns() + static_cast<std::uint64_t>(timeout.count()) * 1'000'000;
  while (child.out_text_.find("Attaching") == std::string::npos) {
    if (monotonic_ns() > deadline) {
      return make_error(Errc::kEnvironment, "bpftrace did not attach within " + std::to_string(timeout.count()) +
                                                " ms: " + trim(child.err_text_));
    }
    pollfd fds[2] = {{child.out_.get(), POLLIN, 0}, {child.err_.get(), POLLIN, 0}};
    if (poll(fds, 2, 100) <= 0) continue;
    bool eof = false;
    for (int i = 0; i < 2; ++i) {
      if (!fds[i].revents) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        eof = true;
        continue;
      }
      (i == 0 ? child.out_text_ : child.err_text_).append(buf, static_cast<std::size_t>(n));
    }
    if (eof) {
      int status = 0;
      waitpid(child.pid_, &status, 0);
      child.pid_ = -1;
      return make_error(Errc::kEnvironment, "bpftrace exited: " + trim(child.err_text_ + child.out_text_));
    }
  }
  // "Attaching N probes..." is printed before the probes are attached (BEGIN runs first, too):
  // give the attach, a few milliseconds of work, ample time.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return child;
}

BpftraceChild::BpftraceChild(BpftraceChild&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      out_(std::move(o.out_)),
      err_(std::move(o.err_)),
      out_text_(std::move(o.out_text_)),
      err_text_(std::move(o.err_text_)) {}

BpftraceChild::~BpftraceChild() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

Result<std::string> BpftraceChild::stop() {
  if (pid_ <= 0) return make_error(Errc::kEnvironment, "bpftrace is not running");
  kill(pid_, SIGINT);
  // Read stdout to EOF (its maps are printed on exit); stderr is drained so it cannot block.
  const std::uint64_t deadline = monotonic_ns() + 20'000'000'000ULL;
  bool out_open = true, err_open = true;
  while ((out_open || err_open) && monotonic_ns() < deadline) {
    pollfd fds[2] = {{out_open ? out_.get() : -1, POLLIN, 0}, {err_open ? err_.get() : -1, POLLIN, 0}};
    if (poll(fds, 2, 200) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!fds[i].revents) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      (i == 0 ? out_text_ : err_text_).append(buf, static_cast<std::size_t>(n));
    }
  }
  if (out_open || err_open) kill(pid_, SIGKILL);
  int status = 0;
  waitpid(std::exchange(pid_, -1), &status, 0);
  return out_text_;
}

std::uint64_t bpftrace_map_total(const std::string& output) {
  std::istringstream in(output);
  std::string line;
  std::uint64_t total = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '@') continue;
    const auto colon = line.rfind(": ");
    if (colon == std::string::npos) continue;
    try {
      total += std::stoull(line.substr(colon + 2));
    } catch (const std::exception&) {
    }
  }
  return total;
}

// ---- putting the machine back -------------------------------------------------------------------

Result<SysctlGuard> SysctlGuard::set(std::string path, const std::string& value) {
  SysctlGuard g;
  std::ifstream in(path);
  if (!in) return make_error(Errc::kEnvironment, "cannot read " + path, errno);
  std::getline(in, g.old_);
  g.path_ = std::move(path);
  {
    std::ofstream out(g.path_);
    out << value;
    if (!out.flush()) return make_error(Errc::kEnvironment, "cannot write " + g.path_, errno);
  }
  g.active_ = true;
  return g;
}

SysctlGuard::SysctlGuard(SysctlGuard&& o) noexcept
    : path_(std::move(o.path_)), old_(std::move(o.old_)), active_(std::exchange(o.active_, false)) {}
SysctlGuard::~SysctlGuard() { restore(); }
void SysctlGuard::restore() {
  if (std::exchange(active_, false)) write_file(path_, old_);
}

Result<TracefsGuard> TracefsGuard::ensure() {
  TracefsGuard g;
  struct stat st {};
  if (stat("/sys/kernel/tracing/events", &st) == 0) return g;
  if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0)
    return make_error(Errc::kEnvironment, std::string("mount tracefs on /sys/kernel/tracing: ") + std::strerror(errno),
                      errno);
  g.mounted_ = true;
  return g;
}

TracefsGuard::TracefsGuard(TracefsGuard&& o) noexcept : mounted_(std::exchange(o.mounted_, false)) {}
TracefsGuard::~TracefsGuard() {
  if (mounted_) umount2("/sys/kernel/tracing", MNT_DETACH);
}

CpuSnapshot CpuSnapshot::take() {
  CpuSnapshot s;
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;  // "cpu": the sum over all CPUs
  std::uint64_t v[8] = {};
  for (auto& x : v) in >> x;  // user nice system idle iowait irq softirq steal
  for (auto x : v) s.total_ticks += x;
  s.busy_ticks = s.total_ticks - v[3] - v[4];
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto ns = [](const timeval& t) {
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(t.tv_usec) * 1000ULL;
  };
  s.self_ns = ns(ru.ru_utime) + ns(ru.ru_stime);
  s.wall_ns = monotonic_ns();
  return s;
}

double foreign_cpu_share(const CpuSnapshot& a, const CpuSnapshot& b) {
  const double tick_ns = 1e9 / static_cast<double>(sysconf(_SC_CLK_TCK));
  const double total = static_cast<double>(b.total_ticks - a.total_ticks) * tick_ns;
  if (total <= 0) return 0;
  const double busy = static_cast<double>(b.busy_ticks - a.busy_ticks) * tick_ns;
  const double self = static_cast<double>(b.self_ns - a.self_ns);
  return std::clamp((busy - self) / total, 0.0, 1.0);
}

double wait_for_quiet(double max_share, std::chrono::seconds limit) {
  const std::uint64_t deadline = monotonic_ns() + static_cast<std::uint64_t>(limit.count()) * 1'000'000'000ULL;
  for (;;) {
    const CpuSnapshot a = CpuSnapshot::take();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const double share = foreign_cpu_share(a, CpuSnapshot::take());
    if (share < max_share || monotonic_ns() > deadline || g_interrupted.load()) return share;
  }
}

}  // namespace npv::bench
