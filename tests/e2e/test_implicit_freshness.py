"""Sources without loaded_at_field / loaded_at_query (issue "Implicit source freshness"): orc
reads a data-change token for them in its one warehouse query (a row count plus an
order-independent sum of row hashes on DuckDB and PostgreSQL), so their dependants are reused
while the data is unchanged and rebuilt after an insert, an update or a delete. A source that
is a view, or any source when `require_explicit_source_freshness` is on, stays unknown (always
new data), and the reason says why.

The tutorial's `web.page_views` has no loaded_at of any kind; `stg_page_views` (a view) and
`page_views_daily` (a table: the value at stake) read it.
"""

from __future__ import annotations

import pytest

from helpers import Project, assert_tree_unchanged, dbt_invocations
from test_fingerprint import warehouse
from test_stateful_core import (FCT_ORDERS, P, PAGE_VIEWS_DAILY, STG_ORDERS, STG_PAGE_VIEWS,
                                assert_ran_exactly, decisions_by_id, run_ok)

PAGE_VIEWS = f"source.{P}.web.page_views"
DEPENDANTS = (STG_PAGE_VIEWS, PAGE_VIEWS_DAILY)


def raw(p: Project, table: str) -> str:
    schema = f"{p.schema}_raw" if p.target == "postgres" else "main_raw"
    return f'"{schema}"."{table}"'


def daily_counts(p: Project) -> dict:
    """page_views_daily as orc left it, and as the raw data says it should be."""
    built = dict(warehouse(p, f'select viewed_at, page_views from '
                              f'"{p.schema if p.target == "postgres" else "main"}".'
                              f'"page_views_daily"'))
    truth = dict(warehouse(p, f"select viewed_at, count(*) from {raw(p, 'page_views')} "
                              f"group by 1"))
    return {"built": built, "truth": truth}


def build(p: Project):
    before = p.tree_snapshot()
    run_ok(p, "build")
    assert_tree_unchanged(p, before)
    d = decisions_by_id(p)
    assert_ran_exactly(p, d)
    return d


def source_input(d: dict, uid: str) -> dict:
    return d[uid]["inputs"]["sources"][PAGE_VIEWS]


@pytest.mark.parametrize("change", ["insert", "update", "delete"])
def test_each_kind_of_change_rebuilds_exactly_the_dependants(any_project: Project, change: str):
    p = any_project
    build(p)
    d = build(p)
    for uid in DEPENDANTS:
        assert d[uid]["decision"] == "reuse", d[uid]
        assert d[uid]["reason_code"] == "no_new_data", d[uid]
        assert source_input(d, uid)["method"] == "fingerprint", d[uid]
    invocations = dbt_invocations(p.decisions())
    assert invocations.count("show") == 1 and "ls" not in invocations, \
        ("the tokens come from the one warehouse query", invocations)
    assert len(p.decisions()["dbt_processes"]) == 1, "one dbt process in total, the build included"

    sql = {"insert": f"insert into {raw(p, 'page_views')} values (9, 1, '/new', "
                     f"date '2024-01-03')",
           "update": f"update {raw(p, 'page_views')} set viewed_at = date '2024-01-02' "
                     f"where id = 1",
           "delete": f"delete from {raw(p, 'page_views')} where id = 3"}[change]
    warehouse(p, sql, fetch=False)
    d = build(p)
    for uid in DEPENDANTS:
        assert d[uid]["decision"] == "build", (change, d[uid])
    assert d[STG_PAGE_VIEWS]["reason_code"] == "source_new_data", d[STG_PAGE_VIEWS]
    assert d[STG_PAGE_VIEWS]["reason_subject"] == PAGE_VIEWS
    assert source_input(d, STG_PAGE_VIEWS)["new_data"] is True
    assert d[STG_ORDERS]["decision"] == "reuse" and d[FCT_ORDERS]["decision"] == "reuse"
    counts = daily_counts(p)
    assert counts["built"] == counts["truth"], (change, counts)

    # And reused again once the change is consumed.
    d = build(p)
    assert all(d[uid]["decision"] == "reuse" for uid in DEPENDANTS), d[STG_PAGE_VIEWS]


def test_a_source_that_is_a_view_is_always_new_data(any_project: Project):
    p = any_project
    # The raw table becomes a view over a copy: its metadata says nothing about its data.
    warehouse(p, f"create table {raw(p, 'page_views_base')} as select * from "
                 f"{raw(p, 'page_views')}", fetch=False)
    warehouse(p, f"drop table {raw(p, 'page_views')}", fetch=False)
    warehouse(p, f"create view {raw(p, 'page_views')} as select * from "
                 f"{raw(p, 'page_views_base')}", fetch=False)
    build(p)
    d = build(p)
    for uid in DEPENDANTS:
        assert d[uid]["decision"] == "build", d[uid]
    assert d[STG_PAGE_VIEWS]["reason_code"] == "source_freshness_unknown", d[STG_PAGE_VIEWS]
    assert d[STG_PAGE_VIEWS]["reason_detail"] == "the source is a view", d[STG_PAGE_VIEWS]
    assert source_input(d, STG_PAGE_VIEWS)["method"] == "unknown: the source is a view"
    assert d[STG_ORDERS]["decision"] == "reuse"


def test_require_explicit_source_freshness_turns_tokens_off(logic_project: Project):
    p = logic_project
    p.write_config(use_stateful=True, state_file="state.json",
                   require_explicit_source_freshness=True)
    build(p)
    d = build(p)
    for uid in DEPENDANTS:
        assert d[uid]["decision"] == "build", d[uid]
    assert d[STG_PAGE_VIEWS]["reason_code"] == "source_freshness_unknown"
    assert d[STG_PAGE_VIEWS]["reason_detail"] == "require_explicit_source_freshness is on"
    assert d[STG_ORDERS]["decision"] == "reuse", "explicit loaded_at sources work as before"

    # The environment variable overrides the file: tokens are back on.
    env = {"ORCHESTRA_REQUIRE_EXPLICIT_SOURCE_FRESHNESS": "false"}
    for _ in range(2):
        r = p.orc("build", env=env)
        assert r.returncode == 0, r.describe()
    d = decisions_by_id(p)
    assert d[STG_PAGE_VIEWS]["decision"] == "reuse", d[STG_PAGE_VIEWS]
