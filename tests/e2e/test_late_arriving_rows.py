"""Late-arriving rows (issue 31, defect 3): a row appended to a loaded_at_field source with a
loaded_at NOT newer than the recorded maximum (a backfill, a re-sync, business-time
timestamps) leaves max(loaded_at) where it was. orc reads a change marker beside the maximum
in the same warehouse query (the row count in the same aggregate and the table's columns on
DuckDB; the row count plus pg_stat_user_tables' DML counters and the columns on PostgreSQL),
records it in the entry's
`orc_source_markers`, and builds the dependants with `source_marker_changed` when only the
marker moved. The old binary reused them and left them stale.

The tutorial's `shop.orders` has `loaded_at_field: loaded_at`; `stg_orders` (a view),
`fct_orders` and `orders_by_status` (tables, the values at stake) read it.
"""

from __future__ import annotations

import pytest

from helpers import slow, Project
from test_fingerprint import schema_of, warehouse
from test_implicit_freshness import build
from test_stateful_core import FCT_ORDERS, ORDERS_BY_STATUS, P, STG_CUSTOMERS, STG_ORDERS

ORDERS = f"source.{P}.shop.orders"
AT_STAKE = (FCT_ORDERS, ORDERS_BY_STATUS)


def raw(p: Project, table: str) -> str:
    return f'"{p.schema}_raw"."{table}"' if p.target == "postgres" else f'"main_raw"."{table}"'


def contents(p: Project) -> dict[str, list[tuple]]:
    """The tables at stake, row by row, as they stand in the warehouse."""
    return {uid: sorted(warehouse(p, f'select * from "{schema_of(p)}".'
                                     f'"{uid.rsplit(".", 1)[1]}"'), key=repr)
            for uid in AT_STAKE}


def orders_input(d: dict, uid: str = STG_ORDERS) -> dict:
    return d[uid]["inputs"]["sources"][ORDERS]


def insert_late_order(p: Project) -> None:
    """An order loaded with a loaded_at long before the recorded maximum."""
    warehouse(p, f"insert into {raw(p, 'orders')} values (99, 2, 12.00, 'completed', "
                 f"date '2024-01-03', timestamp with time zone '2020-01-01 00:00:00+00')",
              fetch=False)


@slow(65)
def test_a_late_row_is_seen_and_built_like_a_plain_dbt_build(any_project: Project):
    p = any_project
    build(p)
    unchanged = build(p)
    assert unchanged[STG_ORDERS]["decision"] == "reuse", unchanged[STG_ORDERS]
    entry = p.read_state()["state"][STG_ORDERS]

    insert_late_order(p)
    d = build(p)
    stg = d[STG_ORDERS]
    assert stg["decision"] == "build", stg
    assert (stg["reason_code"], stg["reason_subject"]) == ("source_marker_changed", ORDERS), stg
    assert orders_input(d)["current"] == orders_input(unchanged)["current"], \
        "the maximum did not move"
    # What the unchanged run saw and recorded.
    marker = orders_input(unchanged)["marker"]
    assert marker["current"] and marker["current"] == marker["recorded"], marker
    assert marker["current"].startswith("n:4"), marker
    if p.target == "postgres":
        assert "|dml:" in marker["current"], "the DML counters join the count"
    assert entry["orc_source_markers"][ORDERS] == marker["current"]
    assert entry["sources"][ORDERS][:2] == "20", \
        "`sources` (read by dbt-orchestra) keeps timestamps only"
    assert orders_input(d)["new_data"] is True
    assert orders_input(d)["marker"]["current"].startswith("n:5"), orders_input(d)
    for uid in AT_STAKE:
        assert d[uid]["decision"] == "build", d[uid]
    assert d[STG_CUSTOMERS]["decision"] == "reuse", "other sources' dependants stay reused"
    built = contents(p)
    assert any(row[0] == 99 for row in built[FCT_ORDERS]), built[FCT_ORDERS]

    # Nothing changed since: reused again.
    d = build(p)
    for uid in (STG_ORDERS, *AT_STAKE):
        assert (d[uid]["decision"], d[uid]["reason_code"]) == ("reuse", "no_new_data"), d[uid]

    # What orc built is what a plain dbt build gives.
    r = p.dbt("run", "--select", "stg_orders+")
    assert r.returncode == 0, r.describe()
    assert contents(p) == built


@pytest.mark.parametrize("target", ["postgres"])
def test_an_update_that_keeps_loaded_at_is_seen_on_postgres(make_project, target):
    """The row count does not move on an update; PostgreSQL's DML counters do."""
    p = make_project(target)
    build(p)
    warehouse(p, f"update {raw(p, 'orders')} set status = 'returned' where id = 1", fetch=False)
    d = build(p)
    assert (d[STG_ORDERS]["reason_code"], d[STG_ORDERS]["reason_subject"]) == \
        ("source_marker_changed", ORDERS), d[STG_ORDERS]
    rows = dict((r[0], r[1]) for r in contents(p)[ORDERS_BY_STATUS])
    truth = dict(warehouse(p, f"select status, count(*) from {raw(p, 'orders')} group by 1"))
    assert rows == truth


def test_a_source_that_opts_out_is_judged_by_its_maximum_only(project: Project):
    p = project
    sources = p.dir / "models" / "staging" / "sources.yml"
    text = sources.read_text()
    anchor = "      - name: orders\n        config:\n"
    assert anchor in text
    sources.write_text(text.replace(
        anchor, anchor + "          meta: {orc: {change_marker: false}}\n"))
    build(p)
    entry = p.read_state()["state"][STG_ORDERS]
    assert ORDERS not in entry.get("orc_source_markers", {}), entry
    insert_late_order(p)
    d = build(p)
    assert (d[STG_ORDERS]["decision"], d[STG_ORDERS]["reason_code"]) == \
        ("reuse", "no_new_data"), "the user chose max(loaded_at) alone"
    assert "marker" not in orders_input(d)


def test_a_late_row_in_a_loaded_at_query_source_is_seen(project: Project):
    """A source judged by a `loaded_at_query` has no aggregate of orc's to carry the row count,
    so it is counted apart. Found by the differential harness's real world (seed 103): the
    binary before that counted nothing there and reused the dependants of a late row."""
    p = project
    sources = p.dir / "models" / "staging" / "sources.yml"
    text = sources.read_text()
    old = "      - name: orders\n        config:\n          loaded_at_field: loaded_at\n"
    assert old in text
    sources.write_text(text.replace(old, (
        "      - name: orders\n        config:\n"
        "          loaded_at_query: \"select max(loaded_at) from {{ this }}\"\n")))
    build(p)
    unchanged = build(p)
    assert unchanged[STG_ORDERS]["decision"] == "reuse", unchanged[STG_ORDERS]
    assert orders_input(unchanged)["method"] == "loaded_at_query", orders_input(unchanged)
    assert orders_input(unchanged)["marker"]["current"].startswith("n:4|cols:"), \
        orders_input(unchanged)

    insert_late_order(p)
    d = build(p)
    assert (d[STG_ORDERS]["reason_code"], d[STG_ORDERS]["reason_subject"]) == \
        ("source_marker_changed", ORDERS), d[STG_ORDERS]
    assert orders_input(d)["current"] == orders_input(unchanged)["current"], \
        "the maximum did not move"
    for uid in AT_STAKE:
        assert d[uid]["decision"] == "build", d[uid]
    built = contents(p)
    assert any(row[0] == 99 for row in built[FCT_ORDERS]), built[FCT_ORDERS]
    r = p.dbt("run", "--select", "stg_orders+")
    assert r.returncode == 0, r.describe()
    assert contents(p) == built, "what orc built is what a plain dbt build gives"


ORDERS_ALL = f"model.{P}.orders_all"


@slow(65)
@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_a_column_added_to_a_source_rebuilds_what_selects_every_column(make_project, target):
    """Schema drift: a column added to a source (no new row, no newer loaded_at) changes what
    `select *` gives. The change marker holds the source's columns (from the information
    schema) beside the count, so the readers build with `source_marker_changed`; the binary
    before it reused `orders_all` without the column, stale until the next new row."""
    p = make_project(target)
    (p.dir / "models" / "marts" / "orders_all.sql").write_text(
        "{{ config(materialized='table') }}\nselect * from {{ source('shop', 'orders') }}\n")
    build(p)
    unchanged = build(p)
    assert (unchanged[ORDERS_ALL]["decision"], unchanged[ORDERS_ALL]["reason_code"]) == \
        ("reuse", "no_new_data"), unchanged[ORDERS_ALL]

    warehouse(p, f"alter table {raw(p, 'orders')} add column channel varchar default 'web'",
              fetch=False)
    d = build(p)
    for uid in (ORDERS_ALL, STG_ORDERS):
        assert (d[uid]["decision"], d[uid]["reason_code"], d[uid]["reason_subject"]) == \
            ("build", "source_marker_changed", ORDERS), d[uid]
    marker = orders_input(unchanged, ORDERS_ALL)["marker"]
    assert "|cols:" in marker["current"] and marker["current"] == marker["recorded"], marker
    moved = orders_input(d, ORDERS_ALL)["marker"]
    assert moved["current"] != marker["current"], moved
    assert moved["current"].split("|cols:")[0] == marker["current"].split("|cols:")[0], \
        "only the columns part moved"
    assert orders_input(d, ORDERS_ALL)["current"] == orders_input(unchanged, ORDERS_ALL)["current"]
    columns = [r[0] for r in warehouse(
        p, "select column_name from information_schema.columns where table_schema = "
           f"'{schema_of(p)}' and table_name = 'orders_all' order by ordinal_position")]
    assert columns[-1] == "channel", columns
    assert all(row[-1] == "web" for row in warehouse(
        p, f'select * from "{schema_of(p)}"."orders_all"')), "the new column's values"

    # Nothing changed since: reused again.
    d = build(p)
    assert (d[ORDERS_ALL]["decision"], d[ORDERS_ALL]["reason_code"]) == \
        ("reuse", "no_new_data"), d[ORDERS_ALL]
