// The process runner against real programs: exit codes, capture, argv without a shell,
// cwd/env, signal forwarding, and finding dbt.
#include <gtest/gtest.h>

#include "core/temp_dir.h"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "core/error.h"
#include "core/process.h"

namespace fs = std::filesystem;
using orc::ProcessOptions;
using orc::run_process;

namespace {

/// A fresh directory, removed at the end of the test.
struct TempDir : orc::TempDir {
  TempDir() : orc::TempDir("orc-process-test") {}
};

ProcessOptions capture_both() {
  ProcessOptions o;
  o.capture_stdout = true;
  o.capture_stderr = true;
  return o;
}

void write_script(const fs::path& p, const std::string& body) {
  std::ofstream(p) << "#!/bin/sh\n" << body;
  fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
}

bool wait_for_file(const fs::path& p, std::chrono::seconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (fs::exists(p)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST(Process, ReturnsTheChildsExitCode) {
  EXPECT_EQ(run_process({"/bin/sh", "-c", "exit 0"}).exit_code, 0);
  EXPECT_EQ(run_process({"/bin/sh", "-c", "exit 3"}).exit_code, 3);
  EXPECT_EQ(run_process({"/bin/sh", "-c", "exit 255"}).exit_code, 255);
  EXPECT_EQ(run_process({"false"}).exit_code, 1);  // looked up on PATH
}

TEST(Process, KilledChildGives128PlusSignal) {
  EXPECT_EQ(run_process({"/bin/sh", "-c", "kill -KILL $$"}).exit_code, 128 + SIGKILL);
  EXPECT_EQ(run_process({"/bin/sh", "-c", "kill -TERM $$"}).exit_code, 128 + SIGTERM);
}

TEST(Process, CapturesStdoutAndStderrSeparately) {
  auto r = run_process({"/bin/sh", "-c", "echo out; echo err >&2; echo more"}, capture_both());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_text, "out\nmore\n");
  EXPECT_EQ(r.stderr_text, "err\n");
}

TEST(Process, CapturesOnlyWhatIsAsked) {
  ProcessOptions o;
  o.capture_stdout = true;
  auto r = run_process({"/bin/echo", "hello"}, o);
  EXPECT_EQ(r.stdout_text, "hello\n");
  EXPECT_EQ(r.stderr_text, "");
}

TEST(Process, LargeOutputOnBothPipesDoesNotDeadlock) {
  // 1 MB to stderr before anything to stdout: a runner that read stdout first would block
  // forever once the stderr pipe buffer (64 KB) is full.
  auto r = run_process({"/bin/sh", "-c",
                        "head -c 1000000 /dev/zero | tr '\\0' e >&2; "
                        "head -c 1500000 /dev/zero | tr '\\0' o"},
                       capture_both());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stderr_text.size(), 1000000u);
  EXPECT_EQ(r.stdout_text.size(), 1500000u);
  EXPECT_EQ(r.stdout_text.find_first_not_of('o'), std::string::npos);
}

TEST(Process, ArgumentsReachTheChildUnchanged) {
  std::vector<std::string> tricky = {"a b",   "it's", "\"quoted\"", "$HOME", "*",
                                     "a;b|c", "",     "--select",   "tag:x model_y",
                                     "back\\slash", "new\nline"};
  std::vector<std::string> argv = {"/bin/sh", "-c",
                                   "for a in \"$@\"; do printf '[%s]' \"$a\"; done", "sh"};
  argv.insert(argv.end(), tricky.begin(), tricky.end());
  auto r = run_process(argv, capture_both());
  std::string expected;
  for (const auto& a : tricky) expected += "[" + a + "]";
  EXPECT_EQ(r.stdout_text, expected);
}

TEST(Process, RunsInTheGivenDirectory) {
  TempDir d;
  ProcessOptions o = capture_both();
  o.cwd = d.path();
  auto r = run_process({"/bin/pwd"}, o);
  EXPECT_EQ(r.stdout_text, d.path().string() + "\n");
}

TEST(Process, ExtraEnvironmentIsSetAndOverrides) {
  ::setenv("ORC_PROCESS_TEST_EXISTING", "parent", 1);
  ProcessOptions o = capture_both();
  o.extra_env = {{"ORC_PROCESS_TEST_NEW", "new value"}, {"ORC_PROCESS_TEST_EXISTING", "child"}};
  auto r = run_process(
      {"/bin/sh", "-c", "echo \"$ORC_PROCESS_TEST_NEW|$ORC_PROCESS_TEST_EXISTING|${HOME+home}\""},
      o);
  EXPECT_EQ(r.stdout_text, "new value|child|home\n");
  ::unsetenv("ORC_PROCESS_TEST_EXISTING");
}

TEST(Process, MissingProgramIsAnOrcError) {
  try {
    run_process({"/nonexistent/orc-no-such-program", "x"});
    FAIL() << "expected orc::Error";
  } catch (const orc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/orc-no-such-program"), std::string::npos);
    EXPECT_EQ(e.exit_code, 1);
  }
  EXPECT_THROW(run_process({"orc-no-such-program-on-path"}), orc::Error);
}

TEST(Process, MissingWorkingDirectoryIsAnOrcError) {
  ProcessOptions o;
  o.cwd = "/nonexistent/orc-dir";
  EXPECT_THROW(run_process({"/bin/true"}, o), orc::Error);
}

// A SIGTERM sent to orc with kill() (a scheduler stopping the job) must reach the child.
TEST(ProcessSignals, KillToOrcIsForwardedToTheChild) {
  ::signal(SIGTERM, SIG_DFL);  // see QueuedSigintIsForwarded
  TempDir d;
  fs::path started = d.path() / "started";
  auto future = std::async(std::launch::async, [&] {
    return run_process({"/bin/sh", "-c", "touch '" + started.string() + "'; exec sleep 30"});
  });
  ASSERT_TRUE(wait_for_file(started, std::chrono::seconds(10)));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "child was not stopped";
  EXPECT_EQ(future.get().exit_code, 128 + SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_TRUE(orc::interrupt_received());
  EXPECT_EQ(orc::interrupt_signal(), SIGTERM);
}

// SIGINT queued with sigqueue() (si_code SI_QUEUE) is forwarded too.
TEST(ProcessSignals, QueuedSigintIsForwarded) {
  // A test runner started in the background (e.g. by a CI script) inherits SIGINT ignored,
  // which orc deliberately keeps; this test is about the forwarding, so start from default.
  ::signal(SIGINT, SIG_DFL);
  TempDir d;
  fs::path started = d.path() / "started";
  auto future = std::async(std::launch::async, [&] {
    return run_process({"/bin/sh", "-c", "touch '" + started.string() + "'; exec sleep 30"});
  });
  ASSERT_TRUE(wait_for_file(started, std::chrono::seconds(10)));
  union sigval v {};
  ASSERT_EQ(::sigqueue(::getpid(), SIGINT, v), 0);
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(future.get().exit_code, 128 + SIGINT);
  EXPECT_EQ(orc::interrupt_signal(), SIGINT);
}

namespace {

/// The SigIgn mask of a child started by run_process in a fresh process where SIGINT's
/// disposition is `int_disposition` beforehand.
unsigned long child_ignored_mask(void (*int_disposition)(int)) {
  int fds[2];
  if (::pipe(fds) != 0) return ~0ul;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    struct sigaction sa {};
    sa.sa_handler = int_disposition;
    ::sigaction(SIGINT, &sa, nullptr);
    ::signal(SIGTERM, SIG_DFL);
    std::string out;
    try {
      out = run_process({"/bin/sh", "-c", "grep SigIgn /proc/self/status"}, capture_both())
                .stdout_text;
    } catch (...) {
    }
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[256];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  auto colon = text.find(':');
  if (colon == std::string::npos) return ~0ul;
  return std::stoul(text.substr(colon + 1), nullptr, 16);
}

}  // namespace

// The child sees SIGINT/SIGTERM as dbt run directly would: default when orc had them at
// default, ignored when orc was started with them ignored (a shell's background job).
TEST(ProcessSignals, ChildInheritsTheDispositionsOrcWasStartedWith) {
  const unsigned long int_bit = 1ul << (SIGINT - 1), term_bit = 1ul << (SIGTERM - 1);
  unsigned long normal = child_ignored_mask(SIG_DFL);
  ASSERT_NE(normal, ~0ul);
  EXPECT_EQ(normal & int_bit, 0u);
  EXPECT_EQ(normal & term_bit, 0u);
  unsigned long ignored = child_ignored_mask(SIG_IGN);
  ASSERT_NE(ignored, ~0ul);
  EXPECT_NE(ignored & int_bit, 0u);
  EXPECT_EQ(ignored & term_bit, 0u);
}

// ---- find_dbt_executable -------------------------------------------------------------------

TEST(FindDbt, UsesOrcDbtWhenSet) {
  TempDir d;
  fs::path dbt = d.path() / "my-dbt";
  write_script(dbt, "exit 0\n");
  orc::Environment env{{{"ORC_DBT", dbt.string()}, {"PATH", "/usr/bin:/bin"}}};
  EXPECT_EQ(orc::find_dbt_executable(env), dbt.string());
}

TEST(FindDbt, OrcDbtThatIsNotExecutableIsAnErrorNamingIt) {
  TempDir d;
  fs::path not_exec = d.path() / "dbt";
  std::ofstream(not_exec) << "not a program";
  fs::permissions(not_exec, fs::perms::owner_read | fs::perms::owner_write);
  for (std::string value : {not_exec.string(), std::string("/nonexistent/dbt"),
                            d.path().string() /* a directory */}) {
    orc::Environment env{{{"ORC_DBT", value}, {"PATH", ""}}};
    try {
      orc::find_dbt_executable(env);
      ADD_FAILURE() << "expected an error for ORC_DBT=" << value;
    } catch (const orc::Error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("ORC_DBT=" + value), std::string::npos) << msg;
      EXPECT_EQ(e.exit_code, 1);
    }
  }
}

TEST(FindDbt, SearchesPathInOrder) {
  TempDir a, b;
  write_script(b.path() / "dbt", "exit 0\n");
  // A non-executable `dbt` earlier on PATH is skipped, as execvp would.
  std::ofstream(a.path() / "dbt") << "x";
  fs::permissions(a.path() / "dbt", fs::perms::owner_read);
  orc::Environment env{{{"PATH", a.path().string() + ":" + b.path().string()}}};
  EXPECT_EQ(orc::find_dbt_executable(env), (b.path() / "dbt").string());
}

TEST(FindDbt, NotFoundGivesTheInstallHint) {
  TempDir d;
  orc::Environment env{{{"PATH", d.path().string()}}};
  try {
    orc::find_dbt_executable(env);
    FAIL() << "expected orc::Error";
  } catch (const orc::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("dbt executable not found on PATH"), std::string::npos) << msg;
    EXPECT_NE(msg.find("pip install dbt-core"), std::string::npos) << msg;
    EXPECT_NE(msg.find("ORC_DBT="), std::string::npos) << msg;
    EXPECT_EQ(e.exit_code, 1);
  }
}

TEST(FindDbt, FoundProgramRunsWithArguments) {
  TempDir d;
  write_script(d.path() / "dbt", "echo \"dbt got: $*\"; exit 4\n");
  orc::Environment env{{{"PATH", d.path().string() + ":/usr/bin:/bin"}}};
  auto r = run_process({orc::find_dbt_executable(env), "ls", "--select", "a b"}, capture_both());
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.stdout_text, "dbt got: ls --select a b\n");
}
