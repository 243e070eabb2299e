// Volatile nodes: reads_clock_or_randomness() on code, and Fingerprinter::is_volatile() through
// a node's own code, the macros it calls, its ephemeral ancestors and its `volatile` config.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plan/code_normalizer.h"
#include "plan/fingerprint.h"
#include "plan/reason.h"
#include "plan/volatility.h"

using namespace orc;

// --- reads_clock_or_randomness ------------------------------------------------------------

TEST(Volatile, ClockFunctionsAreVolatile) {
  for (const char* code : {
           "select now() as built_at",
           "select NOW ( ) as built_at",                       // case, space before (
           "select current_timestamp as built_at",             // bare keyword
           "select CURRENT_TIMESTAMP(3) as built_at",
           "select * from t where d = CURRENT_DATE",
           "select current_time, localtimestamp, localtime",
           "select getdate() as d",                            // SQL Server / Redshift
           "select sysdate as d",                              // Oracle / Snowflake, bare
           "select clock_timestamp(), statement_timestamp(), transaction_timestamp()",
           "select timeofday()",
           "select unix_timestamp()",
           "select {{ dbt.current_timestamp() }} as built_at", // dbt's cross-db macro
           "select {{ dbt_utils.current_timestamp() }} as t",
       })
    EXPECT_TRUE(reads_clock_or_randomness(code)) << code;
}

TEST(Volatile, RandomnessAndUuidsAreVolatile) {
  for (const char* code : {
           "select random() as r",
           "select * from t order by RANDOM() limit 10",
           "select rand() as r",
           "select uuid() as id",
           "select gen_random_uuid() as id",
           "select newid() as id",
       })
    EXPECT_TRUE(reads_clock_or_randomness(code)) << code;
}

TEST(Volatile, DbtRunContextIsVolatile) {
  for (const char* code : {
           "select '{{ run_started_at }}' as run_at",
           "select '{{ run_started_at.strftime(\"%Y\") }}' as y",
           "select '{{ invocation_id }}' as inv",
           "select '{{ modules.datetime.datetime.now() }}' as t",
           "select '{{ modules.datetime.datetime.utcnow() }}' as t",
       })
    EXPECT_TRUE(reads_clock_or_randomness(code)) << code;
}

TEST(Volatile, NowAndTodayStringLiteralsAreVolatile) {
  EXPECT_TRUE(reads_clock_or_randomness("select 'now'::timestamp as t"));
  EXPECT_TRUE(reads_clock_or_randomness("select cast('NOW' as timestamp) as t"));
  EXPECT_TRUE(reads_clock_or_randomness("select 'today'::date as d"));
  EXPECT_TRUE(reads_clock_or_randomness("select ' today '::date as d"));
  EXPECT_TRUE(reads_clock_or_randomness("select $$now$$::timestamp as t"));
  EXPECT_FALSE(reads_clock_or_randomness("select 'now or never' as motto"));
}

TEST(Volatile, PythonModelsAreScannedToo) {
  EXPECT_TRUE(reads_clock_or_randomness(
      "def model(dbt, session):\n    import datetime\n"
      "    return dbt.ref('x').withColumn('t', datetime.datetime.now())\n"));
}

TEST(Volatile, CommentsAreScanned) {
  // Documented: Jinja renders inside SQL comments, and a false "volatile" only costs a rebuild.
  EXPECT_TRUE(reads_clock_or_randomness("select 1 -- now()"));
  EXPECT_TRUE(reads_clock_or_randomness("select 1 /* current_timestamp */"));
}

TEST(Volatile, ColumnsThatOnlyLookLikeClockWordsAreNot) {
  for (const char* code : {
           "select 1",
           "",
           "select now_flag, is_now, known from t",           // 'now' inside identifiers
           "select now from t",                               // a column named now, not called
           "select rand, random_seed, rand_id from t",        // rand/random not called
           "select rand\n, x from t",
           "select current_timestamp_utc from t",             // longer identifiers
           "select last_current_date, current_dates from t",
           "select sysdate_key from t",
           "select created_at, updated_at from {{ ref('orders') }}",
           "select my_random(x) from t",                      // another function's name
           "select t.uuid from t",                            // a uuid column
           "select 'now is the time' as motto",               // not the literal 'now'
           "select run_started from t",
           "select {{ var('started_at') }} as s",
       })
    EXPECT_FALSE(reads_clock_or_randomness(code)) << code;
}

TEST(Volatile, UsualClockFunctionsOfTheTestedAdapters) {
  // These read the clock or randomness on DuckDB / PostgreSQL (the adapters orc is tested on)
  // or in dbt's Jinja: DuckDB today() / get_current_timestamp() / get_current_time(),
  // PostgreSQL 'tomorrow' / 'yesterday' literals and uuid-ossp's uuid_generate_v4(), Jinja's
  // date.today().
  for (const char* code : {
           "select today() as d",
           "select get_current_timestamp() as t",
           "select get_current_time() as t",
           "select 'tomorrow'::date as d",
           "select 'yesterday'::date as d",
           "select uuid_generate_v4() as id",
           "select '{{ modules.datetime.date.today() }}' as d",
       })
    EXPECT_TRUE(reads_clock_or_randomness(code)) << code;
}

// --- Fingerprinter::is_volatile -----------------------------------------------------------

namespace {

/// A hand-built graph of models and macros with a Fingerprinter over it.
struct Project {
  Graph g;
  FingerprintContext ctx;

  Project() {
    g.root_project = "proj";
    g.adapter_type = "duckdb";
  }
  NodeId model(const std::string& uid, std::string raw_code = "select 1",
               std::vector<std::string> macros = {}, std::string materialized = "table",
               std::vector<std::string> parents = {}) {
    Node n;
    n.unique_id = uid;
    n.kind = NodeKind::Model;
    n.resource_type = "model";
    n.package_name = "proj";
    n.materialized = std::move(materialized);
    n.checksum = "sum-" + uid;
    n.raw_code = std::move(raw_code);
    n.macro_deps = std::move(macros);
    n.depends_on = std::move(parents);
    n.original_file_path = "models/" + uid.substr(uid.rfind('.') + 1) + ".sql";
    return g.add(std::move(n));
  }
  void macro(const std::string& uid, const std::string& body, std::vector<std::string> deps = {}) {
    // unique_id is macro.<package>.<name>
    size_t a = uid.find('.'), b = uid.find('.', a + 1);
    std::string name = uid.substr(b + 1);
    Macro m{uid, name, uid.substr(a + 1, b - a - 1),
            "{% macro " + name + "() %}" + body + "{% endmacro %}", std::move(deps),
            "macros/" + name + ".sql"};
    g.macro_index[uid] = static_cast<uint32_t>(g.macros.size());
    g.macros.push_back(std::move(m));
  }
  Node& node(const std::string& uid) { return g.nodes[*g.find(uid)]; }

  /// Why `uid` is volatile under `mode` (nullopt: it is not).
  std::optional<Volatility> volatility(const std::string& uid, VolatilityMode mode) {
    g.link();
    Lineage lineage(g);
    Fingerprinter f(g, lineage, ctx);
    return f.volatility(*g.find(uid), mode);
  }
  /// Under `any` by default: the tests written before the setting existed describe it.
  bool is_volatile(const std::string& uid, VolatilityMode mode = VolatilityMode::Any) {
    return volatility(uid, mode).has_value();
  }
};

}  // namespace

TEST(Volatile, OwnCode) {
  Project p;
  p.model("model.proj.spine", "select current_timestamp as built_at");
  p.model("model.proj.plain", "select now_flag from t");
  EXPECT_TRUE(p.is_volatile("model.proj.spine"));
  EXPECT_FALSE(p.is_volatile("model.proj.plain"));
}

TEST(Volatile, ThroughAProjectMacroTheNodeCalls) {
  Project p;
  p.macro("macro.proj.audit_columns", "{{ stamp() }} as loaded_at", {"macro.proj.stamp"});
  p.macro("macro.proj.stamp", "now()");
  p.macro("macro.proj.money", "round(x, 2)");
  p.model("model.proj.audited", "select {{ audit_columns() }}", {"macro.proj.audit_columns"});
  p.model("model.proj.priced", "select {{ money() }}", {"macro.proj.money"});
  p.model("model.proj.no_call", "select 1");  // the volatile macro exists but is not called
  EXPECT_TRUE(p.is_volatile("model.proj.audited")) << "stamp() is reached through audit_columns()";
  EXPECT_FALSE(p.is_volatile("model.proj.priced"));
  EXPECT_FALSE(p.is_volatile("model.proj.no_call"));
}

TEST(Volatile, ThroughAPackageMacro) {
  Project p;
  p.macro("macro.some_pkg.loaded_at", "{{ run_started_at }}");
  p.model("model.proj.m", "select {{ some_pkg.loaded_at() }}", {"macro.some_pkg.loaded_at"});
  EXPECT_TRUE(p.is_volatile("model.proj.m"));
}

TEST(Volatile, ThroughAnEphemeralAncestor) {
  Project p;
  p.model("model.proj.eph_clock", "select *, random() as r from t", {}, "ephemeral");
  p.model("model.proj.eph_mid", "select * from {{ ref('eph_clock') }}", {}, "ephemeral",
          {"model.proj.eph_clock"});
  p.model("model.proj.child", "select * from {{ ref('eph_mid') }}", {}, "table",
          {"model.proj.eph_mid"});
  p.model("model.proj.eph_plain", "select 1 as x", {}, "ephemeral");
  p.model("model.proj.other", "select * from {{ ref('eph_plain') }}", {}, "table",
          {"model.proj.eph_plain"});
  EXPECT_TRUE(p.is_volatile("model.proj.child")) << "two ephemerals up";
  EXPECT_FALSE(p.is_volatile("model.proj.other"));
}

TEST(Volatile, ThroughAMacroOfAnEphemeralAncestor) {
  Project p;
  p.macro("macro.proj.stamp", "current_date");
  p.model("model.proj.eph", "select {{ stamp() }} as d", {"macro.proj.stamp"}, "ephemeral");
  p.model("model.proj.child", "select * from {{ ref('eph') }}", {}, "table", {"model.proj.eph"});
  EXPECT_TRUE(p.is_volatile("model.proj.child"));
}

TEST(Volatile, ATableParentDoesNotMakeItsChildVolatile) {
  // A volatile table parent is built every run; its child follows as parent_built, but the
  // child's own code is not volatile.
  Project p;
  p.model("model.proj.spine", "select now() as t");
  p.model("model.proj.child", "select * from {{ ref('spine') }}", {}, "table",
          {"model.proj.spine"});
  EXPECT_TRUE(p.is_volatile("model.proj.spine"));
  EXPECT_FALSE(p.is_volatile("model.proj.child"));
}

TEST(Volatile, ConfigOverridesTheScanBothWays) {
  Project p;
  p.model("model.proj.looks_volatile", "select now() as t");
  p.model("model.proj.looks_stable", "select 1 as x");
  p.node("model.proj.looks_volatile").volatile_config = false;
  p.node("model.proj.looks_stable").volatile_config = true;
  EXPECT_FALSE(p.is_volatile("model.proj.looks_volatile"));
  EXPECT_TRUE(p.is_volatile("model.proj.looks_stable"));
}

TEST(Volatile, ConfigFalseOverridesAVolatileMacroAndEphemeral) {
  Project p;
  p.macro("macro.proj.stamp", "now()");
  p.model("model.proj.eph", "select random() as r", {}, "ephemeral");
  p.model("model.proj.m", "select {{ stamp() }} from {{ ref('eph') }}", {"macro.proj.stamp"},
          "table", {"model.proj.eph"});
  EXPECT_TRUE(p.is_volatile("model.proj.m"));
  p.node("model.proj.m").volatile_config = false;
  EXPECT_FALSE(p.is_volatile("model.proj.m"));
}

TEST(Volatile, VolatileIsNotAResultAffectingConfigKey) {
  // Turning the override on or off must not rebuild as config_changed.
  EXPECT_FALSE(config_key_affects_result("volatile"));
}

TEST(Volatile, VolatileConfigOfAnEphemeralAncestorCarriesToItsChild) {
  // An ephemeral's code is inlined into its child, so the user's `volatile: true` on the
  // ephemeral (code orc's scan does not recognise) makes the child volatile too.
  Project p;
  p.model("model.proj.eph", "select my_udf_reading_the_clock() as t", {}, "ephemeral");
  p.model("model.proj.child", "select * from {{ ref('eph') }}", {}, "table", {"model.proj.eph"});
  p.node("model.proj.eph").volatile_config = true;
  EXPECT_TRUE(p.is_volatile("model.proj.child"));
}

TEST(Volatile, AClockReadingOverrideOfABuiltinOnlyConcernsItsCallers) {
  // A project (or package) macro named like a built-in counts for every node's fingerprint
  // (it may change how anything is built), but its clock read must not make every node
  // volatile: overriding snapshot_get_time to read the clock in UTC is a documented dbt
  // pattern (and dbt_utils 0.x ships a `current_timestamp` macro).
  Project p;
  p.macro("macro.dbt.snapshot_get_time", "{{ adapter.dispatch('snapshot_get_time')() }}");
  p.macro("macro.proj.snapshot_get_time", "{{ current_timestamp() }}");
  p.model("model.proj.plain", "select 1 as x");
  EXPECT_FALSE(p.is_volatile("model.proj.plain"));
}

// --- the `volatility` setting: filters (default), any, never ------------------------------

TEST(Volatile, FiltersAnAuditColumnIsNotVolatile) {
  Project p;
  p.model("model.proj.stg", "select *, current_timestamp as _loaded_at from t");
  EXPECT_FALSE(p.is_volatile("model.proj.stg", VolatilityMode::Filters));
  EXPECT_TRUE(p.is_volatile("model.proj.stg", VolatilityMode::Any)) << "today's behaviour";
  EXPECT_FALSE(p.is_volatile("model.proj.stg", VolatilityMode::Never));
}

TEST(Volatile, FiltersAClockFilterIsVolatileAndNamed) {
  Project p;
  p.model("model.proj.recent", "select * from t\nwhere created_at > current_date - 1");
  auto v = p.volatility("model.proj.recent", VolatilityMode::Filters);
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->config);
  EXPECT_EQ(v->file, "models/recent.sql");
  EXPECT_EQ(v->read.expression, "current_date");
  EXPECT_EQ(v->read.place, ClockPlace::Where);
  Reason r = volatile_reason(*v);
  EXPECT_EQ(r.code, ReasonCode::Volatile);
  EXPECT_EQ(r.subject, "models/recent.sql");
  EXPECT_EQ(r.detail, "current_date in WHERE");
  EXPECT_FALSE(p.is_volatile("model.proj.recent", VolatilityMode::Never));
}

TEST(Volatile, AViewIsNeverVolatileForReadingTheClock) {
  // A view is evaluated when it is read: rebuilding it changes nothing.
  Project p;
  p.model("model.proj.v_recent", "select * from t where ts > now() - interval '1 day'", {},
          "view");
  p.model("model.proj.v_audit", "select *, now() as _loaded_at from t", {}, "view");
  EXPECT_FALSE(p.is_volatile("model.proj.v_recent", VolatilityMode::Filters));
  EXPECT_FALSE(p.is_volatile("model.proj.v_audit", VolatilityMode::Filters));
  EXPECT_TRUE(p.is_volatile("model.proj.v_audit", VolatilityMode::Any)) << "today's behaviour";
}

TEST(Volatile, ATableReadingAClockFilteringViewHoldsItsResult) {
  // The view is live and never rebuilt, but a table built from it stores the rows the clock
  // let through at its build: the table is volatile (on the view's account), a view reading
  // the view is not, and a view with only an audit column passes nothing on.
  Project p;
  p.model("model.proj.v_recent", "select * from t where ts > now() - interval '1 day'", {},
          "view");
  p.model("model.proj.v_recent2", "select * from {{ ref('v_recent') }}", {}, "view",
          {"model.proj.v_recent"});
  p.model("model.proj.mart", "select * from {{ ref('v_recent2') }}", {}, "table",
          {"model.proj.v_recent2"});
  p.model("model.proj.v_audit", "select *, now() as _loaded_at from t", {}, "view");
  p.model("model.proj.audit_mart", "select * from {{ ref('v_audit') }}", {}, "table",
          {"model.proj.v_audit"});
  EXPECT_FALSE(p.is_volatile("model.proj.v_recent2", VolatilityMode::Filters));
  auto v = p.volatility("model.proj.mart", VolatilityMode::Filters);
  ASSERT_TRUE(v.has_value()) << "two views up";
  EXPECT_EQ(v->file, "models/v_recent.sql");
  EXPECT_EQ(v->view, "model.proj.v_recent");
  EXPECT_EQ(volatile_reason(*v).detail,
            "now() in WHERE (read live through view model.proj.v_recent)");
  EXPECT_FALSE(p.is_volatile("model.proj.audit_mart", VolatilityMode::Filters));
  // Under `never`, only config counts; under `any` the view itself is built every run, and the
  // mart follows it as parent_built, not as volatile.
  EXPECT_FALSE(p.is_volatile("model.proj.mart", VolatilityMode::Never));
  EXPECT_FALSE(p.is_volatile("model.proj.mart", VolatilityMode::Any));
  // The view's own `volatile: false` is the user's word that it is stable.
  p.node("model.proj.v_recent").volatile_config = false;
  EXPECT_FALSE(p.is_volatile("model.proj.mart", VolatilityMode::Filters));
}

TEST(Volatile, AnEphemeralsFilterCountsAsItsChildsCode) {
  Project p;
  p.model("model.proj.eph", "select * from t where ts > now()", {}, "ephemeral");
  p.model("model.proj.child", "select *, now() as t from {{ ref('eph') }}", {}, "table",
          {"model.proj.eph"});
  p.model("model.proj.eph_audit", "select *, now() as _loaded_at from t", {}, "ephemeral");
  p.model("model.proj.child2", "select * from {{ ref('eph_audit') }}", {}, "table",
          {"model.proj.eph_audit"});
  auto v = p.volatility("model.proj.child", VolatilityMode::Filters);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->file, "models/eph.sql");
  EXPECT_EQ(v->read.place, ClockPlace::Where);
  EXPECT_FALSE(p.is_volatile("model.proj.child2", VolatilityMode::Filters));
}

TEST(Volatile, ConfigOverridesEverySettingBothWays) {
  Project p;
  p.model("model.proj.filtering", "select * from t where ts > now()");
  p.model("model.proj.plain", "select 1 as x");
  p.model("model.proj.view", "select 1 as x", {}, "view");
  p.node("model.proj.filtering").volatile_config = false;
  p.node("model.proj.plain").volatile_config = true;
  p.node("model.proj.view").volatile_config = true;
  for (VolatilityMode mode :
       {VolatilityMode::Filters, VolatilityMode::Any, VolatilityMode::Never}) {
    EXPECT_FALSE(p.is_volatile("model.proj.filtering", mode));
    auto v = p.volatility("model.proj.plain", mode);
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->config);
    EXPECT_EQ(volatile_reason(*v).detail, "config volatile: true");
    EXPECT_EQ(volatile_reason(*v).subject, "models/plain.sql");
    EXPECT_TRUE(p.is_volatile("model.proj.view", mode)) << "the user's word, even on a view";
  }
}

TEST(Volatile, AnInlinedEphemeralsConfigMakesAViewsReadersVolatileNotTheView) {
  Project p;
  p.model("model.proj.eph", "select my_udf() as t", {}, "ephemeral");
  p.model("model.proj.v", "select * from {{ ref('eph') }}", {}, "view", {"model.proj.eph"});
  p.model("model.proj.mart", "select * from {{ ref('v') }}", {}, "table", {"model.proj.v"});
  p.node("model.proj.eph").volatile_config = true;
  EXPECT_FALSE(p.is_volatile("model.proj.v", VolatilityMode::Filters));
  EXPECT_TRUE(p.is_volatile("model.proj.v", VolatilityMode::Any));
  auto v = p.volatility("model.proj.mart", VolatilityMode::Filters);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(volatile_reason(*v).subject, "models/eph.sql");
  EXPECT_EQ(volatile_reason(*v).detail,
            "config volatile: true (read live through view model.proj.v)");
}

TEST(Volatile, NeverStillHonoursAnInlinedEphemeralsConfig) {
  Project p;
  p.model("model.proj.eph", "select my_udf() as t", {}, "ephemeral");
  p.model("model.proj.child", "select * from {{ ref('eph') }}", {}, "table", {"model.proj.eph"});
  p.node("model.proj.eph").volatile_config = true;
  auto v = p.volatility("model.proj.child", VolatilityMode::Never);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->file, "models/eph.sql");
}

TEST(Volatile, AnyNamesTheFirstReadWhereverItIs) {
  Project p;
  p.model("model.proj.stg", "select id, now() as t from x where d < current_date");
  auto v = p.volatility("model.proj.stg", VolatilityMode::Any);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(volatile_reason(*v).detail, "now() in the select list");
}

// --- macros under `filters` ---------------------------------------------------------------

TEST(Volatile, FiltersAMacroFillingAnAuditColumnIsNotVolatile) {
  Project p;
  p.macro("macro.proj.stamp", "current_timestamp::timestamp");
  p.model("model.proj.stg", "select *, {{ stamp() }} as _loaded_at from t", {"macro.proj.stamp"});
  EXPECT_FALSE(p.is_volatile("model.proj.stg", VolatilityMode::Filters));
  EXPECT_TRUE(p.is_volatile("model.proj.stg", VolatilityMode::Any));
}

TEST(Volatile, FiltersAMacroCalledInAFilterIsVolatile) {
  Project p;
  p.macro("macro.proj.stamp", "current_timestamp");
  p.model("model.proj.m", "select * from t where ts > {{ stamp() }}", {"macro.proj.stamp"});
  auto v = p.volatility("model.proj.m", VolatilityMode::Filters);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->file, "models/m.sql");
  EXPECT_EQ(volatile_reason(*v).detail, "stamp() in WHERE (macro macro.proj.stamp)");
}

TEST(Volatile, FiltersAMacroWhoseBodyFiltersOnTheClockIsVolatileWhereverCalled) {
  Project p;
  p.macro("macro.proj.recent_only", "where ts > now() - interval '1 day'");
  p.model("model.proj.m", "select * from t {{ recent_only() }}", {"macro.proj.recent_only"});
  auto v = p.volatility("model.proj.m", VolatilityMode::Filters);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->file, "macros/recent_only.sql");
  EXPECT_EQ(v->macro, "macro.proj.recent_only");
  EXPECT_EQ(v->read.place, ClockPlace::Where);
}

TEST(Volatile, FiltersThroughTwoMacros) {
  // audit_columns() (select list) calls stamp() (outside any clause): an audit column.
  // recent() calls stamp() in its WHERE: volatile wherever recent() is called.
  Project p;
  p.macro("macro.proj.stamp", "now()");
  p.macro("macro.proj.audit_columns", "{{ stamp() }} as _loaded_at", {"macro.proj.stamp"});
  p.macro("macro.proj.recent", "select * from x where ts > {{ stamp() }}", {"macro.proj.stamp"});
  p.model("model.proj.a", "select *, {{ audit_columns() }} from t",
          {"macro.proj.audit_columns"});
  p.model("model.proj.b", "select * from ({{ recent() }}) r", {"macro.proj.recent"});
  EXPECT_FALSE(p.is_volatile("model.proj.a", VolatilityMode::Filters));
  auto v = p.volatility("model.proj.b", VolatilityMode::Filters);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->macro, "macro.proj.recent");
  EXPECT_EQ(v->read.expression, "stamp()");
  EXPECT_EQ(v->read.place, ClockPlace::Where);
}

TEST(Volatile, FiltersAClockMacroCalledWhereOrcCannotSeeIsVolatile) {
  // The manifest says the model calls stamp(), but no `stamp(` call is in its code (a call
  // through a variable, or an adapter.dispatch orc cannot resolve): the safe side.
  Project p;
  p.macro("macro.proj.stamp", "now()");
  p.model("model.proj.m", "{% set f = context['stamp'] %}select {{ f() }} as t",
          {"macro.proj.stamp"});
  auto v = p.volatility("model.proj.m", VolatilityMode::Filters);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->read.place, ClockPlace::UnknownCall);
}

TEST(Volatile, FiltersADispatchedMacroFollowsItsCall) {
  Project p;
  p.macro("macro.proj.default__loaded_at", "current_timestamp");
  p.macro("macro.proj.loaded_at", "{{ return(adapter.dispatch('loaded_at', 'proj')()) }}",
          {"macro.proj.default__loaded_at"});
  p.model("model.proj.a", "select *, {{ loaded_at() }} as _loaded_at from t",
          {"macro.proj.loaded_at"});
  p.model("model.proj.b", "select * from t where ts < {{ loaded_at() }}",
          {"macro.proj.loaded_at"});
  EXPECT_FALSE(p.is_volatile("model.proj.a", VolatilityMode::Filters));
  EXPECT_TRUE(p.is_volatile("model.proj.b", VolatilityMode::Filters));
}

TEST(Volatile, FiltersRecursiveMacrosStayOnTheSafeSide) {
  Project p;
  p.macro("macro.proj.a", "{{ b() }}", {"macro.proj.b"});
  p.macro("macro.proj.b", "{{ a() }} now()", {"macro.proj.a"});
  p.macro("macro.proj.c", "{{ d() }}", {"macro.proj.d"});
  p.macro("macro.proj.d", "{{ c() }}", {"macro.proj.c"});
  p.model("model.proj.m", "select {{ a() }} as x from t", {"macro.proj.a"});
  p.model("model.proj.n", "select {{ c() }} as x from t", {"macro.proj.c"});
  EXPECT_TRUE(p.is_volatile("model.proj.m", VolatilityMode::Filters));
  EXPECT_FALSE(p.is_volatile("model.proj.n", VolatilityMode::Filters)) << "no clock anywhere";
}

TEST(Volatile, FiltersPythonModelsReadingTheClockAreVolatile) {
  Project p;
  p.model("model.proj.py", "def model(dbt, session):\n    return datetime.datetime.now()\n");
  p.node("model.proj.py").language = "python";
  auto v = p.volatility("model.proj.py", VolatilityMode::Filters);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->read.place, ClockPlace::Python);
}
