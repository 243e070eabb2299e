// The CLI shell: usage errors, --version/--help, orchestra commands, is_warn, and
// passthrough to a real program standing in for dbt (via ORC_DBT).
#include <gtest/gtest.h>

#include "core/temp_dir.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/is_warn.h"
#include "cli/passthrough.h"
#include "config/config.h"
#include "core/error.h"
#include "core/file_io.h"

namespace fs = std::filesystem;
using orc::Config;

namespace {

/// A fresh directory, removed at the end of the test.
struct TempDir : orc::TempDir {
  TempDir() : orc::TempDir("orc-cli-test") {}
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

/// The UsageError message run_cli throws for `args` (fails the test if none).
std::string usage_error(const std::vector<std::string>& args) {
  try {
    orc::run_cli(args);
  } catch (const orc::UsageError& e) {
    EXPECT_EQ(e.exit_code, 2);
    return e.what();
  }
  ADD_FAILURE() << "no usage error";
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// A stand-in for dbt that records its arguments, one per line, and exits with `code`.
fs::path fake_dbt(const fs::path& dir, int code) {
  fs::path exe = dir / "dbt";
  write(exe, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$(dirname \"$0\")/args\"\n"
             "exit " + std::to_string(code) + "\n");
  fs::permissions(exe, fs::perms::owner_all);
  return exe;
}

std::vector<std::string> recorded_args(const fs::path& dir) {
  std::ifstream in(dir / "args");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

const char* kWarnResults = R"({"metadata": {}, "results": [
  {"unique_id": "model.p.a", "status": "success"},
  {"unique_id": "test.p.t", "status": "warn", "failures": 3}
]})";
const char* kCleanResults = R"({"metadata": {}, "results": [
  {"unique_id": "model.p.a", "status": "success"},
  {"unique_id": "test.p.t", "status": "pass"},
  {"unique_id": "test.p.u", "status": "fail"}
]})";

}  // namespace

// ---- command line ------------------------------------------------------------------------

TEST(Cli, NoArgumentsIsAUsageError) {
  EXPECT_TRUE(contains(usage_error({}), "orc dbt <subcommand>"));
}

TEST(Cli, DbtCommandWithoutDbtGetsAHint) {
  EXPECT_TRUE(contains(usage_error({"run"}), "did you mean `orc dbt run`?"));
  EXPECT_TRUE(contains(usage_error({"build", "--select", "x"}), "`orc dbt build`"));
  EXPECT_TRUE(contains(usage_error({"--select"}), "--select"));
}

TEST(Cli, DbtWithoutSubcommandIsAUsageError) {
  EXPECT_TRUE(contains(usage_error({"dbt"}), "subcommand"));
}

TEST(Cli, UsageLinePointsAtHelp) {
  EXPECT_TRUE(contains(orc::usage_line(), "Usage: orc dbt <subcommand> [args...]"));
  EXPECT_TRUE(contains(orc::usage_line(), "orc --help"));
}

TEST(Cli, VersionAndHelpNeedNoConfig) {
  // A broken pyproject in the working directory must not matter for --version/--help.
  TempDir d;
  write(d.path() / "pyproject.toml", "[tool.orchestra_dbt]\norchestra_env = \"prod\"\n");
  fs::path old = fs::current_path();
  fs::current_path(d.path());
  testing::internal::CaptureStdout();
  int version_rc = orc::run_cli({"--version"});
  std::string version = testing::internal::GetCapturedStdout();
  testing::internal::CaptureStdout();
  int help_rc = orc::run_cli({"--help"});
  std::string help = testing::internal::GetCapturedStdout();
  testing::internal::CaptureStdout();
  int h_rc = orc::run_cli({"-h"});
  testing::internal::GetCapturedStdout();
  // ... while `orc dbt ...` does load (and reject) it.
  EXPECT_THROW(orc::run_cli({"dbt", "ls"}), orc::Error);
  fs::current_path(old);
  EXPECT_EQ(version_rc, 0);
  EXPECT_EQ(version, std::string("orc ") + ORC_VERSION + "\n");
  EXPECT_EQ(help_rc, 0);
  EXPECT_EQ(h_rc, 0);
  EXPECT_TRUE(contains(help, "orc dbt"));
}

TEST(Cli, HelpNamesEveryConfigKeyAndVariable) {
  std::string help = orc::help_text();
  for (const char* word :
       {"state_file", "use_stateful", "orchestra_env", "local_run", "debug",
        "integration_account_id", "seed_state_orchestration", "ORCHESTRA_STATE_FILE",
        "ORCHESTRA_USE_STATEFUL", "ORCHESTRA_ENV", "ORCHESTRA_LOCAL_RUN", "ORCHESTRA_DBT_DEBUG",
        "ORCHESTRA_INTEGRATION_ACCOUNT_ID", "ORCHESTRA_SEED_STATE_ORCHESTRATION",
        "ORCHESTRA_API_KEY", "ORC_DBT", "is_warn", "pyproject.toml"})
    EXPECT_TRUE(contains(help, word)) << word;
}

TEST(Cli, UnknownOrchestraCommandNamesItAndTheKnownOnes) {
  Config config;
  try {
    orc::dispatch_dbt("orchestra", {"frobnicate"}, config);
    FAIL() << "expected orc::Error";
  } catch (const orc::Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(e.exit_code, 1);
    EXPECT_TRUE(contains(msg, "frobnicate")) << msg;
    EXPECT_TRUE(contains(msg, "is_warn")) << msg;
    EXPECT_TRUE(contains(msg, "plan")) << msg;
    EXPECT_TRUE(contains(msg, "save-state")) << msg;
  }
}

// ---- passthrough -------------------------------------------------------------------------

TEST(Passthrough, RunsDbtWithArgumentsUnchangedAndReturnsItsExitCode) {
  TempDir d;
  Config config;
  config.env.vars = {{"ORC_DBT", fake_dbt(d.path(), 3).string()}, {"PATH", "/usr/bin:/bin"}};
  std::vector<std::string> args = {"--select", "tag:a model b", "--vars", "{\"k\": 'v'}", "$X"};
  EXPECT_EQ(orc::run_passthrough("ls", args, config), 3);
  std::vector<std::string> expected = {"ls"};
  expected.insert(expected.end(), args.begin(), args.end());
  EXPECT_EQ(recorded_args(d.path()), expected);
}

TEST(Passthrough, FindsDbtOnPath) {
  TempDir d;
  fake_dbt(d.path(), 0);
  Config config;
  config.env.vars = {{"PATH", d.path().string() + ":/usr/bin:/bin"}};
  EXPECT_EQ(orc::run_passthrough("--version", {}, config), 0);
  EXPECT_EQ(recorded_args(d.path()), std::vector<std::string>{"--version"});
}

TEST(Passthrough, NoDbtIsAClearError) {
  TempDir d;
  Config config;
  config.env.vars = {{"PATH", d.path().string()}};
  EXPECT_THROW(orc::run_passthrough("ls", {}, config), orc::Error);
}

TEST(Dispatch, BuildRunTestPassThroughWhenStatefulIsOff) {
  TempDir d;
  Config config;
  config.use_stateful = false;
  config.env.vars = {{"ORC_DBT", fake_dbt(d.path(), 5).string()}, {"PATH", "/usr/bin:/bin"}};
  for (std::string sub : {"build", "run", "test", "seed", "ls"}) {
    EXPECT_EQ(orc::dispatch_dbt(sub, {"--threads", "4"}, config), 5) << sub;
    EXPECT_EQ(recorded_args(d.path()), (std::vector<std::string>{sub, "--threads", "4"}));
  }
}

TEST(Dispatch, OtherSubcommandsPassThroughWhenStatefulIsOn) {
  TempDir d;
  Config config;
  config.use_stateful = true;
  config.env.vars = {{"ORC_DBT", fake_dbt(d.path(), 0).string()}, {"PATH", "/usr/bin:/bin"}};
  for (std::string sub : {"seed", "ls", "compile", "snapshot", "source", "--version"}) {
    EXPECT_EQ(orc::dispatch_dbt(sub, {"-s", "x"}, config), 0) << sub;
    EXPECT_EQ(recorded_args(d.path()), (std::vector<std::string>{sub, "-s", "x"}));
  }
}

// ---- is_warn -----------------------------------------------------------------------------

TEST(IsWarn, WarnStatusMakesWarning) {
  EXPECT_TRUE(orc::run_results_have_warning(kWarnResults));
  EXPECT_FALSE(orc::run_results_have_warning(kCleanResults));
  EXPECT_FALSE(orc::run_results_have_warning(R"({"results": []})"));
  EXPECT_FALSE(orc::run_results_have_warning("not json"));
  EXPECT_FALSE(orc::run_results_have_warning(R"({"results": 3})"));
  EXPECT_FALSE(orc::run_results_have_warning(""));
}

TEST(IsWarn, VerdictFromFileAndMissingOrUnreadableIsSucceeded) {
  TempDir d;
  write(d.path() / "warn.json", kWarnResults);
  write(d.path() / "clean.json", kCleanResults);
  write(d.path() / "broken.json", "{\"results\": [ {\"status\": ");
  EXPECT_EQ(orc::is_warn_verdict(d.path() / "warn.json"), "WARNING");
  EXPECT_EQ(orc::is_warn_verdict(d.path() / "clean.json"), "SUCCEEDED");
  EXPECT_EQ(orc::is_warn_verdict(d.path() / "broken.json"), "SUCCEEDED");
  EXPECT_EQ(orc::is_warn_verdict(d.path() / "missing.json"), "SUCCEEDED");
  EXPECT_EQ(orc::is_warn_verdict(d.path()), "SUCCEEDED");  // a directory
}

TEST(IsWarn, ReadsTargetUnderTheWorkingDirectoryByDefault) {
  orc::Environment env;
  EXPECT_EQ(orc::is_warn_run_results_path({}, env, "/w"), fs::path("/w/target/run_results.json"));
}

TEST(IsWarn, HonoursProjectDirAndTargetPath) {
  orc::Environment none;
  EXPECT_EQ(orc::is_warn_run_results_path({"--project-dir", "proj"}, none, "/w"),
            fs::path("/w/proj/target/run_results.json"));
  EXPECT_EQ(orc::is_warn_run_results_path({"--project-dir=/abs/p", "--target-path", "out"}, none,
                                          "/w"),
            fs::path("/abs/p/out/run_results.json"));
  EXPECT_EQ(orc::is_warn_run_results_path({"--target-path=/tmp/t"}, none, "/w"),
            fs::path("/tmp/t/run_results.json"));
  orc::Environment env{{{"DBT_PROJECT_DIR", "envproj"}, {"DBT_TARGET_PATH", "envtarget"}}};
  EXPECT_EQ(orc::is_warn_run_results_path({}, env, "/w"), fs::path("/w/envproj/envtarget/run_results.json"));
  // Arguments beat the environment.
  EXPECT_EQ(orc::is_warn_run_results_path({"--target-path", "argtarget"}, env, "/w"),
            fs::path("/w/envproj/argtarget/run_results.json"));
}

TEST(IsWarn, HonoursTargetPathInDbtProjectYml) {
  TempDir d;
  write(d.path() / "dbt_project.yml", "name: p\ntarget-path: \"custom_target\"\n");
  EXPECT_EQ(orc::is_warn_run_results_path({}, orc::Environment{}, d.path()),
            d.path() / "custom_target" / "run_results.json");
}

TEST(IsWarn, CommandPrintsVerdictAndExitsZero) {
  TempDir d;
  Config config;
  fs::path old = fs::current_path();
  fs::current_path(d.path());
  testing::internal::CaptureStdout();
  int missing_rc = orc::dispatch_dbt("orchestra", {"is_warn"}, config);
  std::string missing = testing::internal::GetCapturedStdout();
  write(d.path() / "target" / "run_results.json", kWarnResults);
  write(d.path() / "other" / "run_results.json", kCleanResults);
  testing::internal::CaptureStdout();
  int warn_rc = orc::dispatch_dbt("orchestra", {"is_warn"}, config);
  std::string warn = testing::internal::GetCapturedStdout();
  testing::internal::CaptureStdout();
  int other_rc = orc::dispatch_dbt("orchestra", {"is_warn", "--target-path", "other"}, config);
  std::string other = testing::internal::GetCapturedStdout();
  fs::current_path(old);
  EXPECT_EQ(missing_rc, 0);
  EXPECT_EQ(missing, "SUCCEEDED\n");
  EXPECT_EQ(warn_rc, 0);
  EXPECT_EQ(warn, "WARNING\n");
  EXPECT_EQ(other_rc, 0);
  EXPECT_EQ(other, "SUCCEEDED\n");
}
