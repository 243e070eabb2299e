// Every configuration rule: pyproject discovery, each key, each env override, precedence,
// state location resolution and every validation message.
#include <gtest/gtest.h>

#include "core/temp_dir.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

#include "config/config.h"
#include "core/error.h"

namespace fs = std::filesystem;
using orc::Config;
using orc::Environment;
using orc::load_config;

namespace {

/// A fresh directory, removed at the end of the test.
struct TempDir : orc::TempDir {
  TempDir() : orc::TempDir("orc-config-test") {}
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

Environment env(std::map<std::string, std::string> vars = {}) { return Environment{std::move(vars)}; }

/// A project directory holding pyproject.toml with `body` under [tool.orchestra_dbt].
struct Project {
  TempDir dir;
  fs::path pyproject;
  explicit Project(const std::string& body, const std::string& preamble = "") {
    pyproject = dir.path() / "pyproject.toml";
    write(pyproject, preamble + "[tool.orchestra_dbt]\n" + body);
  }
};

/// The message of the orc::Error that load_config throws (fails the test if it does not).
std::string config_error(const fs::path& cwd, const Environment& e) {
  try {
    load_config(cwd, e);
  } catch (const orc::Error& err) {
    EXPECT_EQ(err.exit_code, 1);
    std::string msg = err.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    return msg;
  }
  ADD_FAILURE() << "load_config did not throw";
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

// ---- defaults ----------------------------------------------------------------------------

TEST(Config, DefaultsWhenSectionIsAbsent) {
  TempDir d;
  write(d.path() / "pyproject.toml", "[project]\nname = \"x\"\n");
  Config c = load_config(d.path(), env());
  EXPECT_NE(c.pyproject, d.path() / "pyproject.toml") << "a pyproject without the section";
  EXPECT_FALSE(c.use_stateful);
  EXPECT_EQ(c.orchestra_env, "app");
  EXPECT_TRUE(c.local_run);
  EXPECT_FALSE(c.debug);
  EXPECT_FALSE(c.integration_account_id);
  EXPECT_FALSE(c.seed_state_orchestration);
  EXPECT_FALSE(c.state_location);
  EXPECT_FALSE(c.api_key);
}

TEST(Config, DefaultsWhenSectionIsEmpty) {
  Project p("");
  Config c = load_config(p.dir.path(), env());
  EXPECT_FALSE(c.use_stateful);
  EXPECT_EQ(c.orchestra_env, "app");
  EXPECT_TRUE(c.local_run);
  EXPECT_FALSE(c.state_location);
  EXPECT_TRUE(c.verify_relations_exist) << "on by default in orc (off in dbt-orchestra)";
  EXPECT_FALSE(c.require_explicit_source_freshness);
  EXPECT_FALSE(c.scope_source_freshness_to_selection);
  EXPECT_EQ(c.volatility, orc::VolatilityMode::Filters);
  EXPECT_TRUE(c.reused_in_run_results) << "run_results.json lists reused nodes by default";
}

TEST(Config, DefaultsWithoutAnyPyproject) {
  TempDir d;
  // Only meaningful when no ancestor of the temp directory holds a pyproject.toml.
  if (orc::find_pyproject(d.path())) GTEST_SKIP() << "a pyproject.toml exists above " << d.path();
  Config c = load_config(d.path(), env());
  EXPECT_FALSE(c.pyproject);
  EXPECT_FALSE(c.use_stateful);
  EXPECT_EQ(c.orchestra_env, "app");
  EXPECT_TRUE(c.local_run);
  EXPECT_FALSE(c.state_location);
}

// ---- each key from pyproject ---------------------------------------------------------------

TEST(Config, ReadsEveryKey) {
  Project p(
      "state_file = \"/abs/state.json\"\n"
      "use_stateful = true\n"
      "orchestra_env = \"stage\"\n"
      "local_run = false\n"
      "debug = true\n"
      "integration_account_id = \"acct-42\"\n"
      "seed_state_orchestration = true\n");
  Config c = load_config(p.dir.path(), env());
  EXPECT_EQ(c.state_location, "/abs/state.json");
  EXPECT_EQ(c.state_location_origin, p.pyproject.string() + ": state_file");
  EXPECT_TRUE(c.use_stateful);
  EXPECT_EQ(c.orchestra_env, "stage");
  EXPECT_FALSE(c.local_run);
  EXPECT_TRUE(c.debug);
  EXPECT_EQ(c.integration_account_id, "acct-42");
  EXPECT_TRUE(c.seed_state_orchestration);
}

TEST(Config, EachBooleanKeyBothWays) {
  for (const char* key : {"use_stateful", "local_run", "debug", "seed_state_orchestration"}) {
    for (bool value : {true, false}) {
      Project p(std::string(key) + (value ? " = true\n" : " = false\n"));
      Config c = load_config(p.dir.path(), env());
      bool got = std::string(key) == "use_stateful"   ? c.use_stateful
                 : std::string(key) == "local_run"    ? c.local_run
                 : std::string(key) == "debug"        ? c.debug
                                                      : c.seed_state_orchestration;
      EXPECT_EQ(got, value) << key;
    }
  }
}

TEST(Config, OrchestraEnvIsCaseInsensitiveAndStoredLowerCase) {
  for (auto [written, stored] : std::vector<std::pair<std::string, std::string>>{
           {"app", "app"}, {"STAGE", "stage"}, {"Dev", "dev"}, {"aPp", "app"}}) {
    Project p("orchestra_env = \"" + written + "\"\n");
    EXPECT_EQ(load_config(p.dir.path(), env()).orchestra_env, stored) << written;
  }
}

TEST(Config, UnknownKeysAndOtherToolSectionsAreIgnored) {
  Project p("use_stateful = true\nsome_future_key = 3\n[tool.orchestra_dbt.nested]\nx = 1\n",
            "[tool.black]\nline-length = \"not ours\"\n");
  Config c = load_config(p.dir.path(), env());
  EXPECT_TRUE(c.use_stateful);
}

TEST(Config, EmptyStateFileMeansNotConfigured) {
  Project p("state_file = \"\"\n");
  EXPECT_FALSE(load_config(p.dir.path(), env()).state_location);
}

// ---- discovery ---------------------------------------------------------------------------

TEST(Config, WalksUpToTheFirstPyproject) {
  Project p("use_stateful = true\n");
  fs::path deep = p.dir.path() / "a" / "b" / "c";
  fs::create_directories(deep);
  EXPECT_EQ(orc::find_pyproject(deep), p.pyproject);
  Config c = load_config(deep, env());
  EXPECT_EQ(c.pyproject, p.pyproject);
  EXPECT_TRUE(c.use_stateful);
}

TEST(Config, PyprojectWithoutTheSectionIsPassedOver) {
  // dbt-orchestra 1.5: the nearest pyproject.toml *that has* [tool.orchestra_dbt].
  Project p("use_stateful = true\n");
  fs::path sub = p.dir.path() / "sub";
  write(sub / "pyproject.toml", "[project]\nname = \"inner\"\n[tool.black]\nx = 1\n");
  EXPECT_EQ(load_config(sub / ".", env()).pyproject, p.pyproject);
  EXPECT_TRUE(load_config(sub / ".", env()).use_stateful);
}

TEST(Config, InvalidPyprojectOnTheWayUpIsAnError) {
  Project p("use_stateful = true\n");
  fs::path sub = p.dir.path() / "sub";
  write(sub / "pyproject.toml", "[project\n");
  std::string msg = config_error(sub, env());
  EXPECT_TRUE(contains(msg, (sub / "pyproject.toml").string())) << msg;
  EXPECT_TRUE(contains(msg, "invalid TOML")) << msg;
}

TEST(Config, ProjectDirectoryIsSearchedBeforeTheWorkingDirectory) {
  TempDir d;
  fs::path project = d.path() / "analytics" / "dbt";
  fs::path elsewhere = d.path() / "jobs";
  write(d.path() / "analytics" / "pyproject.toml",
        "[tool.orchestra_dbt]\nuse_stateful = true\nstate_file = \"state.json\"\n"
        "debug = true\n");
  write(elsewhere / "pyproject.toml",
        "[tool.orchestra_dbt]\nuse_stateful = false\nstate_file = \"other.json\"\n");
  fs::create_directories(project);
  Config c = load_config(elsewhere, env(), fs::path("../analytics/dbt"));
  EXPECT_EQ(c.pyproject, d.path() / "analytics" / "pyproject.toml");
  EXPECT_TRUE(c.use_stateful);
  EXPECT_EQ(c.state_location, (d.path() / "analytics" / "state.json").string())
      << "relative to the pyproject that was found";
  EXPECT_FALSE(c.debug) << "debug comes from the working directory's pyproject";

  // Without a pyproject above the project directory, the working directory's is used.
  TempDir bare;
  Config fallback = load_config(elsewhere, env(), bare.path());
  if (!orc::find_pyproject(bare.path())) {
    EXPECT_EQ(fallback.pyproject, elsewhere / "pyproject.toml");
    EXPECT_FALSE(fallback.use_stateful);
  }
  // No project directory named: the working directory's, as before.
  EXPECT_EQ(load_config(elsewhere, env()).pyproject, elsewhere / "pyproject.toml");
}

TEST(Config, DebugFromTheWorkingDirectoryEvenWhenTheProjectsSaysOtherwise) {
  TempDir d;
  write(d.path() / "proj" / "pyproject.toml", "[tool.orchestra_dbt]\ndebug = false\n");
  write(d.path() / "cwd" / "pyproject.toml", "[tool.orchestra_dbt]\ndebug = true\n");
  EXPECT_TRUE(load_config(d.path() / "cwd", env(), d.path() / "proj").debug);
  EXPECT_FALSE(
      load_config(d.path() / "cwd", env({{"ORCHESTRA_DBT_DEBUG", "false"}}), d.path() / "proj")
          .debug)
      << "the variable still overrides";
}

TEST(Config, DirectoryNamedPyprojectIsNotAFile) {
  Project p("debug = true\n");
  fs::path sub = p.dir.path() / "sub";
  fs::create_directories(sub / "pyproject.toml");  // a directory, not the file
  EXPECT_EQ(orc::find_pyproject(sub), p.pyproject);
}

TEST(Config, FindsPyprojectFromARelativeStart) {
  Project p("");
  fs::path old = fs::current_path();
  fs::create_directories(p.dir.path() / "x");
  fs::current_path(p.dir.path() / "x");
  auto found = orc::find_pyproject(".");
  fs::current_path(old);
  EXPECT_EQ(found, p.pyproject);
}

// ---- env overrides and precedence -------------------------------------------------------

TEST(Config, EnvBooleansOverridePyprojectBothWays) {
  struct Case {
    const char* var;
    const char* key;
    bool Config::*field;
  };
  for (Case k : {Case{"ORCHESTRA_USE_STATEFUL", "use_stateful", &Config::use_stateful},
                 Case{"ORCHESTRA_LOCAL_RUN", "local_run", &Config::local_run},
                 Case{"ORCHESTRA_DBT_DEBUG", "debug", &Config::debug},
                 Case{"ORCHESTRA_SEED_STATE_ORCHESTRATION", "seed_state_orchestration",
                      &Config::seed_state_orchestration},
                 Case{"ORCHESTRA_VERIFY_RELATIONS_EXIST", "verify_relations_exist",
                      &Config::verify_relations_exist},
                 Case{"ORCHESTRA_REQUIRE_EXPLICIT_SOURCE_FRESHNESS",
                      "require_explicit_source_freshness",
                      &Config::require_explicit_source_freshness},
                 Case{"ORCHESTRA_SCOPE_SOURCE_FRESHNESS_TO_SELECTION",
                      "scope_source_freshness_to_selection",
                      &Config::scope_source_freshness_to_selection},
                 Case{"ORCHESTRA_REUSED_IN_RUN_RESULTS", "reused_in_run_results",
                      &Config::reused_in_run_results}}) {
    Project on(std::string(k.key) + " = true\n");
    Project off(std::string(k.key) + " = false\n");
    EXPECT_FALSE(load_config(on.dir.path(), env({{k.var, "false"}})).*k.field) << k.var;
    EXPECT_TRUE(load_config(off.dir.path(), env({{k.var, "true"}})).*k.field) << k.var;
    // Without the variable the pyproject value stands.
    EXPECT_TRUE(load_config(on.dir.path(), env()).*k.field) << k.var;
    EXPECT_FALSE(load_config(off.dir.path(), env()).*k.field) << k.var;
  }
}

TEST(Config, EnvBooleanOnlyTrueIsTrue) {
  Project p("use_stateful = true\n");
  for (const char* yes : {"true", "TRUE", "True", "tRuE"})
    EXPECT_TRUE(load_config(p.dir.path(), env({{"ORCHESTRA_USE_STATEFUL", yes}})).use_stateful)
        << yes;
  for (const char* no : {"1", "yes", "on", "false", "t", " true", "truthy"})
    EXPECT_FALSE(load_config(p.dir.path(), env({{"ORCHESTRA_USE_STATEFUL", no}})).use_stateful)
        << no;
}

TEST(Config, EnvOverridesDefaultsWithoutPyproject) {
  Project p("");  // section present but empty: defaults
  Config c = load_config(p.dir.path(), env({{"ORCHESTRA_USE_STATEFUL", "true"},
                                            {"ORCHESTRA_LOCAL_RUN", "false"},
                                            {"ORCHESTRA_DBT_DEBUG", "TRUE"},
                                            {"ORCHESTRA_SEED_STATE_ORCHESTRATION", "True"},
                                            {"ORCHESTRA_ENV", "dev"},
                                            {"ORCHESTRA_INTEGRATION_ACCOUNT_ID", "acct"}}));
  EXPECT_TRUE(c.use_stateful);
  EXPECT_FALSE(c.local_run);
  EXPECT_TRUE(c.debug);
  EXPECT_TRUE(c.seed_state_orchestration);
  EXPECT_EQ(c.orchestra_env, "dev");
  EXPECT_EQ(c.integration_account_id, "acct");
}

TEST(Config, EmptyOrBlankStringVariableCountsAsUnset) {
  // dbt-orchestra 1.5 (config._env_str) strips string variables; a blank one is unset.
  Project p("use_stateful = true\norchestra_env = \"stage\"\nintegration_account_id = \"a\"\n"
            "state_file = \"/from/file.json\"\n");
  for (const char* blank : {"", "  ", " \t\n"}) {
    Config c = load_config(p.dir.path(), env({{"ORCHESTRA_ENV", blank},
                                              {"ORCHESTRA_INTEGRATION_ACCOUNT_ID", blank},
                                              {"ORCHESTRA_STATE_FILE", blank},
                                              {"ORCHESTRA_API_KEY", blank}}));
    EXPECT_EQ(c.orchestra_env, "stage");
    EXPECT_EQ(c.integration_account_id, "a");
    EXPECT_EQ(c.state_location, "/from/file.json");
    EXPECT_FALSE(c.api_key);
  }
}

TEST(Config, StringVariablesAreStripped) {
  Project p("use_stateful = true\n");
  Config c = load_config(p.dir.path(), env({{"ORCHESTRA_ENV", " Dev\n"},
                                            {"ORCHESTRA_INTEGRATION_ACCOUNT_ID", "  acct7 "},
                                            {"ORCHESTRA_STATE_FILE", " s3://b/state.json\n"},
                                            {"ORCHESTRA_API_KEY", "\tkey\n"}}));
  EXPECT_EQ(c.orchestra_env, "dev");
  EXPECT_EQ(c.integration_account_id, "acct7");
  EXPECT_EQ(c.state_location, "s3://b/state.json");
  EXPECT_EQ(c.api_key, "key");
}

TEST(Config, EmptyBooleanVariableIsFalse) {
  // dbt-orchestra 1.5 (config._env_bool): a set variable counts, and only "true" is true, so
  // the empty value a CI template leaves is false, whatever pyproject.toml says.
  Project p("use_stateful = true\nlocal_run = true\ndebug = true\n"
            "seed_state_orchestration = true\nverify_relations_exist = true\n"
            "require_explicit_source_freshness = true\n"
            "scope_source_freshness_to_selection = true\n");
  Config c = load_config(p.dir.path(),
                         env({{"ORCHESTRA_USE_STATEFUL", ""},
                              {"ORCHESTRA_LOCAL_RUN", ""},
                              {"ORCHESTRA_DBT_DEBUG", ""},
                              {"ORCHESTRA_SEED_STATE_ORCHESTRATION", ""},
                              {"ORCHESTRA_VERIFY_RELATIONS_EXIST", ""},
                              {"ORCHESTRA_REQUIRE_EXPLICIT_SOURCE_FRESHNESS", ""},
                              {"ORCHESTRA_SCOPE_SOURCE_FRESHNESS_TO_SELECTION", ""}}));
  EXPECT_FALSE(c.use_stateful);
  EXPECT_FALSE(c.local_run);
  EXPECT_FALSE(c.debug);
  EXPECT_FALSE(c.seed_state_orchestration);
  EXPECT_FALSE(c.verify_relations_exist);
  EXPECT_FALSE(c.require_explicit_source_freshness);
  EXPECT_FALSE(c.scope_source_freshness_to_selection);
  // Blanks around "true" are not stripped for booleans either: " true " is false.
  EXPECT_FALSE(load_config(p.dir.path(), env({{"ORCHESTRA_LOCAL_RUN", " true "}})).local_run);
  EXPECT_TRUE(load_config(p.dir.path(), env({{"ORCHESTRA_LOCAL_RUN", "TRUE"}})).local_run);
}

TEST(Config, OrchestraEnvFromEnvOverridesPyprojectCaseInsensitively) {
  Project p("orchestra_env = \"stage\"\n");
  EXPECT_EQ(load_config(p.dir.path(), env({{"ORCHESTRA_ENV", "DEV"}})).orchestra_env, "dev");
  EXPECT_EQ(load_config(p.dir.path(), env({{"ORCHESTRA_ENV", "App"}})).orchestra_env, "app");
  EXPECT_EQ(load_config(p.dir.path(), env()).orchestra_env, "stage");
}

TEST(Config, IntegrationAccountIdFromEnvOverridesPyproject) {
  Project p("integration_account_id = \"from-file\"\n");
  EXPECT_EQ(
      load_config(p.dir.path(), env({{"ORCHESTRA_INTEGRATION_ACCOUNT_ID", "from-env"}}))
          .integration_account_id,
      "from-env");
  EXPECT_EQ(load_config(p.dir.path(), env()).integration_account_id, "from-file");
}

TEST(Config, PyprojectIsValidatedEvenWhenEnvOverridesTheKey) {
  // The pyproject is validated even when env overrides the key: a broken file is reported.
  Project p("orchestra_env = \"prod\"\n");
  std::string msg = config_error(p.dir.path(), env({{"ORCHESTRA_ENV", "app"}}));
  EXPECT_TRUE(contains(msg, "orchestra_env"));
}

TEST(Config, ApiKeyComesFromEnvOnlyAndEnvIsKept) {
  Project p("api_key = \"not-read-from-file\"\n");
  Config c = load_config(p.dir.path(), env({{"ORCHESTRA_API_KEY", "sekret"}, {"OTHER", "1"}}));
  EXPECT_EQ(c.api_key, "sekret");
  EXPECT_EQ(c.env.get("OTHER"), "1");
  EXPECT_FALSE(load_config(p.dir.path(), env()).api_key);
}

// ---- state location ----------------------------------------------------------------------

TEST(Config, RelativeStateFileIsResolvedAgainstThePyprojectDirectory) {
  Project p("state_file = \"state/orc.json\"\n");
  fs::path deep = p.dir.path() / "models" / "staging";
  fs::create_directories(deep);
  Config c = load_config(deep, env());
  EXPECT_EQ(c.state_location, (p.dir.path() / "state" / "orc.json").string());
  EXPECT_EQ(c.state_location_origin, p.pyproject.string() + ": state_file");
}

TEST(Config, DotDotInStateFileIsNormalised) {
  Project p("state_file = \"../shared/state.json\"\n");
  Config c = load_config(p.dir.path(), env());
  EXPECT_EQ(c.state_location, (p.dir.path().parent_path() / "shared" / "state.json").string());
}

TEST(Config, RelativeOrchestraStateFileIsResolvedAgainstTheWorkingDirectory) {
  Project p("state_file = \"from-file.json\"\n");
  fs::path sub = p.dir.path() / "sub";
  fs::create_directories(sub);
  Config c = load_config(sub, env({{"ORCHESTRA_STATE_FILE", "local/state.json"}}));
  EXPECT_EQ(c.state_location, (sub / "local" / "state.json").string());
  EXPECT_EQ(c.state_location_origin, "ORCHESTRA_STATE_FILE");
}

TEST(Config, AbsoluteOrchestraStateFileIsKept) {
  Project p("");
  Config c = load_config(p.dir.path(), env({{"ORCHESTRA_STATE_FILE", "/var/lib/orc/state.json"}}));
  EXPECT_EQ(c.state_location, "/var/lib/orc/state.json");
}

TEST(Config, OrchestraStateFileBeatsPyprojectStateFile) {
  Project p("state_file = \"/from/file.json\"\n");
  Config c = load_config(p.dir.path(), env({{"ORCHESTRA_STATE_FILE", "/from/env.json"}}));
  EXPECT_EQ(c.state_location, "/from/env.json");
  EXPECT_EQ(c.state_location_origin, "ORCHESTRA_STATE_FILE");
  // Empty variable: the pyproject setting applies.
  Config d = load_config(p.dir.path(), env({{"ORCHESTRA_STATE_FILE", ""}}));
  EXPECT_EQ(d.state_location, "/from/file.json");
}

TEST(Config, OrchestraStateFileWithoutPyproject) {
  TempDir d;
  if (orc::find_pyproject(d.path())) GTEST_SKIP();
  Config c = load_config(d.path(), env({{"ORCHESTRA_STATE_FILE", "s.json"}}));
  EXPECT_EQ(c.state_location, (d.path() / "s.json").string());
}

TEST(Config, ObjectStoreUrisAreKeptAsWritten) {
  for (const char* uri : {"s3://bucket/path/state.json", "gs://bucket/state.json",
                          "abfs://container@acct.dfs.core.windows.net/state.json",
                          "abfss://container@acct.dfs.core.windows.net/dir/state.json"}) {
    Project p(std::string("state_file = \"") + uri + "\"\n");
    EXPECT_EQ(load_config(p.dir.path(), env()).state_location, uri);
    EXPECT_EQ(load_config(p.dir.path(), env({{"ORCHESTRA_STATE_FILE", uri}})).state_location, uri);
  }
}

// ---- volatility ----------------------------------------------------------------------------

TEST(Config, VolatilityFromPyprojectInAnyCase) {
  using orc::VolatilityMode;
  for (const auto& [text, mode] : std::vector<std::pair<std::string, VolatilityMode>>{
           {"filters", VolatilityMode::Filters}, {"any", VolatilityMode::Any},
           {"never", VolatilityMode::Never}, {"Any", VolatilityMode::Any},
           {"NEVER", VolatilityMode::Never}}) {
    Project p("volatility = \"" + text + "\"\n");
    EXPECT_EQ(load_config(p.dir.path(), env()).volatility, mode) << text;
  }
}

TEST(Config, VolatilityEnvOverridesPyproject) {
  Project p("volatility = \"never\"\n");
  EXPECT_EQ(load_config(p.dir.path(), env({{"ORCHESTRA_VOLATILITY", "any"}})).volatility,
            orc::VolatilityMode::Any);
  EXPECT_EQ(load_config(p.dir.path(), env({{"ORCHESTRA_VOLATILITY", "Filters"}})).volatility,
            orc::VolatilityMode::Filters);
  EXPECT_EQ(load_config(p.dir.path(), env({{"ORCHESTRA_VOLATILITY", ""}})).volatility,
            orc::VolatilityMode::Never)
      << "an empty variable counts as unset";
}

TEST(ConfigErrors, InvalidVolatilityNamesFileKeyValueAndChoices) {
  Project p("volatility = \"sometimes\"\n");
  std::string msg = config_error(p.dir.path(), env());
  EXPECT_TRUE(contains(msg, p.pyproject.string())) << msg;
  EXPECT_TRUE(contains(msg, "[tool.orchestra_dbt] volatility = \"sometimes\"")) << msg;
  EXPECT_TRUE(contains(msg, "filters, any or never")) << msg;

  Project q("volatility = true\n");
  msg = config_error(q.dir.path(), env());
  EXPECT_TRUE(contains(msg, "volatility = true")) << msg;
  EXPECT_TRUE(contains(msg, "filters, any or never")) << msg;
}

TEST(ConfigErrors, InvalidVolatilityVariableNamesTheVariable) {
  Project p("");
  std::string msg = config_error(p.dir.path(), env({{"ORCHESTRA_VOLATILITY", "always"}}));
  EXPECT_TRUE(contains(msg, "ORCHESTRA_VOLATILITY")) << msg;
  EXPECT_TRUE(contains(msg, "\"always\"")) << msg;
  EXPECT_TRUE(contains(msg, "filters, any or never")) << msg;
}

// ---- validation messages -----------------------------------------------------------------

TEST(ConfigErrors, InvalidOrchestraEnvNamesFileKeyValueAndChoices) {
  Project p("orchestra_env = \"prod\"\n");
  std::string msg = config_error(p.dir.path(), env());
  EXPECT_TRUE(contains(msg, p.pyproject.string())) << msg;
  EXPECT_TRUE(contains(msg, "[tool.orchestra_dbt]")) << msg;
  EXPECT_TRUE(contains(msg, "orchestra_env")) << msg;
  EXPECT_TRUE(contains(msg, "\"prod\"")) << msg;
  EXPECT_TRUE(contains(msg, "app")) << msg;
  EXPECT_TRUE(contains(msg, "stage")) << msg;
  EXPECT_TRUE(contains(msg, "dev")) << msg;
}

TEST(ConfigErrors, OrchestraEnvOfWrongTypeNamesChoices) {
  Project p("orchestra_env = 3\n");
  std::string msg = config_error(p.dir.path(), env());
  EXPECT_TRUE(contains(msg, p.pyproject.string())) << msg;
  EXPECT_TRUE(contains(msg, "orchestra_env = 3")) << msg;
  EXPECT_TRUE(contains(msg, "app, stage or dev")) << msg;
}

TEST(ConfigErrors, BooleanKeyGivenAsStringNamesFileKeyValueAndAcceptedValues) {
  for (const char* key : {"use_stateful", "local_run", "debug", "seed_state_orchestration"}) {
    Project p(std::string(key) + " = \"yes\"\n");
    std::string msg = config_error(p.dir.path(), env());
    EXPECT_TRUE(contains(msg, p.pyproject.string())) << msg;
    EXPECT_TRUE(contains(msg, std::string(key) + " = \"yes\"")) << msg;
    EXPECT_TRUE(contains(msg, "true or false")) << msg;
  }
}

TEST(ConfigErrors, BooleanKeyGivenAsNumberOrQuotedTrue) {
  Project p("use_stateful = 1\n");
  EXPECT_TRUE(contains(config_error(p.dir.path(), env()), "use_stateful = 1"));
  Project q("debug = \"true\"\n");
  EXPECT_TRUE(contains(config_error(q.dir.path(), env()), "debug = \"true\""));
}

TEST(ConfigErrors, StringKeysOfWrongType) {
  Project a("state_file = 12\n");
  std::string msg = config_error(a.dir.path(), env());
  EXPECT_TRUE(contains(msg, a.pyproject.string())) << msg;
  EXPECT_TRUE(contains(msg, "state_file = 12")) << msg;
  EXPECT_TRUE(contains(msg, "s3://")) << msg;

  Project b("integration_account_id = 42\n");
  msg = config_error(b.dir.path(), env());
  EXPECT_TRUE(contains(msg, b.pyproject.string())) << msg;
  EXPECT_TRUE(contains(msg, "integration_account_id = 42")) << msg;
  EXPECT_TRUE(contains(msg, "string")) << msg;

  Project c("state_file = [\"a\", \"b\"]\n");
  msg = config_error(c.dir.path(), env());
  EXPECT_TRUE(contains(msg, "state_file = [")) << msg;
}

TEST(ConfigErrors, InvalidOrchestraEnvVariableNamesTheVariable) {
  Project p("");
  std::string msg = config_error(p.dir.path(), env({{"ORCHESTRA_ENV", "production"}}));
  EXPECT_TRUE(contains(msg, "ORCHESTRA_ENV")) << msg;
  EXPECT_TRUE(contains(msg, "\"production\"")) << msg;
  EXPECT_TRUE(contains(msg, "app, stage or dev")) << msg;
}

TEST(ConfigErrors, BadTomlSyntaxNamesFileLineAndColumn) {
  TempDir d;
  fs::path file = d.path() / "pyproject.toml";
  write(file, "[project]\nname = \"x\"\n[tool.orchestra_dbt\nuse_stateful = true\n");
  std::string msg = config_error(d.path(), env());
  EXPECT_TRUE(contains(msg, file.string() + ":3:")) << msg;
  EXPECT_TRUE(contains(msg, "invalid TOML")) << msg;
  EXPECT_TRUE(contains(msg, "expected ']'")) << msg;
}

TEST(ConfigErrors, BadTomlValueSyntax) {
  Project p("use_stateful = yes\n");
  std::string msg = config_error(p.dir.path(), env());
  EXPECT_TRUE(contains(msg, p.pyproject.string() + ":2:")) << msg;
}

TEST(ConfigErrors, SectionThatIsNotATable) {
  TempDir d;
  write(d.path() / "pyproject.toml", "[tool]\norchestra_dbt = \"on\"\n");
  std::string msg = config_error(d.path(), env());
  EXPECT_TRUE(contains(msg, (d.path() / "pyproject.toml").string())) << msg;
  EXPECT_TRUE(contains(msg, "[tool.orchestra_dbt]")) << msg;
  EXPECT_TRUE(contains(msg, "table")) << msg;
}

TEST(ConfigErrors, UnreadablePyprojectIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  Project p("debug = true\n");
  fs::permissions(p.pyproject, fs::perms::none);
  std::string msg = config_error(p.dir.path(), env());
  EXPECT_TRUE(contains(msg, p.pyproject.string())) << msg;
}
