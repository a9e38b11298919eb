#include "observe/libbpf_log.hpp"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>

namespace npv::observe {

namespace {

int print_to_spdlog(enum libbpf_print_level /*level*/, const char* format, va_list args) {
  auto* logger = spdlog::default_logger_raw();
  if (logger == nullptr || !logger->should_log(spdlog::level::debug)) return 0;
  va_list again;
  va_copy(again, args);
  char small[512];
  const int n = std::vsnprintf(small, sizeof(small), format, args);
  std::string message;
  if (n >= 0 && static_cast<std::size_t>(n) < sizeof(small)) {
    message.assign(small, static_cast<std::size_t>(n));
  } else if (n > 0) {  // verifier logs can be long
    message.resize(static_cast<std::size_t>(n) + 1);
    std::vsnprintf(message.data(), message.size(), format, again);
    message.resize(static_cast<std::size_t>(n));
  }
  va_end(again);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (!message.empty()) logger->debug("{}", message);  // libbpf prefixes its lines with "libbpf: "
  return n;
}

}  // namespace

void route_libbpf_log_to_spdlog() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(print_to_spdlog); });
}

}  // namespace npv::observe
