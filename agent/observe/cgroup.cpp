#include "observe/cgroup.hpp"

#include <linux/magic.h>
#include <sys/vfs.h>

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace npv::observe {

namespace {

// /proc/self/mounts escapes space, tab, newline and backslash in paths as \ooo (octal).
std::string unescape_mount_path(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string oct = s.substr(i + 1, 3);
      if (oct.find_first_not_of("01234567") == std::string::npos) {
        out.push_back(static_cast<char>(std::stoi(oct, nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

Result<std::string> find_cgroup2_mount() {
  std::ifstream mounts("/proc/self/mounts");
  if (!mounts) return make_error(Errc::kEnvironment, "cannot read /proc/self/mounts", errno);
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string source, target, fstype;
    if (fields >> source >> target >> fstype && fstype == "cgroup2") return unescape_mount_path(target);
  }
  return make_error(Errc::kEnvironment, "no cgroup v2 hierarchy is mounted (no cgroup2 entry in /proc/self/mounts)");
}

Result<UniqueFd> open_cgroup2_root(const std::string& root) {
  auto mount = root.empty() ? find_cgroup2_mount() : Result<std::string>(root);
  if (!mount) return std::unexpected(mount.error());
  if (struct statfs fs {}; !root.empty() && (::statfs(root.c_str(), &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC)) {
    return make_error(Errc::kEnvironment, "cgroup root " + root + " is not a cgroup v2 mount");
  }
  UniqueFd fd(::open(mount->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    return make_error(Errc::kEnvironment, "cannot open cgroup v2 root " + *mount + ": " + std::strerror(err), err);
  }
  return fd;
}

}  // namespace npv::observe
