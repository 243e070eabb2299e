#include "core/process.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

#include "core/error.h"

extern char** environ;

namespace orc {
namespace fs = std::filesystem;

namespace {

// Children that are running now (several may run at once from different threads). A slot
// holds a pid or 0; the signal handler reads them, so they are lock-free atomics.
constexpr int kMaxChildren = 64;
std::atomic<pid_t> g_children[kMaxChildren];
std::atomic<int> g_interrupt_signal{0};

/// SIGINT/SIGTERM handler. A signal sent with kill()/sigqueue() (si_code <= 0, e.g. from a
/// scheduler stopping the job) reached only orc, so it is passed on to the children. One from
/// the terminal (SI_KERNEL) already went to the whole foreground process group, children
/// included: sending it again would make dbt see a second Ctrl-C and abort its cleanup.
void on_interrupt(int sig, siginfo_t* info, void*) {
  const int saved_errno = errno;
  g_interrupt_signal.store(sig);
  if (info == nullptr || info->si_code <= 0) {
    for (auto& slot : g_children) {
      pid_t pid = slot.load();
      if (pid > 0) ::kill(pid, sig);
    }
  }
  errno = saved_errno;
}

/// Installs the forwarding handler for SIGINT and SIGTERM, except for a signal that orc was
/// told to ignore (e.g. SIGINT in a shell's background job): dbt run directly would ignore it
/// too, so it stays ignored and the child inherits that. Returns the signals handled.
sigset_t install_handlers() {
  sigset_t handled;
  sigemptyset(&handled);
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction current {};
    ::sigaction(sig, nullptr, &current);
    if (!(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_IGN) continue;
    sigaddset(&handled, sig);
    if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_interrupt) continue;
    struct sigaction sa {};
    sa.sa_sigaction = on_interrupt;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
  return handled;
}

int register_child(pid_t pid) {
  for (int i = 0; i < kMaxChildren; ++i) {
    pid_t expected = 0;
    if (g_children[i].compare_exchange_strong(expected, pid)) return i;
  }
  return -1;  // more children than slots: this one simply is not forwarded signals
}

/// Blocks SIGINT/SIGTERM for the scope, so a signal cannot arrive between starting a child
/// and registering it (it is delivered, and forwarded, when the scope ends).
class BlockInterrupts {
 public:
  BlockInterrupts() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~BlockInterrupts() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  const sigset_t& old_mask() const { return old_; }

 private:
  sigset_t old_;
};

/// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

/// posix_spawn attributes and file actions, destroyed on scope exit.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

/// orc's environment with `extra` set on top, as "NAME=value" strings.
std::vector<std::string> child_environment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& [k, v] : extra)
      if (k == name) overridden = true;
    if (!overridden) out.emplace_back(entry);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

/// Reads both pipes until both reach end of file, so neither can fill up and block the child.
void drain(int out_fd, int err_fd, std::string& out_text, std::string& err_text) {
  pollfd fds[2];
  int n = 0;
  std::string* sinks[2];
  if (out_fd >= 0) {
    fds[n] = {out_fd, POLLIN, 0};
    sinks[n++] = &out_text;
  }
  if (err_fd >= 0) {
    fds[n] = {err_fd, POLLIN, 0};
    sinks[n++] = &err_text;
  }
  int open_count = n;
  char buf[65536];
  while (open_count > 0) {
    int r = ::poll(fds, static_cast<nfds_t>(n), -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Error(fmt::format("waiting for a child process's output failed: {}",
                              std::strerror(errno)));
    }
    for (int i = 0; i < n; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1;  // poll ignores negative descriptors
        --open_count;
      }
    }
  }
}

bool is_executable_file(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

/// `name` looked up on `path_var` as execvp does (an empty entry means the current directory).
std::optional<fs::path> search_path(const std::string& name, const std::string& path_var) {
  size_t start = 0;
  while (start <= path_var.size()) {
    size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    fs::path candidate = (dir.empty() ? fs::path(".") : fs::path(dir)) / name;
    if (is_executable_file(candidate)) return fs::absolute(candidate).lexically_normal();
    start = end + 1;
  }
  return std::nullopt;
}

/// A spawned child's pid and its slot in the signal-forwarding table.
struct Spawned {
  pid_t pid = 0;
  int slot = -1;
};

/// Starts `argv` with `dup2s` applied in the child (child descriptor <- orc's descriptor),
/// registered for signal forwarding before any signal can be delivered.
Spawned spawn(const std::vector<std::string>& argv, const ProcessOptions& options,
              const std::vector<std::pair<int, int>>& dup2s) {
  if (argv.empty()) throw Error("internal error: a process was started without a program");
  const sigset_t handled = install_handlers();
  SpawnSetup setup;
  for (const auto& [child_fd, parent_fd] : dup2s)
    posix_spawn_file_actions_adddup2(&setup.actions, parent_fd, child_fd);
  if (options.cwd)
    posix_spawn_file_actions_addchdir_np(&setup.actions, options.cwd->c_str());

  std::vector<std::string> env_strings = child_environment(options.extra_env);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  Spawned out;
  BlockInterrupts block;
  // The child starts with orc's original mask and default dispositions for the signals
  // orc handles (ignored ones stay ignored).
  posix_spawnattr_setsigdefault(&setup.attr, &handled);
  posix_spawnattr_setsigmask(&setup.attr, &block.old_mask());
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  int rc = ::posix_spawnp(&out.pid, cargv[0], &setup.actions, &setup.attr, cargv.data(),
                          envp.data());
  if (rc != 0) {
    std::string where = options.cwd ? fmt::format(" in {}", options.cwd->string()) : "";
    throw Error(fmt::format("cannot start {}{}: {}", argv[0], where, std::strerror(rc)));
  }
  out.slot = register_child(out.pid);
  return out;
}

/// Waits for `child` to end and reaps it. It waits without reaping first, unregisters, then
/// reaps: the pid stays ours until it is out of the table, so a late signal can never reach
/// an unrelated process that reused it. Returns the exit code, or 128+signal.
int reap(const Spawned& child, const std::string& program) {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(child.pid), &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) break;
  }
  if (child.slot >= 0) g_children[child.slot].store(0);
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0) {
    if (errno != EINTR)
      throw Error(fmt::format("waiting for {} failed: {}", program, std::strerror(errno)));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  Fd out_read, out_write, err_read, err_write;
  auto make_pipe = [](Fd& r, Fd& w) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0)
      throw Error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    r.fd = p[0];
    w.fd = p[1];
  };
  std::vector<std::pair<int, int>> dup2s = options.pass_fds;
  if (options.capture_stdout) {
    make_pipe(out_read, out_write);
    dup2s.emplace_back(STDOUT_FILENO, out_write.fd);
  }
  if (options.capture_stderr) {
    make_pipe(err_read, err_write);
    dup2s.emplace_back(STDERR_FILENO, err_write.fd);
  }
  const Spawned child = spawn(argv, options, dup2s);
  out_write.reset();
  err_write.reset();

  ProcessResult result;
  try {
    drain(out_read.fd, err_read.fd, result.stdout_text, result.stderr_text);
  } catch (...) {
    reap(child, argv[0]);  // still reaped; the error is reported after
    throw;
  }
  result.exit_code = reap(child, argv[0]);
  return result;
}

ChildProcess start_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (options.capture_stdout || options.capture_stderr)
    throw Error("internal error: start_process does not capture output");
  const Spawned child = spawn(argv, options, options.pass_fds);
  ChildProcess out;
  out.pid_ = child.pid;
  out.slot_ = child.slot;
  out.program_ = argv[0];
  return out;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      slot_(std::exchange(other.slot_, -1)),
      program_(std::move(other.program_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    this->~ChildProcess();
    pid_ = std::exchange(other.pid_, 0);
    slot_ = std::exchange(other.slot_, -1);
    program_ = std::move(other.program_);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  try {
    wait();
  } catch (...) {
  }
}

int ChildProcess::wait() {
  if (pid_ <= 0) throw Error("internal error: waiting for a process that is not running");
  const Spawned child{pid_, slot_};
  pid_ = 0;
  slot_ = -1;
  return reap(child, program_);
}

bool interrupt_received() { return g_interrupt_signal.load() != 0; }

int interrupt_signal() { return g_interrupt_signal.load(); }

void clear_interrupt() { g_interrupt_signal.store(0); }

std::string find_dbt_executable(const Environment& env) {
  const std::string path_var = env.get("PATH").value_or("/usr/local/bin:/usr/bin:/bin");
  if (auto given = env.get_nonempty("ORC_DBT")) {
    if (given->find('/') != std::string::npos) {
      if (is_executable_file(*given)) return fs::absolute(*given).lexically_normal().string();
      throw Error(fmt::format("ORC_DBT={} is not an executable file; point ORC_DBT at the dbt "
                              "executable (e.g. .venv/bin/dbt) or unset it to use dbt from PATH",
                              *given));
    }
    if (auto found = search_path(*given, path_var)) return found->string();
    throw Error(fmt::format("ORC_DBT={} was not found on PATH; point ORC_DBT at the dbt "
                            "executable (e.g. /path/to/venv/bin/dbt) or unset it",
                            *given));
  }
  if (auto found = search_path("dbt", path_var)) return found->string();
  throw Error(
      "dbt executable not found on PATH; install dbt-core (pip install dbt-core "
      "dbt-<adapter>) or set ORC_DBT=/path/to/dbt");
}

}  // namespace orc
