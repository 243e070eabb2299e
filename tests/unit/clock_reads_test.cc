// find_clock_reads: where code reads the clock or randomness (a filter, a join, a grouping, a
// window, an incremental predicate, or only an output column).
#include <gtest/gtest.h>

#include "plan/clock_reads.h"
#include "plan/code_normalizer.h"

using namespace orc;

namespace orc {
/// Places by number in failure messages (their order in clock_reads.h).
void PrintTo(ClockPlace p, std::ostream* os) { *os << "ClockPlace#" << static_cast<int>(p); }
}  // namespace orc

namespace {

ClockReads scan(std::string_view code, const std::vector<std::string>& calls = {}) {
  return find_clock_reads(normalize_code(code), calls);
}

/// The place of the first volatile read, or nullopt when every read only fills a column.
std::optional<ClockPlace> volatile_place(std::string_view code,
                                         const std::vector<std::string>& calls = {}) {
  ClockReads r = scan(code, calls);
  if (!r.first_volatile) return std::nullopt;
  return r.first_volatile->place;
}

}  // namespace

// --- not volatile: the clock only fills an output column ---------------------------------

TEST(ClockReads, AuditColumnsInTheSelectListAreNotVolatile) {
  for (const char* code : {
           "select *, current_timestamp as _loaded_at from {{ source('shop', 'orders') }}",
           "select id, now() as updated_at from t",
           "select id, now() updated_at from t",  // alias without AS
           "select id, cast(current_timestamp as timestamp) as _loaded_at from t",
           "select id, current_timestamp::timestamp as _loaded_at from t",
           "select id, now() at time zone 'UTC' as _loaded_at from t",
           "select id, {{ dbt.current_timestamp() }} as _loaded_at from t",
           "select id, cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as t "
           "from t",
           "select id, '{{ run_started_at }}' as run_started_at, '{{ invocation_id }}' as inv "
           "from t",
           "select id, random() as r, gen_random_uuid() as row_id from t",
           "select id, date_trunc('day', now()) as load_day from t",
           "select a.id, now() as t from a join b on a.id = b.id where a.x > 1 group by 1, 2",
           "select id, current_timestamp - interval '1 day' as yesterday from t",
           "select id, extract(year from current_date) as load_year from t",
       }) {
    ClockReads r = scan(code);
    ASSERT_TRUE(r.first.has_value()) << code;
    EXPECT_FALSE(r.first_volatile.has_value())
        << code << " -> " << r.first_volatile->expression;
    EXPECT_EQ(r.first->place, ClockPlace::SelectList) << code;
  }
}

TEST(ClockReads, TheReadIsNamed) {
  ClockReads r = scan("select id, NOW() as t from x where d < current_date");
  ASSERT_TRUE(r.first && r.first_volatile);
  EXPECT_EQ(r.first->expression, "now()");
  EXPECT_EQ(r.first_volatile->expression, "current_date");
  EXPECT_EQ(r.first_volatile->place, ClockPlace::Where);
}

TEST(ClockReads, AuditColumnInACteOrDerivedTableIsNotVolatile) {
  EXPECT_EQ(volatile_place("with s as (select *, now() as _loaded_at from t) select * from s"),
            std::nullopt);
  EXPECT_EQ(volatile_place("select * from (select *, now() as t from x) d where d.id > 1"),
            std::nullopt);
  EXPECT_EQ(volatile_place("select id, now() as t from a union all select id, now() from b"),
            std::nullopt);
}

TEST(ClockReads, NoReadNoFinding) {
  ClockReads r = scan("select a, b from t where x > 1");
  EXPECT_FALSE(r.first.has_value());
  EXPECT_FALSE(r.first_volatile.has_value());
  // Unbalanced but without a read: nothing to say.
  EXPECT_FALSE(scan("select (a from t").first.has_value());
}

// --- volatile: the clock decides which rows, or how they are computed --------------------

TEST(ClockReads, FilterOnTheClockIsVolatile) {
  EXPECT_EQ(volatile_place("select * from t where created_at > current_date - 1"),
            ClockPlace::Where);
  EXPECT_EQ(volatile_place("select * from t WHERE x = 1 and ts < now()"), ClockPlace::Where);
  EXPECT_EQ(volatile_place("select d, count(*) from t group by d having max(ts) > now()"),
            ClockPlace::Having);
  EXPECT_EQ(volatile_place("select * from t qualify max(ts) over () > now()"),
            ClockPlace::Qualify);
}

TEST(ClockReads, JoinConditionWithTheClockIsVolatile) {
  EXPECT_EQ(volatile_place("select * from a left join b on a.id = b.id and b.valid_to > now()"),
            ClockPlace::JoinOn);
}

TEST(ClockReads, GroupingByTheClockIsVolatile) {
  EXPECT_EQ(volatile_place("select count(*) from t group by date_trunc('day', now())"),
            ClockPlace::GroupBy);
}

TEST(ClockReads, WindowOrderedByRandomIsVolatile) {
  EXPECT_EQ(volatile_place("select id, row_number() over (order by random()) as rn from t"),
            ClockPlace::Window);
  EXPECT_EQ(volatile_place("select id, sum(x) over (partition by ts > now()) as s from t"),
            ClockPlace::Window);
}

TEST(ClockReads, OrderingAndLimitsAreVolatile) {
  EXPECT_EQ(volatile_place("select * from t order by random() limit 10"), ClockPlace::OrderBy);
  EXPECT_EQ(volatile_place("select * from t limit (random() * 10)::int"), ClockPlace::Limit);
  EXPECT_EQ(volatile_place("select distinct on (date_trunc('day', now())) * from t"),
            ClockPlace::DistinctOn);
}

TEST(ClockReads, IncrementalPredicateIsVolatile) {
  const char* code =
      "select * from {{ ref('events') }}\n"
      "{% if is_incremental() %}\n  where ts > now() - interval '1 day'\n{% endif %}\n";
  EXPECT_EQ(volatile_place(code), ClockPlace::Incremental);
  // Even in what looks like a select list inside the block.
  EXPECT_EQ(volatile_place("select a{% if is_incremental() %}, now() as t{% endif %} from x"),
            ClockPlace::Incremental);
  // An incremental block without a clock read is fine.
  EXPECT_EQ(volatile_place("select *, now() as t from x {% if is_incremental() %} where id > "
                           "(select max(id) from {{ this }}) {% endif %}"),
            std::nullopt);
}

TEST(ClockReads, FilterInsideACteIsVolatile) {
  EXPECT_EQ(volatile_place("with recent as (select * from t where ts > now() - interval '7 "
                           "days'), other as (select 1 as x) select * from recent, other"),
            ClockPlace::Where);
  EXPECT_EQ(volatile_place("with a as (with b as (select * from t where ts > now()) "
                           "select * from b) select * from a"),
            ClockPlace::Where);
}

TEST(ClockReads, SubqueryInTheSelectListIsVolatile) {
  EXPECT_EQ(volatile_place("select id, (select max(x) from u where u.ts > now()) as m from t"),
            ClockPlace::Where);
  EXPECT_EQ(volatile_place("select id, (select now()) as m from t"),
            ClockPlace::SubqueryInSelect);
  EXPECT_EQ(volatile_place("select * from t where id in (select id from u where ts < now())"),
            ClockPlace::Where);
  EXPECT_EQ(volatile_place("select * from t where exists (select now() as x)"), ClockPlace::Where);
}

TEST(ClockReads, ColumnsComputedFromTheClockAndOtherColumnsAreVolatile) {
  // An age or an "overdue" flag goes stale: only a column whose value is the clock's alone is
  // an audit column.
  for (const char* code : {
           "select id, datediff('day', created_at, current_date) as age from t",
           "select id, current_date - created_at as age from t",
           "select id, case when due_date < current_date then 'overdue' end as status from t",
           "select id, coalesce(updated_at, now()) as updated_at from t",
           "select id, t.due < now() as late from t",
           "select id, {{ dbt.datediff('created_at', dbt.current_timestamp(), 'day') }} as a "
           "from t",
       })
    EXPECT_EQ(volatile_place(code), ClockPlace::Computed) << code;
}

TEST(ClockReads, AggregateFilterAndTableFunctionsAreVolatile) {
  EXPECT_EQ(volatile_place("select count(*) filter (where ts > now()) as n from t"),
            ClockPlace::Where);
  EXPECT_EQ(volatile_place("select * from generate_series(current_date - 7, current_date, "
                           "interval '1 day') d"),
            ClockPlace::From);
}

TEST(ClockReads, JinjaStatementsThatReadTheClockAreVolatile) {
  EXPECT_EQ(volatile_place("{% set cutoff = modules.datetime.datetime.now() %}"
                           "select * from t where ts > '{{ cutoff }}'"),
            ClockPlace::JinjaStatement);
  EXPECT_EQ(volatile_place("{% if run_started_at.hour < 6 %}select 1{% else %}select 2"
                           "{% endif %}"),
            ClockPlace::JinjaStatement);
  EXPECT_EQ(volatile_place("{% set q %}select now(){% endset %}select 1 as x"),
            ClockPlace::JinjaStatement);
}

TEST(ClockReads, HooksInConfigThatReadTheClockAreVolatile) {
  EXPECT_EQ(volatile_place("{{ config(post_hook=\"delete from {{ this }} where ts < now()\") }}"
                           "select * from t"),
            ClockPlace::Config);
}

TEST(ClockReads, WhenInDoubtVolatile) {
  for (const char* code : {
           "select id, now() as t from t where (a > 1",    // unclosed parenthesis
           "select id, now() as t from t where a > 1)",    // extra closing parenthesis
           "select id, now() as t from t {% if x %} where y",  // unclosed Jinja block
           "select id, now() as t from t {% endif %}",
           "select id, now() as t, 'unterminated from t",
       }) {
    ClockReads r = scan(code);
    ASSERT_TRUE(r.first_volatile.has_value()) << code;
    EXPECT_EQ(r.first_volatile->place, ClockPlace::Unparsed) << code;
  }
}

TEST(ClockReads, CommentsDoNotCount) {
  // normalize_code drops comments; a comment that holds Jinja stays, but what it prints is
  // commented out.
  EXPECT_FALSE(scan("select 1 as x -- where ts > now()\nfrom t").first.has_value());
  EXPECT_FALSE(scan("select 1 as x /* {{ run_started_at }} */ from t").first_volatile.has_value());
}

TEST(ClockReads, StringsAndIdentifiersThatOnlyLookLikeTheClock) {
  EXPECT_FALSE(scan("select * from t where status = 'now is the time' and \"now\" = 1")
                   .first.has_value());
  EXPECT_EQ(volatile_place("select * from t where d < 'today'::date"), ClockPlace::Where);
}

// --- macros: a call of a clock-reading macro is a read at the call -----------------------

TEST(ClockReads, MacroCallsCountWhereTheyAre) {
  const std::vector<std::string> calls = {"stamp", "default__loaded_at"};
  ClockReads audit = scan("select *, {{ stamp() }} as _loaded_at from t", calls);
  EXPECT_FALSE(audit.first_volatile.has_value());
  ASSERT_TRUE(audit.first.has_value());
  EXPECT_EQ(audit.first->expression, "stamp()");
  EXPECT_EQ(audit.calls_found, (std::vector<bool>{true, false}));

  ClockReads filter = scan("select * from t where ts > {{ my_pkg.stamp() }}", calls);
  ASSERT_TRUE(filter.first_volatile.has_value());
  EXPECT_EQ(filter.first_volatile->place, ClockPlace::Where);
  EXPECT_EQ(filter.first_volatile->expression, "stamp()");

  // adapter.dispatch('loaded_at') calls default__loaded_at.
  ClockReads dispatched =
      scan("{{ return(adapter.dispatch('loaded_at', 'my_pkg')()) }}", calls);
  EXPECT_EQ(dispatched.calls_found, (std::vector<bool>{false, true}));
  EXPECT_FALSE(dispatched.first_volatile.has_value());

  ClockReads in_tag = scan("{% set t = stamp() %}select 1", calls);
  ASSERT_TRUE(in_tag.first_volatile.has_value());
  EXPECT_EQ(in_tag.first_volatile->place, ClockPlace::JinjaStatement);
}

TEST(ClockReads, MacroBodiesOutsideAnyClauseFollowTheirCaller) {
  ClockReads body = scan("{% macro stamp() %} current_timestamp::timestamp {% endmacro %}");
  ASSERT_TRUE(body.first_follows_caller.has_value());
  EXPECT_EQ(body.first_follows_caller->place, ClockPlace::Outside);
  EXPECT_FALSE(body.first_volatile.has_value());
  // ...unless the expression combines the clock with columns.
  EXPECT_EQ(volatile_place("{% macro age(col) %} datediff(day, {{ col }}, current_date) "
                           "{% endmacro %}"),
            ClockPlace::Computed);
  EXPECT_EQ(volatile_place("{% macro recent(rel) %} select * from {{ rel }} where ts > now() "
                           "{% endmacro %}"),
            ClockPlace::Where);
}

TEST(ClockReads, DeepNestingStaysLinear) {
  // Hostile code (the manifest is not orc's): every token's place is found in constant time.
  std::string code = "select ";
  for (int i = 0; i < 100000; ++i) code += "f(a, ";
  code += "now()";
  for (int i = 0; i < 100000; ++i) code += ")";
  code += " as t from x where y";
  ClockReads r = find_clock_reads(code);
  ASSERT_TRUE(r.first.has_value());
  EXPECT_EQ(r.first->place, ClockPlace::Computed);
  std::string open_only(200000, '(');
  EXPECT_EQ(find_clock_reads(open_only + "now()").first->place, ClockPlace::Unparsed);
}

TEST(ClockReads, RealisticModels) {
  // An incremental model with an audit column and a watermark on its own data: not volatile.
  EXPECT_EQ(volatile_place(R"({{ config(materialized='incremental', unique_key='id') }}
with src as (
    select * from {{ source('app', 'events') }}
    {%- if is_incremental() %}
    where updated_at > (select max(updated_at) from {{ this }})
    {%- endif %}
)
select
    id,
    payload::json as payload,            -- parsed
    updated_at,
    {{ dbt.current_timestamp() }} as _loaded_at,
    '{{ invocation_id }}' as _invocation_id
from src
qualify row_number() over (partition by id order by updated_at desc) = 1
)"),
            std::nullopt);
  // The same with a look-back window on the clock: volatile, in the incremental predicate.
  EXPECT_EQ(volatile_place(R"(select * from {{ source('app', 'events') }}
{%- if is_incremental() %}
where updated_at > {{ dbt.dateadd('day', -3, dbt.current_timestamp()) }}
{%- endif %})"),
            ClockPlace::Incremental);
  // A target-dependent audit column inside Jinja branches of the select list.
  EXPECT_EQ(volatile_place("select a, {% if target.name == 'prod' %} now() {% else %} null "
                           "{% endif %} as t from x"),
            std::nullopt);
  // BigQuery's SELECT * EXCEPT (...) with an audit column.
  EXPECT_EQ(volatile_place("select * except (secret), current_timestamp() as _loaded_at "
                           "from t where id > 0"),
            std::nullopt);
  // A named window ordered by randomness.
  EXPECT_EQ(volatile_place("select sum(x) over w as s from t window w as (order by random())"),
            ClockPlace::Window);
  // A date spine up to today: its rows come from the clock.
  EXPECT_EQ(volatile_place("select d from unnest(generate_series(date '2020-01-01', "
                           "current_date, interval 1 day)) as s(d)"),
            ClockPlace::From);
}

TEST(ClockReads, StringLiteralsReadOnlyAsNowOrThroughJinja) {
  EXPECT_EQ(volatile_place("select * from t where note <> 'current_date or now() or random()'"),
            std::nullopt);
  EXPECT_FALSE(scan("select 'stamp()' as s from t", {"stamp"}).calls_found[0]);
  EXPECT_EQ(volatile_place("select * from t where ts < '{{ run_started_at }}'"),
            ClockPlace::Where);
  ClockReads call = scan("select * from t where d = '{{ stamp() }}'", {"stamp"});
  EXPECT_TRUE(call.calls_found[0]);
  ASSERT_TRUE(call.first_volatile.has_value());
  EXPECT_EQ(call.first_volatile->expression, "stamp()");
  EXPECT_EQ(volatile_place("select * from t where d < $$today$$::date"), ClockPlace::Where)
      << "a dollar-quoted 'today' is the same constant";
  EXPECT_EQ(volatile_place("select * from t where ts < ' Now '::timestamp"), ClockPlace::Where);
}
