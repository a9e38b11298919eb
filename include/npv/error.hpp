// Error values for every fallible npv operation.
//
// npv uses std::expected<T, Error> (alias Result<T>) for recoverable errors; no exception
// crosses a module boundary. An Error carries a complete, human-readable message that already
// names its context (file, object, field) and the process exit code it maps to.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace npv {

// Exit codes shared by every command (DESIGN.md "Contracts").
inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitEnvironment = 3;

enum class Errc {
  kBadInput,     // malformed manifest, bad flag value: exit 2
  kIo,           // unreadable file or directory: exit 2 (the user named it)
  kEnvironment,  // the machine cannot support the command: exit 3
};

struct Error {
  Errc code = Errc::kBadInput;
  std::string message;
  int sys_errno = 0;  // errno when the error came from a system call, else 0

  int exit_code() const { return code == Errc::kEnvironment ? kExitEnvironment : kExitBadInput; }
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> make_error(Errc code, std::string message, int sys_errno = 0) {
  return std::unexpected(Error{code, std::move(message), sys_errno});
}

}  // namespace npv
