// Splitting the user's dbt arguments and rewriting them for `dbt ls` and the run.
#include <gtest/gtest.h>

#include <algorithm>

#include "dbt/dbt_args.h"
#include "dbt/project_paths.h"
#include "dbt/run_results.h"
#include "dbt/selection.h"

using namespace orc;
using Args = std::vector<std::string>;

namespace {

bool contains_seq(const Args& hay, const Args& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

}  // namespace

TEST(DbtArgs, SplitsSelectionProjectAndRunArguments) {
  DbtArgs a = parse_dbt_args({"-s", "+mart", "stg_orders", "--exclude", "tag:slow", "--threads",
                              "4", "--target", "postgres", "--full-refresh", "--vars",
                              "{\"a\": \"b c\"}", "--empty"});
  EXPECT_TRUE(a.full_refresh);
  EXPECT_EQ(a.target, "postgres");
  Args ls = ls_arguments("build", a);
  EXPECT_TRUE(contains_seq(ls, {"--select", "+mart", "stg_orders"}));
  EXPECT_TRUE(contains_seq(ls, {"--exclude", "tag:slow"}));
  EXPECT_TRUE(contains_seq(ls, {"--target", "postgres"}));
  EXPECT_TRUE(contains_seq(ls, {"--vars", "{\"a\": \"b c\"}"}));
  for (const char* dropped : {"--threads", "4", "--full-refresh", "--empty"})
    EXPECT_EQ(std::count(ls.begin(), ls.end(), dropped), 0) << dropped << " must not reach ls";
  EXPECT_TRUE(contains_seq(ls, {"--output", "json", "--output-keys", "unique_id"}));

  Args run = run_arguments("build", a, "/tmp/sel", {});
  EXPECT_EQ(run.front(), "build");
  EXPECT_TRUE(contains_seq(run, {"--threads", "4"}));
  EXPECT_TRUE(contains_seq(run, {"--target", "postgres"}));
  EXPECT_TRUE(contains_seq(run, {"--empty"}));
  for (const char* dropped : {"-s", "+mart", "--exclude", "tag:slow"})
    EXPECT_EQ(std::count(run.begin(), run.end(), dropped), 0) << dropped;
  EXPECT_TRUE(contains_seq(run, {"--select", "result:success", "--state", "/tmp/sel",
                                 "--indirect-selection", "empty"}));
}

TEST(DbtArgs, RunCommandLineDoesNotGrowWithTheNumberOfNodes) {
  // The BUILD set travels in the private run_results.json, never on the command line.
  DbtArgs a = parse_dbt_args({"--select", "tag:hourly", "--threads", "8"});
  Args cmd = run_arguments("build", a, "/tmp/orc-selection-abc", {});
  EXPECT_EQ(cmd.size(), 9u) << "build --threads 8 + 6 selection tokens";
  size_t cmd_bytes = 0;
  for (const auto& t : cmd) cmd_bytes += t.size();
  EXPECT_LT(cmd_bytes, 200u);
  for (size_t n : {10u, 10000u}) {
    Args ids;
    for (size_t i = 0; i < n; ++i) ids.push_back("model.p.m" + std::to_string(i));
    std::string file = synthetic_run_results(ids, "orc", "2024-01-01T00:00:00Z");
    EXPECT_NE(file.find("\"model.p.m" + std::to_string(n - 1) + "\""), std::string::npos);
    EXPECT_EQ(run_arguments("build", a, "/tmp/orc-selection-abc", {}), cmd);
  }
}

TEST(DbtArgs, EqualsSyntaxAndShortFlags) {
  DbtArgs a = parse_dbt_args({"--select=a", "-t", "dev", "--project-dir=/p", "-m", "b", "c",
                              "-x"});
  EXPECT_EQ(a.project_dir, "/p");
  EXPECT_EQ(a.target, "dev");
  Args ls = ls_arguments("run", a);
  EXPECT_TRUE(contains_seq(ls, {"--select", "a"}));
  EXPECT_TRUE(contains_seq(ls, {"--select", "b", "c"})) << "ls's -m cannot take --resource-type";
  EXPECT_EQ(std::count(ls.begin(), ls.end(), "-m"), 0);
  EXPECT_TRUE(contains_seq(ls, {"--resource-type", "model"}));
  EXPECT_EQ(std::count(ls.begin(), ls.end(), "-x"), 0);
  Args run = run_arguments("run", a, "/tmp/s", {});
  EXPECT_TRUE(contains_seq(run, {"-x"}));
}

TEST(DbtArgs, UnknownOptionTakesItsValueAlong) {
  DbtArgs a = parse_dbt_args({"--some-new-flag", "value", "--select", "x"});
  Args run = run_arguments("build", a, "/tmp/s", {});
  EXPECT_TRUE(contains_seq(run, {"--some-new-flag", "value"}));
  EXPECT_EQ(std::count(run.begin(), run.end(), "x"), 0);
}

TEST(DbtArgs, TestCommandListsTestsUnlessUserChoseTypes) {
  Args ls = ls_arguments("test", parse_dbt_args({}));
  EXPECT_TRUE(contains_seq(ls, {"--resource-type", "test", "--resource-type", "unit_test"}));
  ls = ls_arguments("test", parse_dbt_args({"--resource-type", "unit_test"}));
  EXPECT_EQ(std::count(ls.begin(), ls.end(), "test"), 0);
}

TEST(DbtArgs, UserStateBecomesDeferStateWhenDeferring) {
  DbtArgs a = parse_dbt_args({"--select", "state:modified+", "--state", "prod-artifacts",
                              "--defer"});
  Args ls = ls_arguments("build", a);
  EXPECT_TRUE(contains_seq(ls, {"--state", "prod-artifacts"}));
  Args run = run_arguments("build", a, "/tmp/s", {});
  EXPECT_TRUE(contains_seq(run, {"--defer-state", "prod-artifacts"}));
  EXPECT_TRUE(contains_seq(run, {"--defer"}));
  EXPECT_EQ(std::count(run.begin(), run.end(), "prod-artifacts"), 1);

  Environment env;
  env.vars["DBT_STATE"] = "/env/state";
  Args from_env = run_arguments("build", parse_dbt_args({"--defer"}), "/tmp/s", env);
  EXPECT_TRUE(contains_seq(from_env, {"--defer-state", "/env/state"}));
  Args explicit_defer =
      run_arguments("build", parse_dbt_args({"--defer", "--defer-state", "d"}), "/tmp/s", env);
  EXPECT_FALSE(contains_seq(explicit_defer, {"--defer-state", "/env/state"}));
}

TEST(ProjectPaths, TargetPathFromProjectYml) {
  EXPECT_EQ(target_path_from_project_yml("name: x\ntarget-path: \"out\"  # c\n"), "out");
  EXPECT_EQ(target_path_from_project_yml("name: x\n  target-path: nested\n"), std::nullopt);
  EXPECT_EQ(target_path_from_project_yml("name: x\n"), std::nullopt);
}

TEST(Selection, ParsesLsJsonLinesAndSkipsLogLines) {
  auto ids = parse_ls_output(
      "12:00:00  Running with dbt=1.11\n{\"unique_id\": \"model.p.a\"}\n"
      "warning: something\n{\"unique_id\": \"test.p.t.1\"}\r\n{not json\n");
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], "model.p.a");
  EXPECT_EQ(ids[1], "test.p.t.1");
}

TEST(DbtArgs, EmptyAndSampleRunsAreMarkedAsPlaceholderData) {
  EXPECT_TRUE(parse_dbt_args({"--empty"}).placeholder_data);
  EXPECT_TRUE(parse_dbt_args({"--sample", "3 days"}).placeholder_data);
  EXPECT_FALSE(parse_dbt_args({"--empty", "--no-empty"}).placeholder_data);
  EXPECT_FALSE(parse_dbt_args({"--threads", "4"}).placeholder_data);
}

TEST(DbtArgs, ShortFlagAndDbtFullRefreshEnvMeanAFullRefresh) {
  EXPECT_TRUE(parse_dbt_args({"-f"}).full_refresh);
  EXPECT_FALSE(parse_dbt_args({"-s", "a"}, Environment{}).full_refresh);
  for (const char* yes : {"true", "TRUE", "1", "t", "yes", "Y", "on", " true "})
    EXPECT_TRUE(parse_dbt_args({}, Environment{{{"DBT_FULL_REFRESH", yes}}}).full_refresh)
        << yes;
  for (const char* no : {"", "false", "0", "no", "off", "n", "maybe"})
    EXPECT_FALSE(parse_dbt_args({}, Environment{{{"DBT_FULL_REFRESH", no}}}).full_refresh)
        << no;
  EXPECT_TRUE(parse_dbt_args({"--full-refresh"}, Environment{{{"DBT_FULL_REFRESH", "false"}}})
                  .full_refresh)
      << "the flag wins over the variable";
}

TEST(DbtArgs, ThreadsAreReadAsDbtTakesThem) {
  EXPECT_EQ(parse_dbt_args({"--threads", "8"}).threads, 8);
  EXPECT_FALSE(parse_dbt_args({"--select", "x"}).threads);
  EXPECT_FALSE(parse_dbt_args({"--threads", "many"}).threads);
  EXPECT_EQ(parse_thread_count("4"), 4);
  for (const char* odd : {"", "0", "-1", "4.5", "1234567", " 4"})
    EXPECT_FALSE(parse_thread_count(odd)) << odd;
}
