// NetnsLab: the node namespace with its bridge, and one namespace + veth pair per pod.
//
// Every namespace is created with `ip netns add` and then opened and flock()ed for the lab's
// lifetime; cleanup_stale() removes only namespaces whose flock nobody holds. Interfaces are
// created inside the lab's namespaces only (the veth pair is created in the node namespace with
// its peer placed directly into the pod's), so the host's namespace never sees them.
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "npv/unique_fd.hpp"
#include "npv/netns_lab.hpp"

namespace npv {
namespace {


constexpr std::string_view kNetnsDir = "/run/netns/";
constexpr std::string_view kBridge = "br0";
constexpr std::size_t kMaxPrefix = 16;
constexpr std::size_t kMaxPodNameInNetns = 20;
constexpr std::chrono::milliseconds kLinkReadyTimeout{5000};

// A namespace the lab created; `lock` holds flock(LOCK_EX) on it while the lab lives.
struct OwnedNetns {
  std::string name;
  UniqueFd lock;
  std::uint32_t inode = 0;
};

bool valid_prefix(std::string_view prefix) {
  return !prefix.empty() && prefix.size() <= kMaxPrefix &&
         std::all_of(prefix.begin(), prefix.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
         });
}

// The pod name as it appears in its netns name: [A-Za-z0-9_.-] only, at most 20 characters.
std::string netns_safe(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, kMaxPodNameInNetns)) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    out += ok ? c : '_';
  }
  return out;
}

// Names of the entries of /run/netns starting with `prefix` (none if the directory is missing).
std::vector<std::string> netns_with_prefix(std::string_view prefix) {
  std::vector<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(std::string(kNetnsDir).c_str()), closedir);
  if (!dir) return names;
  while (dirent* entry = readdir(dir.get())) {
    std::string_view name = entry->d_name;
    if (name != "." && name != ".." && name.starts_with(prefix)) names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string netns_path(std::string_view name) { return std::string(kNetnsDir) + std::string(name); }

// Opens the namespace file and takes a non-blocking exclusive flock. EWOULDBLOCK: owned by a
// live lab.
Result<UniqueFd> lock_netns(const std::string& name) {
  const std::string path = netns_path(name);
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int e = errno;
    return make_error(Errc::kEnvironment, "cannot open " + path + ": " + std::strerror(e), e);
  }
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    return make_error(Errc::kEnvironment, "cannot lock " + path + ": " + std::strerror(e), e);
  }
  return fd;
}

Result<void> delete_netns(const std::string& name) {
  auto deleted = run_checked({"ip", "netns", "delete", name});
  if (!deleted) return std::unexpected(deleted.error());
  return {};
}

// `ip netns add NAME`, then lock it. On a failure after the add the namespace is deleted again.
Result<OwnedNetns> add_netns(const std::string& name) {
  if (auto added = run_checked({"ip", "netns", "add", name}); !added) return std::unexpected(added.error());
  auto lock = lock_netns(name);
  struct stat st {};
  if (lock && fstat(lock->get(), &st) != 0) {
    int e = errno;
    lock = make_error(Errc::kEnvironment, "fstat " + netns_path(name) + ": " + std::strerror(e), e);
  }
  if (!lock) {
    (void)delete_netns(name);
    return std::unexpected(lock.error());
  }
  return OwnedNetns{name, std::move(*lock), static_cast<std::uint32_t>(st.st_ino)};
}

// Runs `ip -n NETNS -batch -` with one command per line; the error names the namespace, the
// commands and ip's stderr (which says which line failed).
Result<void> ip_batch(const std::string& netns, const std::vector<std::string>& lines) {
  std::string input;
  for (const auto& line : lines) input += line + "\n";
  auto result = run_checked({"ip", "-n", netns, "-batch", "-"}, input);
  if (!result) {
    Error error = result.error();
    error.message += "\ncommands:\n" + input;
    return std::unexpected(std::move(error));
  }
  return {};
}

// True when `ifname` in the calling thread's namespace is operationally up (IFF_RUNNING).
bool link_running(const char* ifname) {
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq req{};
  std::strncpy(req.ifr_name, ifname, IFNAMSIZ - 1);
  return fd && ioctl(fd.get(), SIOCGIFFLAGS, &req) == 0 && (req.ifr_flags & IFF_RUNNING);
}

// Waits until the pod's eth0 is operationally up and its bridge port forwards. Carrier changes
// are applied by the kernel's linkwatch work, which can lag behind `ip link set up` by up to a
// second when RTNL is busy (e.g. namespaces being destroyed); until then the device drops what
// is sent (and the bridge port does not forward), so a first probe would lose its SYN or ARP.
Result<void> wait_link_ready(const std::string& node, const LabPod& pod) {
  const auto deadline = std::chrono::steady_clock::now() + kLinkReadyTimeout;
  bool eth0_up = false;
  for (;;) {
    if (!eth0_up) {
      auto up = run_in_netns(pod.netns, [] { return link_running("eth0"); });
      if (!up) return std::unexpected(up.error());
      eth0_up = *up;
    }
    if (eth0_up) {
      auto port = run_checked({"ip", "-n", node, "-d", "-o", "link", "show", "dev", pod.bridge_port});
      if (!port) return std::unexpected(port.error());
      if (port->find(" state UP ") != std::string::npos &&
          port->find("bridge_slave state forwarding") != std::string::npos) {
        return {};
      }
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return make_error(Errc::kEnvironment, "pod " + pod.name + ": eth0 or its bridge port " + pod.bridge_port +
                                                " is not up after " + std::to_string(kLinkReadyTimeout.count()) +
                                                " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// The pid encoded in "<prefix>-<pid>-..." if the name has that shape.
std::optional<pid_t> owner_pid(std::string_view name, std::string_view prefix) {
  std::string_view rest = name.substr(prefix.size());
  if (!rest.starts_with('-')) return std::nullopt;
  rest.remove_prefix(1);
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
  if (ec != std::errc() || pid <= 0 || end == rest.data() + rest.size() || *end != '-') return std::nullopt;
  return pid;
}

bool process_alive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

std::atomic<int> g_next_lab_seq{0};

}  // namespace

struct NetnsLab::Impl {
  std::string id;
  std::string node;
  LabOptions options;
  std::vector<OwnedNetns> owned;  // node first, then the pods in creation order
  std::vector<LabPod> pods;
  std::uint32_t node_inode = 0;
  int next_pod_index = 0;
  bool destroyed = false;
};

NetnsLab::NetnsLab(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NetnsLab::NetnsLab(NetnsLab&&) noexcept = default;

NetnsLab& NetnsLab::operator=(NetnsLab&& other) noexcept {
  if (this != &other) {
    if (impl_) (void)destroy();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

NetnsLab::~NetnsLab() {
  if (!impl_) return;
  if (auto done = destroy(); !done) spdlog::warn("lab teardown: {}", done.error().message);
}

const std::string& NetnsLab::id() const { return impl_->id; }
const std::string& NetnsLab::node_netns() const { return impl_->node; }
std::uint32_t NetnsLab::node_netns_inode() const { return impl_->node_inode; }
const std::vector<LabPod>& NetnsLab::pods() const { return impl_->pods; }
const LabOptions& NetnsLab::options() const { return impl_->options; }

Result<NetnsLab> NetnsLab::create(std::string name_prefix, LabOptions options) {
  if (!valid_prefix(name_prefix)) {
    return make_error(Errc::kBadInput, "lab name prefix \"" + name_prefix +
                                           "\" must be 1-16 characters of [A-Za-z0-9_.-]");
  }
  if (options.v4_prefix < 1 || options.v4_prefix > 30 || options.v6_prefix < 1 || options.v6_prefix > 126) {
    return make_error(Errc::kBadInput, "lab subnet prefixes must be /1-/30 (IPv4) and /1-/126 (IPv6)");
  }
  if (geteuid() != 0) {
    return make_error(Errc::kEnvironment,
                      "the netns lab needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) to create network namespaces",
                      EPERM);
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // A namespace of a crashed run with our (reused) pid may still exist: skip its sequence numbers.
  do {
    impl->id = name_prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(g_next_lab_seq++);
  } while (!netns_with_prefix(impl->id + "-").empty());
  impl->node = impl->id + "-node";
  NetnsLab lab(std::move(impl));  // from here on, the destructor removes what was created

  auto node = add_netns(lab.impl_->node);
  if (!node) return std::unexpected(node.error());
  lab.impl_->node_inode = node->inode;
  lab.impl_->owned.push_back(std::move(*node));
  // No STP (ports forward at once) and no multicast snooping (IPv6 ND floods like ARP).
  auto setup = ip_batch(lab.impl_->node, {
                                              "link set lo up",
                                              "link add name " + std::string(kBridge) +
                                                  " type bridge stp_state 0 mcast_snooping 0",
                                              "link set " + std::string(kBridge) + " up",
                                          });
  if (!setup) return std::unexpected(setup.error());
  spdlog::debug("lab {}: node namespace {} with bridge {}", lab.impl_->id, lab.impl_->node, kBridge);
  return lab;
}

Result<LabPod> NetnsLab::add_pod(std::string name, IpAddr v4, std::optional<IpAddr> v6) {
  if (!impl_ || impl_->destroyed) return make_error(Errc::kBadInput, "add_pod on a destroyed lab");
  Impl& lab = *impl_;
  if (name.empty()) return make_error(Errc::kBadInput, "lab pod name is empty");
  if (v4.family != 4) return make_error(Errc::kBadInput, "pod " + name + ": " + v4.to_string() + " is not IPv4");
  if (v6 && v6->family != 6) return make_error(Errc::kBadInput, "pod " + name + ": " + v6->to_string() + " is not IPv6");
  for (const auto& pod : lab.pods) {
    if (pod.name == name) return make_error(Errc::kBadInput, "lab already has a pod named " + name);
    if (pod.v4 == v4 || (v6 && pod.v6 == v6)) {
      return make_error(Errc::kBadInput, "pod " + name + ": an address is already used by pod " + pod.name);
    }
  }

  const int index = lab.next_pod_index++;
  LabPod pod;
  pod.name = std::move(name);
  pod.netns = lab.id + "-" + std::to_string(index) + "-" + netns_safe(pod.name);
  pod.bridge_port = "vp" + std::to_string(index);  // in the node namespace only: no host clash
  pod.v4 = v4;
  pod.v6 = v6;

  auto owned = add_netns(pod.netns);
  if (!owned) return std::unexpected(owned.error());
  pod.netns_inode = owned->inode;
  auto rollback = [&](Error error) -> Result<LabPod> {
    (void)run_command({"ip", "-n", lab.node, "link", "delete", pod.bridge_port});
    (void)delete_netns(pod.netns);
    return std::unexpected(std::move(error));
  };

  // No duplicate address detection: addresses are usable at once (the lab assigns them uniquely).
  auto dad = run_in_netns(pod.netns, [] {
    for (const char* path : {"/proc/sys/net/ipv6/conf/default/accept_dad", "/proc/sys/net/ipv6/conf/all/accept_dad"}) {
      UniqueFd fd(open(path, O_WRONLY | O_CLOEXEC));
      if (fd && write(fd.get(), "0\n", 2) != 2) spdlog::debug("lab: cannot write {}", path);
    }
  });
  if (!dad) return rollback(dad.error());

  auto veth = ip_batch(lab.node, {
                                     "link add name " + pod.bridge_port + " type veth peer name eth0 netns " + pod.netns,
                                     "link set " + pod.bridge_port + " master " + std::string(kBridge),
                                     "link set " + pod.bridge_port + " up",
                                 });
  if (!veth) return rollback(veth.error());
  std::vector<std::string> pod_setup = {
      "link set lo up",
      "addr add " + v4.to_string() + "/" + std::to_string(lab.options.v4_prefix) + " dev eth0",
  };
  if (v6) pod_setup.push_back("addr add " + v6->to_string() + "/" + std::to_string(lab.options.v6_prefix) + " dev eth0 nodad");
  pod_setup.push_back("link set eth0 up");
  if (auto configured = ip_batch(pod.netns, pod_setup); !configured) return rollback(configured.error());
  if (auto ready = wait_link_ready(lab.node, pod); !ready) return rollback(ready.error());

  lab.owned.push_back(std::move(*owned));
  lab.pods.push_back(pod);
  spdlog::debug("lab {}: pod {} in {} ({}{}{})", lab.id, pod.name, pod.netns, v4.to_string(), v6 ? ", " : "",
                v6 ? v6->to_string() : "");
  return pod;
}

Result<void> NetnsLab::apply_nft_node(std::string_view ruleset) const {
  if (!impl_ || impl_->destroyed) return make_error(Errc::kBadInput, "apply_nft_node on a destroyed lab");
  return apply_nft_in(impl_->node, ruleset);
}

Result<void> NetnsLab::destroy() {
  if (!impl_) return {};
  std::optional<Error> first_error;
  // Pods first (deleting a pod's namespace also deletes its veth pair), the node last.
  for (auto it = impl_->owned.rbegin(); it != impl_->owned.rend(); ++it) {
    auto deleted = delete_netns(it->name);
    if (!deleted && !first_error) first_error = deleted.error();
    it->lock.reset();
  }
  impl_->owned.clear();
  impl_->pods.clear();
  impl_->destroyed = true;
  if (first_error) return std::unexpected(std::move(*first_error));
  return {};
}

Result<int> NetnsLab::cleanup_stale(std::string_view prefix) {
  if (!valid_prefix(prefix)) {
    return make_error(Errc::kBadInput, "cleanup prefix \"" + std::string(prefix) +
                                           "\" must be 1-16 characters of [A-Za-z0-9_.-]");
  }
  int removed = 0;
  std::optional<Error> first_error;
  for (const auto& name : netns_with_prefix(prefix)) {
    auto lock = lock_netns(name);
    if (!lock) {
      int e = lock.error().sys_errno;
      if (e == EWOULDBLOCK || e == ENOENT) continue;  // a live lab owns it, or it just went away
      if (!first_error) first_error = lock.error();
      continue;
    }
    if (auto pid = owner_pid(name, prefix); pid && process_alive(*pid)) {
      spdlog::debug("lab cleanup: keeping {} (its process {} is alive)", name, *pid);
      continue;
    }
    if (auto deleted = delete_netns(name); !deleted) {
      if (!first_error) first_error = deleted.error();
      continue;
    }
    spdlog::info("lab cleanup: removed stale network namespace {}", name);
    ++removed;
  }
  if (first_error) {
    Error error = std::move(*first_error);
    error.message = "lab cleanup removed " + std::to_string(removed) + " namespace(s), then: " + error.message;
    return std::unexpected(std::move(error));
  }
  return removed;
}

}  // namespace npv
