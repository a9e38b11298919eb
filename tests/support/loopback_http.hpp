// Test helpers for talking to a server on 127.0.0.1 (the agent's /metrics, /readyz).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace npv::test {

// GET http://127.0.0.1:port/path (5 s receive timeout): {status, body}; status 0 when nothing answers.
std::pair<int, std::string> http_get(std::uint16_t port, const std::string& path);

// A free TCP port on 127.0.0.1 (the kernel's choice, released again).
std::uint16_t free_port();

}  // namespace npv::test
