#pragma once
// dbt-style log lines: `HH:MM:SS  message` (UTC), colour only on a TTY, debug only when on.
#include <fmt/format.h>
#include <string>
#include <string_view>

namespace orc {

enum class LogLevel { Debug, Info, Warn, Error };

/// Turns debug lines on or off (config `debug` / ORCHESTRA_DBT_DEBUG).
void set_debug_logging(bool on);
bool debug_logging();

/// Sends every log line to stderr (for commands whose stdout is machine-readable, e.g.
/// `orc plan --output json`).
void set_logs_to_stderr(bool on);

/// Registers a value that must never appear in output (e.g. ORCHESTRA_API_KEY); every log
/// line has it replaced by `***`.
void add_log_secret(const std::string& secret);

/// Writes one line (info/debug to stdout like dbt, warn/error to stderr).
void log_line(LogLevel level, std::string_view message);

template <typename... Args>
void log_info(fmt::format_string<Args...> f, Args&&... args) {
  log_line(LogLevel::Info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_warn(fmt::format_string<Args...> f, Args&&... args) {
  log_line(LogLevel::Warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_error(fmt::format_string<Args...> f, Args&&... args) {
  log_line(LogLevel::Error, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_debug(fmt::format_string<Args...> f, Args&&... args) {
  if (debug_logging()) log_line(LogLevel::Debug, fmt::format(f, std::forward<Args>(args)...));
}

/// Replaces every registered secret in `text` by `***`.
std::string redact_secrets(std::string text);

}  // namespace orc
