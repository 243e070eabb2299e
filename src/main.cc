// orc's entry point: every error ends here as one message and an exit code, never a crash.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "core/error.h"
#include "core/log.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return orc::run_cli(args);
  } catch (const orc::UsageError& e) {
    // click's layout: usage, a pointer to --help, then the error.
    std::fprintf(stderr, "%s\n\nError: %s\n", orc::usage_line().c_str(),
                 orc::redact_secrets(e.what()).c_str());
    return e.exit_code;
  } catch (const orc::Error& e) {
    orc::log_error("Error: {}", e.what());
    return e.exit_code;
  } catch (const std::exception& e) {
    orc::log_error("Error: {}", e.what());
    return 1;
  } catch (...) {
    orc::log_error("Error: unexpected failure");
    return 1;
  }
}
