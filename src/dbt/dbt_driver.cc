#include "dbt/dbt_driver.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file_io.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "dbt/dbt_driver_source.h"

namespace orc {

namespace {

/// The driver's descriptors for its request and reply pipes (dbt_driver.py).
constexpr int kChildRequestFd = 3;
constexpr int kChildReplyFd = 4;

/// A close-on-exec pipe whose descriptors are >= 10, so that handing them to the child as 3
/// and 4 can never overwrite one with the other.
void make_high_pipe(int& read_end, int& write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0)
    throw Error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  read_end = ::fcntl(p[0], F_DUPFD_CLOEXEC, 10);
  write_end = ::fcntl(p[1], F_DUPFD_CLOEXEC, 10);
  ::close(p[0]);
  ::close(p[1]);
  if (read_end < 0 || write_end < 0)
    throw Error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

DbtDriver::DbtDriver(std::vector<std::string> python, std::string dbt_exe,
                     std::filesystem::path cwd, std::vector<std::string> project_args)
    : python_(std::move(python)),
      cwd_(cwd),
      project_args_(std::move(project_args)),
      fallback_(std::move(dbt_exe), std::move(cwd)) {}

DbtDriver::~DbtDriver() {
  if (child_.running()) {
    try {
      stop();
    } catch (...) {
    }
  }
  close_fd(request_fd_);
  close_fd(reply_fd_);
}

bool DbtDriver::start() {
  tried_ = true;
  int request_read = -1, reply_write = -1;
  make_high_pipe(request_read, request_fd_);
  make_high_pipe(reply_fd_, reply_write);
  std::vector<std::string> argv = python_;
  argv.push_back("-c");
  argv.push_back(kDbtDriverSource);
  ProcessOptions opts;
  opts.cwd = cwd_;
  opts.pass_fds = {{kChildRequestFd, request_read}, {kChildReplyFd, reply_write}};
  try {
    child_ = start_process(argv, opts);
  } catch (const Error& e) {
    close_fd(request_read);
    close_fd(reply_write);
    record_.note = fmt::format("unavailable: {}", e.what());
    return false;
  }
  close_fd(request_read);
  close_fd(reply_write);
  std::string python;
  for (const auto& w : python_) python += (python.empty() ? "" : " ") + w;
  auto greeting = read_line();
  if (greeting && greeting->rfind("ready ", 0) == 0) {
    log_debug("dbt driver started in {} (dbt-core {})", python, greeting->substr(6));
    return true;
  }
  record_.note = greeting && greeting->rfind("unavailable ", 0) == 0
                     ? "unavailable: " + greeting->substr(12)
                     : fmt::format("unavailable: {} ended before answering", python);
  ended_code_ = stop();
  return false;
}

std::optional<std::string> DbtDriver::read_line() {
  char buf[4096];
  for (;;) {
    size_t nl = pending_.find('\n');
    if (nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    ssize_t got = ::read(reply_fd_, buf, sizeof buf);
    if (got > 0) {
      pending_.append(buf, static_cast<size_t>(got));
    } else if (got == 0) {
      return std::nullopt;
    } else if (errno != EINTR) {
      throw Error(fmt::format("reading from the dbt driver failed: {}", std::strerror(errno)));
    }
  }
}

bool DbtDriver::write_line(const std::string& line) {
  // A driver that died must not kill orc with SIGPIPE: block it while writing, and take a
  // pending one away before unblocking.
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  std::string data = line + "\n";
  size_t done = 0;
  bool ok = true;
  while (done < data.size()) {
    ssize_t n = ::write(request_fd_, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      ok = false;
      break;
    }
  }
  if (!ok) {
    const timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return ok;
}

int DbtDriver::stop() {
  close_fd(request_fd_);  // end of requests: the driver exits
  int code = child_.running() ? child_.wait() : ended_code_;
  close_fd(reply_fd_);
  usable_ = false;
  return code;
}

std::optional<int> DbtDriver::invoke(const std::vector<std::string>& args, bool capture) {
  sent_ = false;
  if (!tried_) usable_ = start();
  if (!usable_) return std::nullopt;
  if (capture && !capture_dir_) capture_dir_.emplace("orc-dbt-driver");
  const bool first = record_.invocations.empty();
  std::string request = "{\"args\": ";
  append_json_string_array(request, args);
  request += ", \"manifest_key\": ";
  append_json_string_array(request, project_args_);
  if (capture) {
    request += ", \"stdout\": " + json_quote((capture_dir_->path() / "stdout").string());
    request += ", \"stderr\": " + json_quote((capture_dir_->path() / "stderr").string());
  }
  request += "}";
  if (first) {
    std::vector<std::string> parse = {"parse"};
    parse.insert(parse.end(), project_args_.begin(), project_args_.end());
    record_.invocations.push_back(describe_invocation(parse));
  }
  record_.invocations.push_back(describe_invocation(args));
  log_debug("dbt driver invocation #{}: {}", record_.invocations.size(),
            record_.invocations.back());
  std::optional<std::string> reply;
  sent_ = write_line(request);
  if (sent_) reply = read_line();
  if (reply && reply->rfind("exit ", 0) == 0) {
    try {
      return std::stoi(reply->substr(5));
    } catch (const std::exception&) {
    }
  }
  ended_code_ = stop();
  record_.note = fmt::format("the driver ended during `{}` (exit code {})",
                             record_.invocations.back(), ended_code_);
  return std::nullopt;
}

ProcessResult DbtDriver::capture(const std::vector<std::string>& args) {
  if (auto code = invoke(args, true)) {
    ProcessResult out;
    out.exit_code = *code;
    out.stdout_text = read_file(capture_dir_->path() / "stdout");
    out.stderr_text = read_file(capture_dir_->path() / "stderr");
    return out;
  }
  if (interrupt_received()) return ProcessResult{ended_code_ ? ended_code_ : 130, {}, {}};
  // A reading invocation (ls, show) is safe to ask again in a separate process.
  report_fallback();
  return fallback_.capture(args);
}

int DbtDriver::run(const std::vector<std::string>& args) {
  if (auto code = invoke(args, false)) return *code;
  if (sent_) {
    // The driver ended while dbt ran: what dbt did is unknown, so it is not run again.
    log_warn("dbt driver: {}", record_.note);
    return ended_code_ ? ended_code_ : 2;
  }
  report_fallback();
  return fallback_.run(args);
}

void DbtDriver::report_fallback() {
  if (fallback_reported_) return;
  fallback_reported_ = true;
  if (record_.invocations.empty())
    log_debug("dbt driver {}; running dbt as separate processes", record_.note);
  else
    log_warn("dbt driver: {}; running the rest as separate dbt processes", record_.note);
}

std::vector<DbtProcessRecord> DbtDriver::processes() const {
  std::vector<DbtProcessRecord> out;
  if (tried_) out.push_back(record_);
  for (const auto& p : fallback_.processes()) out.push_back(p);
  return out;
}

}  // namespace orc
