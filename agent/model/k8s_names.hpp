// Kubernetes name and label syntax (k8s.io/apimachinery/pkg/util/validation), as the API server
// enforces it. Anything the API server would reject is rejected here too, which also keeps
// arbitrary bytes out of names that end up in JSON output.
#pragma once

#include <string_view>

namespace npv::detail {

// RFC 1123 label: 1-63 of [a-z0-9-], alphanumeric at both ends (Namespace names).
bool is_dns1123_label(std::string_view s);
// RFC 1123 subdomain: 1-253, dot-separated labels (Pod, NetworkPolicy, workload names).
bool is_dns1123_subdomain(std::string_view s);
// Label key: [prefix/]name; prefix a DNS subdomain, name 1-63 of [A-Za-z0-9-_.], alphanumeric at
// both ends.
bool is_qualified_name(std::string_view s);
// Label value: empty, or 1-63 of [A-Za-z0-9-_.] with alphanumeric ends.
bool is_label_value(std::string_view s);

}  // namespace npv::detail
