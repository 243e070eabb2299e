#include "core/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <unistd.h>
#include <vector>

#include "core/timestamp.h"

namespace orc {
namespace {

bool g_debug = false;
std::vector<std::string>& secrets() {
  static std::vector<std::string> s;
  return s;
}
std::mutex g_log_mutex;

}  // namespace

void set_debug_logging(bool on) { g_debug = on; }
bool debug_logging() { return g_debug; }

void add_log_secret(const std::string& secret) {
  if (!secret.empty()) secrets().push_back(secret);
}

std::string redact_secrets(std::string text) {
  for (const auto& s : secrets()) {
    for (size_t pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3))
      text.replace(pos, s.size(), "***");
  }
  return text;
}

namespace {
bool g_logs_to_stderr = false;
}  // namespace

void set_logs_to_stderr(bool on) { g_logs_to_stderr = on; }

void log_line(LogLevel level, std::string_view message) {
  FILE* out = (g_logs_to_stderr || level == LogLevel::Warn || level == LogLevel::Error)
                  ? stderr
                  : stdout;
  const bool colour = isatty(fileno(out));
  const char* start = "";
  const char* end = "";
  if (colour) {
    switch (level) {
      case LogLevel::Debug: start = "\033[2m"; break;
      case LogLevel::Info: break;
      case LogLevel::Warn: start = "\033[33m"; break;
      case LogLevel::Error: start = "\033[31m"; break;
    }
    if (*start) end = "\033[0m";
  }
  std::string line = redact_secrets(std::string(message));
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::fprintf(out, "%s  %s%s%s\n", format_utc_now("%H:%M:%S").c_str(), start, line.c_str(), end);
  std::fflush(out);
}

}  // namespace orc
