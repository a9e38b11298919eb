// Durations on the command line: "10s", "500ms", "2m", "1h", or a bare number of seconds ("10").
#pragma once

#include <charconv>
#include <chrono>
#include <optional>
#include <string_view>

namespace npv {

// nullopt for anything else (negative, fractional, empty, unknown unit, overflow).
inline std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [unit, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || unit == text.data()) return std::nullopt;
  const std::string_view suffix(unit, static_cast<std::size_t>(end - unit));
  std::uint64_t ms_per = 0;
  if (suffix.empty() || suffix == "s") {
    ms_per = 1000;
  } else if (suffix == "ms") {
    ms_per = 1;
  } else if (suffix == "m") {
    ms_per = 60'000;
  } else if (suffix == "h") {
    ms_per = 3'600'000;
  } else {
    return std::nullopt;
  }
  if (value > (1ULL << 40) / ms_per) return std::nullopt;  // ~35 years: far beyond any use
  return std::chrono::milliseconds(static_cast<std::int64_t>(value * ms_per));
}

}  // namespace npv
