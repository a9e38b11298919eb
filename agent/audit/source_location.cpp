// source_location(): the inverse of how the manifest loader writes Origins (manifest_loader.cpp:
// add_text and add_document). tests/unit/audit_report_test.cpp checks it against real loader output.
#include <algorithm>
#include <cctype>

#include "npv/audit.hpp"

namespace npv {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// Removes a trailing " items[N]" or " [N]" (an item of a List or of a bare JSON array).
void strip_item(std::string_view& s) {
  if (!s.ends_with(']')) return;
  auto open = s.rfind('[');
  if (open == std::string_view::npos || !all_digits(s.substr(open + 1, s.size() - open - 2))) return;
  std::string_view head = s.substr(0, open);
  if (head.ends_with(" items")) head.remove_suffix(6);
  else if (head.ends_with(' ')) head.remove_suffix(1);
  else return;
  s = head;
}

}  // namespace

SourceLocation source_location(const Origin& origin) {
  if (origin.empty() || origin == "(implicit)") return {};
  std::string_view s = origin;
  strip_item(s);
  SourceLocation loc;
  constexpr std::string_view kDoc = " (document ";
  constexpr std::string_view kLine = ", line ";
  auto doc = s.rfind(kDoc);
  if (doc != std::string_view::npos && s.ends_with(')')) {
    std::string_view inner = s.substr(doc + kDoc.size(), s.size() - doc - kDoc.size() - 1);  // "N, line L"
    auto line = inner.find(kLine);
    if (line != std::string_view::npos && all_digits(inner.substr(0, line)) && all_digits(inner.substr(line + kLine.size()))) {
      loc.line = std::stoi(std::string(inner.substr(line + kLine.size())));
      s = s.substr(0, doc);
    }
  }
  loc.file = std::string(s);
  return loc;
}

}  // namespace npv
