#include "dbt/project_vars.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/file_io.h"
#include "core/temp_dir.h"

namespace orc {
namespace {

VarBlock block_of(const std::string& yml) {
  std::string name;
  return read_var_block(yml, "dbt_project.yml", name);
}

TEST(ProjectVars, LayoutCommentsAndKeyOrderDoNotChangeValues) {
  VarBlock a = block_of("name: p\nvars:\n  x: 1\n  y: {b: 2, a: [1, 'two']}\n");
  VarBlock b = block_of("# a comment\nname: p\nvars:\n  y:\n    a: [1, 'two']  # note\n"
                        "    b: 2\n  x: 1\nmodels: {p: {+materialized: table}}\n");
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(a.scoped, b.scoped);
}

TEST(ProjectVars, QuotedAndPlainScalarsDiffer) {
  EXPECT_NE(block_of("vars: {x: 1}").values.at("x"), block_of("vars: {x: '1'}").values.at("x"));
}

TEST(ProjectVars, MappingValuesAreAlsoScopedBlocks) {
  std::string name;
  VarBlock b = read_var_block("name: root\nvars:\n  g: 1\n  jira:\n    grain: day\n", "f", name);
  EXPECT_EQ(name, "root");
  ASSERT_EQ(b.scoped.count("jira"), 1u);
  EXPECT_EQ(b.scoped.at("jira").count("grain"), 1u);
  EXPECT_EQ(b.scoped.count("g"), 0u);
}

TEST(ProjectVars, BadInputNamesTheFile) {
  std::string name;
  try {
    read_var_block("vars: [1, 2]", "pkg/dbt_project.yml", name);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pkg/dbt_project.yml"), std::string::npos);
  }
  EXPECT_THROW(read_var_block("vars: {x: [1", "f", name), Error);
  EXPECT_THROW(read_cli_vars("[1]"), Error);
  EXPECT_EQ(read_cli_vars("{min_val: 3}").count("min_val"), 1u);
  EXPECT_TRUE(read_cli_vars("").empty());
}

TEST(ProjectVars, ReadsTheRootProjectItsPackagesAndVars) {
  TempDir dir("orc-project-vars");
  const auto root = dir.path();
  write_file_atomic(root / "dbt_project.yml",
                    "name: shop\npackages-install-path: deps\nvars:\n  jira: {grain: week}\n");
  std::filesystem::create_directories(root / "deps" / "jira_pkg");
  write_file_atomic(root / "deps" / "jira_pkg" / "dbt_project.yml",
                    "name: jira\nvars:\n  grain: day\n");
  DbtArgs args;
  args.groups.push_back(ArgGroup{});
  args.groups.back().name = "--vars";
  args.groups.back().values = {"{limit: 5}"};
  VarScopes s = read_var_scopes(root, args);
  EXPECT_EQ(s.problem, "");
  EXPECT_EQ(s.root_project, "shop");
  ASSERT_EQ(s.packages.count("jira"), 1u) << "packages are found by their own name";
  EXPECT_EQ(s.packages.at("jira").values.count("grain"), 1u);
  EXPECT_EQ(s.root.scoped.at("jira").count("grain"), 1u);
  EXPECT_EQ(s.cli.count("limit"), 1u);

  write_file_atomic(root / "deps" / "jira_pkg" / "dbt_project.yml", "name: jira\nvars: [\n");
  VarScopes broken = read_var_scopes(root, args);
  EXPECT_NE(broken.problem.find("jira_pkg"), std::string::npos) << broken.problem;
}

}  // namespace
}  // namespace orc
