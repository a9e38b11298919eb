// Writer for the Prometheus text exposition format (version 0.0.4), as /metrics serves it.
//
// Each family is written once: `# HELP`, `# TYPE`, then its samples. Label values and HELP text
// are escaped as the format requires (backslash, double quote in label values, newline).
// Not thread-safe; build one per scrape.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace npv {

class PrometheusText {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // Starts a family; `type` is "counter", "gauge" or "untyped".
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, double value);
  void sample(std::string_view name, Labels labels, std::uint64_t value);
  void sample(std::string_view name, double value) { sample(name, {}, value); }
  void sample(std::string_view name, std::uint64_t value) { sample(name, {}, value); }

  const std::string& text() const { return out_; }

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  void labels(Labels labels);
  std::string out_;
};

}  // namespace npv
