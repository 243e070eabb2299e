"""Volatility with precision (issue 31, defect 6): a clock read that only fills an output
column (an audit timestamp such as `current_timestamp as _loaded_at`) does not make a node
volatile, and a view is never rebuilt for reading the clock; a clock read in a filter makes
its node volatile, with a reason that names the expression and the file. The
`[tool.orchestra_dbt] volatility` setting (`filters`, `any`, `never`; env
`ORCHESTRA_VOLATILITY`) chooses the rule.

Every test asserts on the reason codes in orc_decisions.json, on dbt's run_results.json and
on the warehouse, and every orc run leaves the project files as they were.
"""

from __future__ import annotations

from helpers import Project
from test_fingerprint import assert_built, assert_code, assert_reused, build, fq, warehouse
from test_stateful_core import FCT_ORDERS, ORDERS_BY_STATUS, P, STG_ORDERS

AUDITED = f"model.{P}.orders_audited"
AUDITED_TOTAL = f"model.{P}.orders_audited_total"
RECENT = f"model.{P}.recent_orders"
RECENT_TOTAL = f"model.{P}.recent_orders_total"

# The staging view gains an audit column; a table with its own audit column, and its child.
STG_ORDERS_AUDITED_SQL = """\
{{ fail_if_requested() }}
select
    id as order_id,
    customer_id,
    amount,
    status,
    ordered_at,
    loaded_at,
    current_timestamp as _loaded_at
from {{ source('shop', 'orders') }}
"""
AUDITED_SQL = """\
select order_id, amount, status, now() as _built_at
from {{ ref('stg_orders') }}
"""
AUDITED_TOTAL_SQL = """\
select count(*) as orders, sum(amount) as amount from {{ ref('orders_audited') }}
"""
# A table that filters on the clock, and its child.
RECENT_SQL = """\
select order_id, amount
from {{ ref('fct_orders') }}
where ordered_at < current_timestamp
"""
RECENT_TOTAL_SQL = """\
select count(*) as orders, sum(amount) as amount from {{ ref('recent_orders') }}
"""


def setup(p: Project, **config) -> None:
    """Stateful DuckDB tutorial (seeds reused when unchanged) with the models above."""
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True,
                   **config)
    (p.dir / "models" / "staging" / "stg_orders.sql").write_text(STG_ORDERS_AUDITED_SQL)
    marts = p.dir / "models" / "marts"
    (marts / "orders_audited.sql").write_text(AUDITED_SQL)
    (marts / "orders_audited_total.sql").write_text(AUDITED_TOTAL_SQL)
    (marts / "recent_orders.sql").write_text(RECENT_SQL)
    (marts / "recent_orders_total.sql").write_text(RECENT_TOTAL_SQL)


def contents(p: Project) -> dict[str, list[tuple]]:
    """The rows of the models at stake, without the audit columns, in a stable order."""
    return {
        "stg_orders": warehouse(p, "select order_id, customer_id, amount, status, ordered_at "
                                   f"from {fq(p, 'stg_orders')} order by order_id"),
        "fct_orders": warehouse(p, f"select * from {fq(p, 'fct_orders')} order by order_id"),
        "orders_audited": warehouse(p, "select order_id, amount, status from "
                                       f"{fq(p, 'orders_audited')} order by order_id"),
        "orders_audited_total": warehouse(p, f"select * from {fq(p, 'orders_audited_total')}"),
        "recent_orders": warehouse(p, f"select * from {fq(p, 'recent_orders')} order by 1"),
        "recent_orders_total": warehouse(p, f"select * from {fq(p, 'recent_orders_total')}"),
    }


def built_at(p: Project) -> list[tuple]:
    return warehouse(p, f"select distinct _built_at from {fq(p, 'orders_audited')}")


def test_audit_columns_are_reused_and_clock_filters_are_built(project: Project):
    p = project
    setup(p)
    d, ran, _ = build(p)
    assert_code(d, STG_ORDERS, "build", "no_state_entry")
    assert_code(d, AUDITED, "build", "no_state_entry")
    first_built_at = built_at(p)

    # Nothing changed. The staging view and the table only fill an audit column: reused, and
    # so are their children. The table that filters on the clock is built, naming the file.
    d, ran, _ = build(p)
    assert_reused(d, ran, STG_ORDERS, FCT_ORDERS, ORDERS_BY_STATUS, AUDITED, AUDITED_TOTAL)
    assert_code(d, RECENT, "build", "volatile", "models/marts/recent_orders.sql")
    assert d[RECENT]["reason_detail"] == "current_timestamp in WHERE", d[RECENT]
    assert_code(d, RECENT_TOTAL, "build", "parent_built", RECENT)
    assert_built(ran, p, RECENT, RECENT_TOTAL)
    assert built_at(p) == first_built_at, "orders_audited was not rebuilt"
    reused_contents = contents(p)
    assert reused_contents["recent_orders_total"][0][0] == 4, reused_contents

    # The same project built by plain dbt holds the same data but for the audit columns.
    r = p.dbt("build")
    assert r.returncode == 0, r.describe()
    assert contents(p) == reused_contents
    assert built_at(p) != first_built_at, "plain dbt rebuilt orders_audited"


def test_views_filtering_on_the_clock_stay_and_their_tables_build(project: Project):
    """A view is evaluated when read: reading the clock never rebuilds it. A table built from
    a view that filters on the clock stores what the clock let through, so that table is
    volatile on the view's account."""
    p = project
    setup(p)
    staging = p.dir / "models" / "staging"
    (staging / "stg_recent_orders.sql").write_text(
        "select * from {{ ref('stg_orders') }} where ordered_at < now()\n")
    (p.dir / "models" / "marts" / "recent_from_view.sql").write_text(
        "select order_id from {{ ref('stg_recent_orders') }}\n")
    view, table = f"model.{P}.stg_recent_orders", f"model.{P}.recent_from_view"
    build(p)
    d, ran, _ = build(p)
    assert_reused(d, ran, view)
    assert_code(d, table, "build", "volatile", "models/staging/stg_recent_orders.sql")
    assert d[table]["reason_detail"] == (
        f"now() in WHERE (read live through view {view})"), d[table]
    assert_built(ran, p, table)
    assert warehouse(p, f"select count(*) from {fq(p, 'recent_from_view')}") == [(4,)]


def test_the_volatility_setting(project: Project):
    p = project
    setup(p, volatility="never")
    build(p)

    # never: only a node's `volatile: true` config makes it volatile.
    d, ran, _ = build(p)
    assert_reused(d, ran, STG_ORDERS, AUDITED, RECENT, RECENT_TOTAL)

    # ORCHESTRA_VOLATILITY=any overrides the file: every clock read builds (orc before the
    # setting), and the children follow.
    d, ran, _ = build(p, env={"ORCHESTRA_VOLATILITY": "any"})
    assert_code(d, STG_ORDERS, "build", "volatile", "models/staging/stg_orders.sql")
    assert d[STG_ORDERS]["reason_detail"] == "current_timestamp in the select list"
    assert_code(d, FCT_ORDERS, "build", "parent_built", STG_ORDERS)
    assert_code(d, AUDITED, "build", "volatile")
    assert_code(d, RECENT, "build", {"volatile", "parent_built"})
    assert_built(ran, p, STG_ORDERS, FCT_ORDERS, AUDITED, RECENT)

    # A value that is not a choice stops orc before dbt runs, naming the variable.
    r = p.orc("build", env={"ORCHESTRA_VOLATILITY": "sometimes"})
    assert r.returncode == 1, r.describe()
    assert "ORCHESTRA_VOLATILITY" in r.stderr and "filters, any or never" in r.stderr, r.stderr
