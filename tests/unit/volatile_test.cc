// Volatile nodes: reads_clock_or_randomness() on code, and Fingerprinter::is_volatile() through
// a node's own code, the macros it calls, its ephemeral ancestors and its `volatile` config.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plan/code_normalizer.h"
#include "plan/fingerprint.h"

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
