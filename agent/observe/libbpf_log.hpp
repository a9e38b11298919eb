// libbpf's own messages (including verifier logs) go to spdlog at debug level.
#pragma once

namespace npv::observe {

// Installs the libbpf print callback once per process; later calls do nothing. Thread-safe.
void route_libbpf_log_to_spdlog();

}  // namespace npv::observe
