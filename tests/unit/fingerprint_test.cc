// The fingerprint: which config keys and macros count, the macro closure, var and env var
// reads, and compare_fingerprints' order and codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "plan/fingerprint.h"

using namespace orc;

namespace {

/// A graph of models and macros, linked on demand, with a Fingerprinter over it.
struct Project {
  Graph g;
  FingerprintContext ctx;

  Project() {
    g.root_project = "proj";
    g.adapter_type = "duckdb";
  }
  NodeId model(const std::string& uid, std::vector<std::string> macros = {},
               std::string materialized = "table", std::string raw_code = "select 1") {
    Node n;
    n.unique_id = uid;
    n.kind = NodeKind::Model;
    n.resource_type = "model";
    n.package_name = "proj";
    n.materialized = std::move(materialized);
    n.checksum = "sum-" + uid;
    n.raw_code = std::move(raw_code);
    n.macro_deps = std::move(macros);
    return g.add(std::move(n));
  }
  void macro(const std::string& uid, const std::string& sql = "",
             std::vector<std::string> deps = {}) {
    // unique_id is macro.<package>.<name>
    size_t a = uid.find('.'), b = uid.find('.', a + 1);
    Macro m{uid, uid.substr(b + 1), uid.substr(a + 1, b - a - 1),
            sql.empty() ? "{% macro " + uid.substr(b + 1) + "() %}x{% endmacro %}" : sql,
            std::move(deps), {}};
    g.macro_index[uid] = static_cast<uint32_t>(g.macros.size());
    g.macros.push_back(std::move(m));
  }
  Node& node(const std::string& uid) { return g.nodes[*g.find(uid)]; }

  /// Unique ids of the macros `uid` reads, sorted.
  std::vector<std::string> macros_of(const std::string& uid) {
    g.link();
    Lineage lineage(g);
    Fingerprinter f(g, lineage, ctx);
    std::vector<std::string> out;
    for (uint32_t m : f.reads(*g.find(uid)).macros) out.push_back(g.macros[m].unique_id);
    std::sort(out.begin(), out.end());
    return out;
  }
  Fingerprint of(const std::string& uid) {
    g.link();
    Lineage lineage(g);
    Fingerprinter f(g, lineage, ctx);
    return f.of(*g.find(uid), nullptr);
  }
};

using Names = std::vector<std::string>;

}  // namespace

TEST(Fingerprint, ConfigKeysThatAffectTheResult) {
  for (const char* ignored : {"tags", "meta", "docs", "group", "access", "freshness"})
    EXPECT_FALSE(config_key_affects_result(ignored)) << ignored;
  for (const char* counted : {"materialized", "alias", "schema", "database", "pre-hook",
                              "post-hook", "unique_key", "contract", "incremental_strategy"})
    EXPECT_TRUE(config_key_affects_result(counted)) << counted;
}

TEST(Fingerprint, BuiltinMacroPackages) {
  EXPECT_TRUE(is_builtin_macro_package("dbt"));
  EXPECT_TRUE(is_builtin_macro_package("dbt_duckdb"));
  EXPECT_TRUE(is_builtin_macro_package("dbt_postgres"));
  EXPECT_FALSE(is_builtin_macro_package("dbt_utils"));
  EXPECT_FALSE(is_builtin_macro_package("dbt_expectations"));
  EXPECT_FALSE(is_builtin_macro_package("my_project"));
  EXPECT_FALSE(is_builtin_macro_package(""));
}

TEST(Fingerprint, MacroClosureFollowsAChain) {
  Project p;
  p.macro("macro.proj.a", "", {"macro.proj.b"});
  p.macro("macro.proj.b", "", {"macro.proj.c"});
  p.macro("macro.proj.c");
  p.macro("macro.proj.unused");
  p.model("model.proj.m", {"macro.proj.a"});
  p.model("model.proj.plain");
  EXPECT_EQ(p.macros_of("model.proj.m"), (Names{"macro.proj.a", "macro.proj.b", "macro.proj.c"}));
  EXPECT_EQ(p.macros_of("model.proj.plain"), Names{});
}

TEST(Fingerprint, MacroClosureOfADiamondHoldsEachMacroOnce) {
  Project p;
  p.macro("macro.proj.a", "", {"macro.proj.b", "macro.proj.c"});
  p.macro("macro.proj.b", "", {"macro.proj.d"});
  p.macro("macro.proj.c", "", {"macro.proj.d"});
  p.macro("macro.proj.d");
  p.model("model.proj.m", {"macro.proj.a", "macro.proj.d"});
  Names got = p.macros_of("model.proj.m");
  EXPECT_EQ(got, (Names{"macro.proj.a", "macro.proj.b", "macro.proj.c", "macro.proj.d"}));
  EXPECT_EQ(p.of("model.proj.m").macros.size(), 4u);
}

TEST(Fingerprint, MacroClosureTerminatesOnACycle) {
  Project p;
  p.macro("macro.proj.a", "", {"macro.proj.b"});
  p.macro("macro.proj.b", "", {"macro.proj.a", "macro.proj.b"});
  p.model("model.proj.m", {"macro.proj.a"});
  EXPECT_EQ(p.macros_of("model.proj.m"), (Names{"macro.proj.a", "macro.proj.b"}));
}

TEST(Fingerprint, MacroClosureOfACycleDoesNotDependOnWhichNodeIsAskedFirst) {
  // a calls b and b calls a: whichever a node calls, it reads both.
  Project p;
  p.macro("macro.proj.a", "", {"macro.proj.b"});
  p.macro("macro.proj.b", "", {"macro.proj.a"});
  p.model("model.proj.via_a", {"macro.proj.a"});
  p.model("model.proj.via_b", {"macro.proj.b"});
  p.g.link();
  Lineage lineage(p.g);
  Fingerprinter f(p.g, lineage, p.ctx);
  EXPECT_EQ(f.reads(*p.g.find("model.proj.via_a")).macros.size(), 2u);
  // Fixed: closure() memoised the partial closure of b computed while a was in progress ({b}),
  // so a node calling only b misses a (and a change to a), depending on evaluation order.
  EXPECT_EQ(f.reads(*p.g.find("model.proj.via_b")).macros.size(), 2u);
}

TEST(Fingerprint, BuiltinMacrosAreNotFingerprinted) {
  Project p;
  p.macro("macro.dbt.is_incremental");
  p.macro("macro.dbt_duckdb.duckdb__create_table_as");
  p.macro("macro.proj.helper", "", {"macro.dbt.is_incremental"});
  p.model("model.proj.m", {"macro.dbt.is_incremental", "macro.dbt_duckdb.duckdb__create_table_as",
                           "macro.proj.helper"});
  EXPECT_EQ(p.macros_of("model.proj.m"), Names{"macro.proj.helper"});
  EXPECT_EQ(p.of("model.proj.m").macros.count("macro.dbt.is_incremental"), 0u);
}

TEST(Fingerprint, PackageMacrosAreFingerprinted) {
  Project p;
  p.macro("macro.dbt_utils.star");
  p.model("model.proj.m", {"macro.dbt_utils.star"});
  EXPECT_EQ(p.macros_of("model.proj.m"), Names{"macro.dbt_utils.star"});
}

// dbt's depends_on of a dispatching macro names only its namespace's implementations; a
// root-project override (`duckdb__aux_scale` for `adapter.dispatch('aux_scale', 'auxpkg')`)
// is what dbt runs, so it counts (found by the differential campaign: adding the override
// left a package view reused with its old values).
TEST(Fingerprint, ProjectOverrideOfADispatchedPackageMacroCounts) {
  Project p;
  p.macro("macro.auxpkg.aux_scale",
          "{% macro aux_scale(x) %}{{ return(adapter.dispatch('aux_scale', 'auxpkg')(x)) }}"
          "{% endmacro %}",
          {"macro.auxpkg.default__aux_scale"});
  p.macro("macro.auxpkg.default__aux_scale");
  p.macro("macro.proj.duckdb__aux_scale");
  p.macro("macro.proj.duckdb__other");
  p.model("model.proj.m", {"macro.auxpkg.aux_scale"});
  EXPECT_EQ(p.macros_of("model.proj.m"),
            (Names{"macro.auxpkg.aux_scale", "macro.auxpkg.default__aux_scale",
                   "macro.proj.duckdb__aux_scale"}));
}

// The same through one of dbt's own dispatching macros called directly by the node
// (`{{ dbt.dateadd(...) }}` with a project `duckdb__dateadd`), and a computed dispatch name
// (every `<prefix>__name` macro counts).
TEST(Fingerprint, DispatchThroughABuiltinMacroAndAComputedNameCounts) {
  Project p;
  p.macro("macro.dbt.dateadd",
          "{% macro dateadd(a, b, c) %}{{ return(adapter.dispatch('dateadd', 'dbt')(a, b, c)) }}"
          "{% endmacro %}");
  p.macro("macro.proj.duckdb__dateadd", "", {"macro.proj.helper"});
  p.macro("macro.proj.helper");
  p.macro("macro.proj.any_of", "{% macro any_of(n) %}{{ adapter.dispatch(n)() }}{% endmacro %}");
  p.macro("macro.proj.default__thing");
  p.model("model.proj.m", {"macro.dbt.dateadd"});
  p.model("model.proj.n", {"macro.proj.any_of"});
  EXPECT_EQ(p.macros_of("model.proj.m"),
            (Names{"macro.proj.duckdb__dateadd", "macro.proj.helper"}));
  EXPECT_EQ(p.macros_of("model.proj.n"),
            (Names{"macro.proj.any_of", "macro.proj.default__thing", "macro.proj.duckdb__dateadd",
                   "macro.proj.helper"}));
}

TEST(Fingerprint, OverrideOfABuiltinMacroCountsForEveryNode) {
  Project p;
  p.macro("macro.dbt.create_table_as");
  p.macro("macro.proj.create_table_as", "", {"macro.proj.helper"});  // overrides dbt's
  p.macro("macro.proj.helper");
  p.model("model.proj.m");
  p.model("model.proj.n", {}, "view");
  EXPECT_EQ(p.macros_of("model.proj.m"), (Names{"macro.proj.create_table_as", "macro.proj.helper"}));
  EXPECT_EQ(p.macros_of("model.proj.n"), (Names{"macro.proj.create_table_as", "macro.proj.helper"}));
}

TEST(Fingerprint, OverrideOfRelationNamingMacrosIsSeenThroughTheRelation) {
  Project p;
  p.macro("macro.dbt.generate_schema_name");
  p.macro("macro.proj.generate_schema_name");
  p.model("model.proj.m");
  EXPECT_EQ(p.macros_of("model.proj.m"), Names{});
}

TEST(Fingerprint, CustomMaterializationCountsForItsNodes) {
  Project p;
  p.macro("macro.proj.materialization_my_table_default", "", {"macro.proj.helper"});
  p.macro("macro.proj.helper");
  p.macro("macro.proj.materialization_fast_duckdb");
  p.macro("macro.proj.materialization_fast_snowflake");
  p.model("model.proj.custom", {}, "my_table");
  p.model("model.proj.fast", {}, "fast");
  p.model("model.proj.plain", {}, "table");
  EXPECT_EQ(p.macros_of("model.proj.custom"),
            (Names{"macro.proj.helper", "macro.proj.materialization_my_table_default"}));
  EXPECT_EQ(p.macros_of("model.proj.fast"), Names{"macro.proj.materialization_fast_duckdb"})
      << "only the current adapter's";
  EXPECT_EQ(p.macros_of("model.proj.plain"), Names{});
}

TEST(Fingerprint, CommentOnlyMacroEditKeepsItsHash) {
  Project p;
  p.macro("macro.proj.money", "{% macro money(c) %}\n  round({{ c }} / 100.0, 2)\n{% endmacro %}");
  p.model("model.proj.m", {"macro.proj.money"});
  std::string before = p.of("model.proj.m").macros.at("macro.proj.money");
  p.g.macros[0].sql =
      "{# cents to units #}{% macro money(c) %}\n  -- two decimals\n  round({{ c }} / 100.0, 2) "
      "/* rounded */\n{% endmacro %}";
  EXPECT_EQ(p.of("model.proj.m").macros.at("macro.proj.money"), before);
  p.g.macros[0].sql = "{% macro money(c) %}\n  round({{ c }} / 100.0, 3)\n{% endmacro %}";
  EXPECT_NE(p.of("model.proj.m").macros.at("macro.proj.money"), before);
}

TEST(Fingerprint, CommentOnlyCodeEditKeepsTheCodeHash) {
  Project p;
  p.model("model.proj.m", {}, "table", "select a\nfrom t");
  std::string before = p.of("model.proj.m").code;
  p.node("model.proj.m").raw_code = "-- note\nselect   a /* key */\nfrom t\n";
  p.node("model.proj.m").checksum = "changed";
  EXPECT_EQ(p.of("model.proj.m").code, before);
  p.node("model.proj.m").raw_code = "select b\nfrom t";
  EXPECT_NE(p.of("model.proj.m").code, before);
}

TEST(Fingerprint, VarsAndEnvVarsReadThroughMacros) {
  Project p;
  p.macro("macro.proj.limit", "{% macro limit() %}{{ var('row_limit') }} {{ env_var('TIER') }}"
                              "{% endmacro %}");
  p.model("model.proj.m", {"macro.proj.limit"}, "table", "select {{ var('weight') }}");
  p.ctx.var_values = {{"weight", "h-weight"}, {"row_limit", "h-limit"}};
  p.ctx.env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "TIER") return std::string("gold");
    return std::nullopt;
  };
  Fingerprint fp = p.of("model.proj.m");
  EXPECT_EQ(fp.vars, (FlatStringMap{{"row_limit", "h-limit"},
                                    {"weight", "h-weight"}}));
  ASSERT_EQ(fp.env_vars.count("TIER"), 1u);
  EXPECT_NE(fp.env_vars.at("TIER"), "gold") << "values are hashed";
  EXPECT_NE(fp.env_vars.at("TIER"), "unset");

  p.g.link();
  Lineage lineage(p.g);
  Fingerprinter f(p.g, lineage, p.ctx);
  EXPECT_EQ(f.vars_read({*p.g.find("model.proj.m"), *p.g.find("model.proj.m")}),
            (Names{"row_limit", "weight"}));
}

TEST(Fingerprint, UnknownVarIsRecordedAsUnknownAndAlwaysDiffers) {
  Project p;
  p.model("model.proj.m", {}, "table", "select {{ var('weight') }}");
  Fingerprint fp = p.of("model.proj.m");
  EXPECT_EQ(fp.vars.at("weight"), kUnknownValue);
  auto why = compare_fingerprints(fp, fp, "model.proj.m");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->code, ReasonCode::VarChanged);
  EXPECT_EQ(why->subject, "weight");
}

TEST(Fingerprint, UnsetEnvVarIsStableAndSettingItDiffers) {
  Project p;
  p.model("model.proj.m", {}, "table", "select '{{ env_var('TIER', 'x') }}'");
  Fingerprint unset = p.of("model.proj.m");
  EXPECT_FALSE(compare_fingerprints(unset, unset, "m")) << "unset is a known value";
  p.ctx.env = [](const std::string&) -> std::optional<std::string> { return "gold"; };
  auto why = compare_fingerprints(unset, p.of("model.proj.m"), "m");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->code, ReasonCode::EnvVarChanged);
  EXPECT_EQ(why->subject, "TIER");
}

TEST(Fingerprint, DynamicEnvVarNameAlwaysBuilds) {
  Project p;
  p.model("model.proj.m", {}, "table", "select '{{ env_var(target.name ~ '_TIER') }}'");
  Fingerprint fp = p.of("model.proj.m");
  auto why = compare_fingerprints(fp, fp, "model.proj.m");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->code, ReasonCode::VarNameDynamic);
}

TEST(Fingerprint, DynamicVarNameFollowsEveryVisibleVar) {
  Project p;
  p.g.root_project = "proj";
  p.model("model.proj.m", {}, "table", "select {{ var(target.name ~ '_weight') }}");
  p.ctx.scopes.problem.clear();
  p.ctx.scopes.root_project = "proj";
  p.ctx.scopes.root.values = {{"dev_weight", "p\"1\""}};
  Fingerprint before = p.of("model.proj.m");
  EXPECT_FALSE(compare_fingerprints(before, p.of("model.proj.m"), "m"));
  p.ctx.scopes.root.values["dev_weight"] = "p\"2\"";
  auto why = compare_fingerprints(before, p.of("model.proj.m"), "m");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->code, ReasonCode::VarChanged);
  p.ctx.scopes.problem = "unreadable";
  why = compare_fingerprints(before, p.of("model.proj.m"), "m");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->code, ReasonCode::VarNameDynamic) << "vars not read: unknown";
}

/// A package model reading var `grain`, with its package's own dbt_project.yml default.
struct PackageVarProject : Project {
  PackageVarProject() {
    g.root_project = "root";
    NodeId id = model("model.pkg.m", {}, "table", "select {{ var('grain') }}");
    g.nodes[id].package_name = "pkg";
    ctx.scopes.problem.clear();
    ctx.scopes.root_project = "root";
    ctx.scopes.packages["pkg"].values = {{"grain", "p\"day\""}, {"other", "p\"x\""}};
  }
};

TEST(Fingerprint, PackageVarFollowsThePackagesOwnDefault) {
  PackageVarProject p;
  Fingerprint before = p.of("model.pkg.m");
  EXPECT_EQ(before.vars.size(), 1u) << "only the var it reads";
  EXPECT_NE(before.vars.at("grain"), kUnknownValue);
  p.ctx.scopes.packages["pkg"].values["other"] = "p\"y\"";  // a var it does not read
  p.ctx.scopes.root.values["unrelated"] = "p\"1\"";
  EXPECT_FALSE(compare_fingerprints(before, p.of("model.pkg.m"), "model.pkg.m"));
  p.ctx.scopes.packages["pkg"].values["grain"] = "p\"week\"";  // a package upgrade
  auto why = compare_fingerprints(before, p.of("model.pkg.m"), "model.pkg.m");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->code, ReasonCode::VarChanged);
  EXPECT_EQ(why->subject, "grain");
}

TEST(Fingerprint, PackageVarPrecedenceIsDbts) {
  PackageVarProject p;
  auto grain = [&p] { return p.of("model.pkg.m").vars.at("grain"); };
  const std::string own = grain();
  p.ctx.scopes.packages["pkg"].scoped["pkg"] = {{"grain", "p\"hour\""}};
  const std::string own_scoped = grain();
  EXPECT_NE(own_scoped, own) << "the package's scoped block beats its global one";
  p.ctx.scopes.root.values["grain"] = "p\"month\"";
  const std::string root_global = grain();
  EXPECT_NE(root_global, own_scoped) << "the root project beats the package";
  p.ctx.scopes.root.scoped["other_pkg"] = {{"grain", "p\"year\""}};
  EXPECT_EQ(grain(), root_global) << "vars scoped to another package do not apply";
  p.ctx.scopes.root.scoped["pkg"] = {{"grain", "p\"year\""}};
  const std::string root_scoped = grain();
  EXPECT_NE(root_scoped, root_global) << "root vars scoped to the package beat root globals";
  p.ctx.scopes.cli = {{"grain", "p\"minute\""}};
  const std::string cli = grain();
  EXPECT_NE(cli, root_scoped) << "--vars beat everything";
  EXPECT_NE(cli, kUnknownValue) << "read from --vars itself, not from dbt's answer";
  p.ctx.var_values["grain"] = "md5-of-minute";  // dbt's answer for the root project
  EXPECT_EQ(grain(), cli) << "a package node's value does not depend on the root's answer";
}

TEST(Fingerprint, APackageVarSetToTheSameValueInAnotherLayerIsUnchanged) {
  // Found by the real-world harness: `--vars pkg_min: 10` over a package default of 10 was
  // a var_changed build (--vars were hashed with dbt's answer, the default with its text).
  PackageVarProject p;
  p.ctx.scopes.packages["pkg"].values["grain"] = "p\"day\"";
  Fingerprint before = p.of("model.pkg.m");
  p.ctx.scopes.cli = {{"grain", "p\"day\""}};
  p.ctx.var_values["grain"] = "md5-of-day";
  EXPECT_FALSE(compare_fingerprints(before, p.of("model.pkg.m"), "model.pkg.m"));
  p.ctx.scopes.root.values["grain"] = "p\"day\"";
  p.ctx.scopes.cli.clear();
  EXPECT_FALSE(compare_fingerprints(before, p.of("model.pkg.m"), "model.pkg.m"));
}

TEST(Fingerprint, PackageVarJinjaValueFollowsTheEnvVarsItReads) {
  PackageVarProject p;
  p.ctx.scopes.packages["pkg"].values["grain"] = "s\"{{ env_var('GRAIN') }}\"";
  std::string value = "day";
  p.ctx.env = [&value](const std::string& n) -> std::optional<std::string> {
    if (n == "GRAIN") return value;
    return std::nullopt;
  };
  Fingerprint before = p.of("model.pkg.m");
  EXPECT_FALSE(compare_fingerprints(before, p.of("model.pkg.m"), "model.pkg.m"));
  value = "week";
  auto why = compare_fingerprints(before, p.of("model.pkg.m"), "model.pkg.m");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->code, ReasonCode::VarChanged);
}

TEST(Fingerprint, PackageVarsUnknownWhenTheProjectFilesWereNotRead) {
  PackageVarProject p;
  p.ctx.scopes.packages.clear();  // the package's dbt_project.yml was not found
  EXPECT_EQ(p.of("model.pkg.m").vars.at("grain"), kUnknownValue);
  PackageVarProject q;
  q.ctx.scopes.problem = "dbt_project.yml: not valid YAML";
  EXPECT_EQ(q.of("model.pkg.m").vars.at("grain"), kUnknownValue);
}

TEST(Fingerprint, EphemeralAncestorsCodeConfigAndMacrosCount) {
  Project p;
  p.g.config_keys = {"materialized", "alias"};
  p.macro("macro.proj.eph_helper");
  NodeId e = p.model("model.proj.eph", {"macro.proj.eph_helper"}, "ephemeral",
                     "select {{ var('cutoff') }}");
  p.g.nodes[e].config = {{1, 7}};
  NodeId m = p.model("model.proj.m");
  p.g.nodes[m].depends_on = {"model.proj.eph"};
  Fingerprint fp = p.of("model.proj.m");
  EXPECT_EQ(fp.macros.count("macro.proj.eph_helper"), 1u);
  EXPECT_EQ(fp.vars.count("cutoff"), 1u);
  EXPECT_EQ(fp.config.count("model.proj.eph:alias"), 1u);
  std::string code = fp.code;
  p.node("model.proj.eph").raw_code = "select 2";
  EXPECT_NE(p.of("model.proj.m").code, code);
}

TEST(Fingerprint, RelationIdentityAndKind) {
  Node n;
  n.kind = NodeKind::Model;
  n.materialized = "incremental";
  EXPECT_EQ(expected_relation_kind(n), "table");
  n.materialized = "view";
  EXPECT_EQ(expected_relation_kind(n), "view");
  n.materialized = "my_table";
  EXPECT_EQ(expected_relation_kind(n), "") << "custom: cannot tell";
  n.materialized = "ephemeral";
  EXPECT_EQ(expected_relation_kind(n), "");
  n.kind = NodeKind::Seed;
  EXPECT_EQ(expected_relation_kind(n), "table");
  n.kind = NodeKind::Test;
  EXPECT_EQ(expected_relation_kind(n), "");

  EXPECT_EQ(relation_identity(n), "");
  n.database = "db";
  n.schema = "dbt_test__audit";
  EXPECT_EQ(relation_identity(n), "db.dbt_test__audit");
  n.relation_name = "\"db\".\"main\".\"t\"";
  EXPECT_EQ(relation_identity(n), "\"db\".\"main\".\"t\"");
}

TEST(Fingerprint, CompareReportsTheFirstDifferenceInOrder) {
  Fingerprint a;
  a.code = "c1";
  a.relation = "r1";
  a.adapter = "duckdb";
  a.kind = "table";
  a.inputs = "i1";
  a.config = {{"materialized", "h1"}, {"unique_key", "k1"}};
  a.macros = {{"macro.p.m1", "m1"}};
  a.vars = {{"v", "x1"}};
  a.env_vars = {{"E", "e1"}};
  EXPECT_FALSE(compare_fingerprints(a, a, "model.p.n"));

  Fingerprint b = a;
  b.relation = "r2";
  b.adapter = "snowflake";
  b.code = "c2";
  b.macros = {{"macro.p.m1", "m2"}};
  b.config = {{"materialized", "h1"}, {"unique_key", "k2"}};
  b.inputs = "i2";
  b.vars = {{"v", "x2"}};
  b.env_vars = {{"E", "e2"}};
  b.kind = "view";

  struct Step {
    ReasonCode code;
    std::string subject;
    std::function<void(Fingerprint&)> settle;  // makes b agree with a on this component
  };
  std::vector<Step> steps = {
      {ReasonCode::RelationChanged, "r2", [&](Fingerprint& f) { f.relation = a.relation; }},
      {ReasonCode::AdapterChanged, "snowflake", [&](Fingerprint& f) { f.adapter = a.adapter; }},
      {ReasonCode::CodeChanged, "model.p.n", [&](Fingerprint& f) { f.code = a.code; }},
      {ReasonCode::MacroChanged, "macro.p.m1", [&](Fingerprint& f) { f.macros = a.macros; }},
      {ReasonCode::ConfigChanged, "unique_key", [&](Fingerprint& f) { f.config = a.config; }},
      {ReasonCode::InputsChanged, "", [&](Fingerprint& f) { f.inputs = a.inputs; }},
      {ReasonCode::VarChanged, "v", [&](Fingerprint& f) { f.vars = a.vars; }},
      {ReasonCode::EnvVarChanged, "E", [&](Fingerprint& f) { f.env_vars = a.env_vars; }},
      {ReasonCode::ConfigChanged, "materialized", [&](Fingerprint& f) { f.kind = a.kind; }},
  };
  for (const Step& s : steps) {
    auto why = compare_fingerprints(a, b, "model.p.n");
    ASSERT_TRUE(why) << reason_code_name(s.code);
    EXPECT_EQ(why->code, s.code) << reason_code_name(s.code) << " vs " << reason_text(*why);
    EXPECT_EQ(why->subject, s.subject) << reason_code_name(s.code);
    s.settle(b);
  }
  EXPECT_FALSE(compare_fingerprints(a, b, "model.p.n"));
  EXPECT_EQ(b, a);
}

TEST(Fingerprint, CompareNamesAddedAndRemovedMacrosAndKeys) {
  Fingerprint a;
  a.macros = {{"macro.p.b", "1"}};
  Fingerprint b;
  b.macros = {{"macro.p.a", "1"}, {"macro.p.b", "1"}};
  auto why = compare_fingerprints(a, b, "n");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->code, ReasonCode::MacroChanged);
  EXPECT_EQ(why->subject, "macro.p.a") << "now called";
  why = compare_fingerprints(b, a, "n");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->subject, "macro.p.a") << "no longer called";

  Fingerprint c, d;
  d.config = {{"schema", "h"}};
  why = compare_fingerprints(c, d, "n");
  ASSERT_TRUE(why);
  EXPECT_EQ(why->code, ReasonCode::ConfigChanged);
  EXPECT_EQ(why->subject, "schema");
}

// The decision's fast path: summary() digests the fingerprint of() builds, without building it.
TEST(Fingerprint, SummaryDigestsWhatOfBuilds) {
  Project p;
  p.g.config_keys = {"materialized", "alias"};
  p.macro("macro.proj.limit", "{% macro limit() %}{{ var('row_limit') }} {{ env_var('TIER') }}"
                              "{% endmacro %}");
  NodeId e = p.model("model.proj.eph", {}, "ephemeral", "select {{ var('cutoff') }}");
  p.g.nodes[e].config = {{1, 7}};
  NodeId m = p.model("model.proj.m", {"macro.proj.limit"}, "table", "select {{ var('weight') }}");
  p.g.nodes[m].config = {{0, 3}, {1, 9}};
  p.g.nodes[m].depends_on = {"model.proj.eph"};
  p.ctx.var_values = {{"weight", "h-w"}, {"row_limit", "h-l"}, {"cutoff", "h-c"}};
  p.ctx.env = [](const std::string&) -> std::optional<std::string> { return "gold"; };
  p.g.link();
  Lineage lineage(p.g);
  Fingerprinter f(p.g, lineage, p.ctx);
  const Fingerprint fp = f.of(m, nullptr);
  const FingerprintSummary s = f.summary(m, nullptr);
  EXPECT_EQ(s.digest, fingerprint_digest(fp));
  EXPECT_FALSE(s.has_unknown);
  EXPECT_EQ(s.watched_vars, (Names{"cutoff", "row_limit", "weight"}));
  EXPECT_EQ(s.watched_env_vars, (Names{"TIER"}));
  EXPECT_EQ(s.watched_macros, fp.macros.size());
  EXPECT_EQ(s.watched_macros, 1u);
}

TEST(Fingerprint, DigestChangesWithEveryComponent) {
  Fingerprint base;
  base.code = "c";
  base.relation = "db.s.t";
  base.adapter = "duckdb";
  base.kind = "table";
  base.inputs = "i";
  base.config = {{"materialized", "h1"}, {"alias", "h2"}};
  base.macros = {{"macro.proj.a", "m1"}};
  base.vars = {{"v", "x"}};
  base.env_vars = {{"E", "unset"}};
  const uint64_t d = fingerprint_digest(base);
  std::vector<Fingerprint> changed(13, base);
  changed[0].code = "c2";
  changed[1].relation = "db.s.u";
  changed[2].adapter = "postgres";
  changed[3].kind = "view";
  changed[4].inputs = "j";
  changed[5].config["alias"] = "h3";
  changed[6].config.erase("alias");
  changed[7].macros["macro.proj.b"] = "m2";
  changed[8].vars["v"] = "y";
  changed[9].env_vars["E"] = "set";
  changed[10].config = {{"materialized", "h2"}, {"alias", "h1"}};  // values swapped
  changed[11].vars = {};
  changed[11].env_vars = {{"E", "unset"}, {"v", "x"}};  // an entry moved to another map
  changed[12].macros = {{"macro.proj.a", "m1"}, {"macro.proj.a2", "m1"}};
  for (size_t i = 0; i < changed.size(); ++i)
    EXPECT_NE(fingerprint_digest(changed[i]), d) << "change " << i;
  EXPECT_EQ(fingerprint_digest(Fingerprint(base)), d);
}

TEST(Fingerprint, SummaryFlagsUnknownValuesSoTheyAlwaysDiffer) {
  Project p;
  p.model("model.proj.m", {}, "table", "select {{ var('weight') }}");
  p.g.link();
  Lineage lineage(p.g);
  Fingerprinter f(p.g, lineage, p.ctx);
  EXPECT_TRUE(f.summary(*p.g.find("model.proj.m"), nullptr).has_unknown);
}

TEST(Reason, CodeNamesAreSnakeCase) {
  EXPECT_STREQ(reason_code_name(ReasonCode::MacroChanged), "macro_changed");
  EXPECT_STREQ(reason_code_name(ReasonCode::FingerprintUnrecorded), "fingerprint_unrecorded");
  EXPECT_STREQ(reason_code_name(ReasonCode::RelationKindChanged), "relation_kind_changed");
  EXPECT_STREQ(reason_code_name(ReasonCode::TestParentsReused), "test_parents_reused");
  EXPECT_EQ(reason_text(Reason{ReasonCode::MacroChanged, "macro.shop.money", ""}),
            "macro macro.shop.money changed");
}

// prescan() fills on every core what reads() would scan lazily: same reads, node by node, on a
// graph large enough to be split across threads (ephemerals shared by many children, macros,
// volatile code, duplicates in the ids).
TEST(Fingerprint, PrescanReadsWhatLazyScansRead) {
  auto build = [](Project& p) {
    p.macro("macro.proj.clock", "{% macro clock() %}now(){% endmacro %}");
    p.macro("macro.proj.limit", "{% macro limit() %}{{ var('row_limit') }}{% endmacro %}");
    for (int i = 0; i < 200; ++i)
      p.model(fmt::format("model.proj.eph{}", i), {"macro.proj.limit"}, "ephemeral",
              fmt::format("select {{{{ env_var('E{}') }}}}", i % 7));
    for (int i = 0; i < 9000; ++i) {
      std::vector<std::string> macros;
      if (i % 5 == 0) macros.push_back("macro.proj.clock");
      if (i % 3 == 0) macros.push_back("macro.proj.missing");
      NodeId m = p.model(fmt::format("model.proj.m{}", i), macros, "table",
                         i % 11 == 0 ? "select random()"
                                     : fmt::format("select {{{{ var('v{}') }}}}", i % 13));
      p.g.nodes[m].depends_on = {fmt::format("model.proj.eph{}", i % 200)};
    }
    p.g.link();
  };
  Project lazy, eager;
  build(lazy);
  build(eager);
  Lineage l1(lazy.g), l2(eager.g);
  Fingerprinter f1(lazy.g, l1, lazy.ctx), f2(eager.g, l2, eager.ctx);
  std::vector<NodeId> ids;
  for (NodeId id = 0; id < eager.g.nodes.size(); ++id) ids.push_back(id);
  ids.push_back(0);  // a duplicate
  f2.prescan(ids);
  size_t volatile_nodes = 0;
  for (NodeId id = 0; id < lazy.g.nodes.size(); ++id) {
    const NodeReads& a = f1.reads(id);
    const NodeReads& b = f2.reads(id);
    ASSERT_EQ(a.vars, b.vars) << id;
    ASSERT_EQ(a.env_vars, b.env_vars) << id;
    ASSERT_EQ(a.macros, b.macros) << id;
    ASSERT_EQ(a.volatile_code, b.volatile_code) << id;
    volatile_nodes += b.volatile_code;
  }
  // Every fifth model calls the clock macro, every eleventh calls random() itself.
  size_t expected = 0;
  for (int i = 0; i < 9000; ++i) expected += i % 5 == 0 || i % 11 == 0;
  EXPECT_EQ(volatile_nodes, expected);
  const NodeReads& r = f2.reads(*eager.g.find("model.proj.m1"));
  EXPECT_EQ(r.vars, (Names{"row_limit", "v1"}));
  EXPECT_EQ(r.env_vars, (Names{"E1"}));
}

TEST(Fingerprint, PreparedSummariesFromSeveralThreadsEqualLazyOnes) {
  // decide() judges fingerprints on every core after prepare(): what each thread computes
  // must be what a lazy, single-threaded fingerprinter computes.
  auto build = [](Project& p) {
    p.macro("macro.proj.limit", "{% macro limit() %}{{ var('row_limit') }}{% endmacro %}");
    p.macro("macro.proj.wrap", "{% macro wrap() %}{{ limit() }}{% endmacro %}",
            {"macro.proj.limit"});
    for (int i = 0; i < 100; ++i)
      p.model(fmt::format("model.proj.eph{}", i), {"macro.proj.wrap"}, "ephemeral",
              fmt::format("select {{{{ env_var('E{}') }}}}", i % 7));
    for (int i = 0; i < 6000; ++i) {
      NodeId m = p.model(fmt::format("model.proj.m{}", i),
                         i % 3 == 0 ? std::vector<std::string>{"macro.proj.limit"}
                                    : std::vector<std::string>{},
                         i % 2 ? "table" : "view", fmt::format("select {{{{ var('v{}') }}}}", i % 13));
      p.g.nodes[m].depends_on = {fmt::format("model.proj.eph{}", i % 100)};
      if (i > 0) p.g.nodes[m].depends_on.push_back(fmt::format("model.proj.m{}", i - 1));
    }
    p.ctx.var_values = {{"v1", "h1"}, {"row_limit", "h2"}};
    p.ctx.env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "E3") return "three";
      return std::nullopt;
    };
    p.g.link();
  };
  Project lazy, prepared;
  build(lazy);
  build(prepared);
  Lineage l1(lazy.g), l2(prepared.g);
  Fingerprinter f1(lazy.g, l1, lazy.ctx), f2(prepared.g, l2, prepared.ctx);
  std::vector<NodeId> ids;
  for (NodeId id = 100; id < prepared.g.nodes.size(); ++id) ids.push_back(id);
  f2.prepare(ids);
  std::vector<FingerprintSummary> got(prepared.g.nodes.size());
  std::vector<Fingerprint> built(prepared.g.nodes.size());
  auto work = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      got[ids[i]] = f2.summary(ids[i], nullptr);
      built[ids[i]] = f2.of(ids[i], nullptr);
    }
  };
  std::thread other(work, 0, ids.size() / 2);
  work(ids.size() / 2, ids.size());
  other.join();
  for (NodeId id : ids) {
    const FingerprintSummary want = f1.summary(id, nullptr);
    ASSERT_EQ(got[id].digest, want.digest) << id;
    ASSERT_EQ(got[id].watched_vars, want.watched_vars) << id;
    ASSERT_EQ(got[id].watched_env_vars, want.watched_env_vars) << id;
    ASSERT_EQ(got[id].watched_macros, want.watched_macros) << id;
    ASSERT_EQ(built[id], f1.of(id, nullptr)) << id;
    ASSERT_EQ(fingerprint_digest(built[id]), want.digest) << id;
  }
  // Not vacuous: the macros, vars and env vars reached the summaries.
  const FingerprintSummary& m3 = got[*prepared.g.find("model.proj.m3")];
  EXPECT_EQ(m3.watched_vars, (Names{"row_limit", "v3"}));
  EXPECT_EQ(m3.watched_env_vars, (Names{"E3"}));
  EXPECT_EQ(m3.watched_macros, 2u);
}
