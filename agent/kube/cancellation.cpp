// Cancellation (kube_client.hpp).
#include <sys/socket.h>

#include "npv/kube_client.hpp"

namespace npv::kube {

void Cancellation::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_.store(true, std::memory_order_release);
  // Shutting a socket down wakes libcurl's poll at once; the socket stays open (and tracked)
  // until libcurl closes it through remove_socket(), so no fd number is ever reused under us.
  for (int fd : sockets_) ::shutdown(fd, SHUT_RDWR);
  cv_.notify_all();
}

bool Cancellation::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !cv_.wait_for(lock, d, [&] { return cancelled_.load(std::memory_order_acquire); });
}

bool Cancellation::add_socket(int fd) {
  std::lock_guard lock(mutex_);
  if (cancelled_.load(std::memory_order_acquire)) return false;
  sockets_.insert(fd);
  return true;
}

void Cancellation::remove_socket(int fd) {
  std::lock_guard lock(mutex_);
  sockets_.erase(fd);
}

}  // namespace npv::kube
