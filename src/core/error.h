#pragma once
// Errors that reach main(): each carries the exit code orc should return.
#include <stdexcept>
#include <string>

namespace orc {

/// A failure the user can act on; main() prints `what()` as one line and exits with `exit_code`.
struct Error : std::runtime_error {
  int exit_code;
  explicit Error(const std::string& message, int code = 1)
      : std::runtime_error(message), exit_code(code) {}
};

/// Bad command line (click's convention: exit code 2).
struct UsageError : Error {
  explicit UsageError(const std::string& message) : Error(message, 2) {}
};

}  // namespace orc
