"""The stateful core loop on real dbt (issue "stateful core loop"): what is built, what is
reused and why, the state that is recorded, and that the project is never modified.

Every test asserts on dbt's run_results.json and orc's orc_decisions.json, and compares a
snapshot of every project file before and after orc ran."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from helpers import slow, ORC_THREAD_ID, Project, assert_tree_unchanged, dbt_invocations, read_json

P = "orc_tutorial"
STG_ORDERS = f"model.{P}.stg_orders"
STG_CUSTOMERS = f"model.{P}.stg_customers"
STG_PAGE_VIEWS = f"model.{P}.stg_page_views"
FCT_ORDERS = f"model.{P}.fct_orders"
FCT_PAYMENTS = f"model.{P}.fct_payments"
DIM_CUSTOMERS = f"model.{P}.dim_customers"
DAILY_REVENUE = f"model.{P}.daily_revenue"
CUSTOMER_REVENUE = f"model.{P}.customer_revenue"
PAYMENTS_BY_METHOD = f"model.{P}.payments_by_method"
ORDERS_BY_STATUS = f"model.{P}.orders_by_status"
CUSTOMERS_BY_COUNTRY = f"model.{P}.customers_by_country"
ORDERS_HISTORY = f"model.{P}.orders_history"
PAGE_VIEWS_DAILY = f"model.{P}.page_views_daily"
SNAPSHOT = f"snapshot.{P}.customers_snapshot"
COUNTRIES = f"seed.{P}.countries"
CALENDAR = "model.orc_tutorial_extras.extras_calendar"
UNIT_TEST = f"unit_test.{P}.fct_orders.fct_orders_returned_orders_earn_nothing"


def decisions_by_id(project: Project) -> dict[str, dict]:
    return {n["unique_id"]: n for n in project.decisions()["nodes"]}


def run_ok(project: Project, *args, **kw):
    r = project.orc(*args, **kw)
    assert r.returncode == 0, r.describe()
    return r


def built(decisions: dict[str, dict]) -> set[str]:
    return {u for u, d in decisions.items() if d["decision"] == "build"}


def reused(decisions: dict[str, dict]) -> set[str]:
    return {u for u, d in decisions.items() if d["decision"] == "reuse"}


def data_tests_of(decisions: dict[str, dict], model: str) -> set[str]:
    """Generic data tests attached to `model` (by name), among the decided nodes."""
    name = model.split(".")[-1]
    return {u for u in decisions if u.startswith("test.") and f"_{name}_" in u}


def assert_ran_exactly(project: Project, decisions: dict[str, dict]) -> None:
    """dbt ran exactly the nodes orc decided to build."""
    ran = set(project.run_results())
    assert ran == built(decisions), (
        f"ran but not decided build: {sorted(ran - built(decisions))}\n"
        f"decided build but did not run: {sorted(built(decisions) - ran)}")


@pytest.fixture
def exact_project(make_project) -> Project:
    """DuckDB tutorial with seed_state_orchestration on, so seeds do not force rebuilds."""
    p = make_project("duckdb")
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    return p


def test_first_run_builds_all_and_rerun_reuses(any_project: Project):
    p = any_project
    before = p.tree_snapshot()
    run_ok(p, "build")
    first = decisions_by_id(p)
    assert first and reused(first) == set(), "first run must build everything"
    assert first[STG_ORDERS]["reason_code"] == "no_state_entry"
    results = p.run_results()
    assert results[STG_ORDERS] == "success" and results[UNIT_TEST] == "pass"
    assert_ran_exactly(p, first)
    state = p.read_state()["state"]
    assert state[STG_ORDERS]["sources"].keys() == {f"source.{P}.shop.orders"}
    assert state[FCT_ORDERS]["parents"].keys() == {STG_ORDERS}

    r = run_ok(p, "build")
    second = decisions_by_id(p)
    # Known, unchanged freshness: reused, and their tests skipped.
    for uid in (STG_ORDERS, STG_CUSTOMERS, FCT_ORDERS, ORDERS_HISTORY, ORDERS_BY_STATUS):
        assert second[uid]["decision"] == "reuse", (uid, second[uid])
    assert second[STG_ORDERS]["reason_code"] == "no_new_data"
    assert second[UNIT_TEST]["decision"] == "reuse"
    assert all(second[t]["decision"] == "reuse" for t in data_tests_of(second, "stg_orders"))
    # Always built: snapshot, seeds (seed_state_orchestration off), package model without
    # parents. A source without loaded_at is judged by its data-change token: unchanged.
    assert second[SNAPSHOT]["reason_code"] == "snapshot"
    assert second[COUNTRIES]["decision"] == "build"
    assert second[CALENDAR]["decision"] == "build"
    assert second[STG_PAGE_VIEWS]["reason_code"] == "no_new_data"
    assert second[PAGE_VIEWS_DAILY]["decision"] == "reuse"
    assert_ran_exactly(p, second)
    # An unfiltered run needs one dbt invocation before the build: the freshness query, which
    # also writes the fresh manifest (no `dbt ls`); all of it in one dbt process.
    assert dbt_invocations(p.decisions()) == ["show", "build"]
    assert [pr["mode"] for pr in p.decisions()["dbt_processes"]] == ["driver"]
    n_reused = len(reused(second))
    assert f"{n_reused}/{len(second)} nodes reused" in r.stdout
    assert f"Reusing {STG_ORDERS}: no new upstream data" in r.stdout
    assert_tree_unchanged(p, before)


def test_nothing_to_build_does_not_start_dbt(exact_project: Project):
    p = exact_project
    before = p.tree_snapshot()
    # cautious: only tests whose parents are all selected (the user's indirect selection).
    sel = ["--select", "+fct_orders", "--indirect-selection", "cautious"]
    run_ok(p, "build", *sel)
    first_results = read_json(p.target_dir / "run_results.json")
    assert f"test.{P}.assert_payments_match_orders" not in p.run_results()
    r = run_ok(p, "build", *sel)
    d = decisions_by_id(p)
    assert built(d) == set(), d
    assert {STG_ORDERS, FCT_ORDERS, UNIT_TEST} <= reused(d)
    assert "Nothing to build" in r.stdout
    assert p.decisions()["run_command"] is None
    assert "build" not in dbt_invocations(p.decisions())
    # dbt build never ran: run_results.json is not the first run's results nor orc's own
    # query's; it holds orc's reused result for each decided node and nothing else.
    results = read_json(p.target_dir / "run_results.json")
    assert {r["unique_id"] for r in results["results"]} == set(d)
    assert all(r["thread_id"] == ORC_THREAD_ID for r in results["results"]), results
    assert results["metadata"]["invocation_id"] not in (
        first_results["metadata"]["invocation_id"], None)
    assert_tree_unchanged(p, before)


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_new_rows_rebuild_exactly_downstream_through_ephemeral(make_project, target):
    p = make_project(target)
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    before = p.tree_snapshot()
    run_ok(p, "build")
    run_ok(p, "build")
    quiet = decisions_by_id(p)
    assert quiet[FCT_PAYMENTS]["decision"] == "reuse", quiet[FCT_PAYMENTS]

    p.add_source_rows("payments")
    run_ok(p, "build")
    d = decisions_by_id(p)
    # payments -> int_payments (ephemeral) -> fct_payments -> payments_by_method
    assert d[FCT_PAYMENTS]["decision"] == "build"
    assert (d[FCT_PAYMENTS]["reason_code"], d[FCT_PAYMENTS]["reason_subject"]) == \
        ("source_new_data", f"source.{P}.shop.payments")
    src = d[FCT_PAYMENTS]["inputs"]["sources"][f"source.{P}.shop.payments"]
    assert src["new_data"] and src["current"] != src["recorded"]
    assert d[PAYMENTS_BY_METHOD]["decision"] == "build"
    assert (d[PAYMENTS_BY_METHOD]["reason_code"], d[PAYMENTS_BY_METHOD]["reason_subject"]) == \
        ("parent_built", FCT_PAYMENTS)
    assert d[f"test.{P}.assert_payments_match_orders"]["decision"] == "build"
    # Nothing else that reads known, unchanged sources moved.
    for uid in (STG_ORDERS, STG_CUSTOMERS, FCT_ORDERS, DIM_CUSTOMERS, ORDERS_HISTORY,
                ORDERS_BY_STATUS, CUSTOMERS_BY_COUNTRY, DAILY_REVENUE):
        assert d[uid]["decision"] == "reuse", (uid, d[uid])
    # customer_revenue waits for all of its parents (updates_on: all).
    assert d[CUSTOMER_REVENUE]["decision"] == "reuse"
    assert d[CUSTOMER_REVENUE]["reason_code"] == "build_after_waiting_for_all"
    assert_ran_exactly(p, d)
    assert p.run_results()[FCT_PAYMENTS] == "success"
    assert_tree_unchanged(p, before)


def test_sql_edit_rebuilds_model_and_downstream(exact_project: Project):
    p = exact_project
    run_ok(p, "build")
    sql = p.dir / "models" / "staging" / "stg_customers.sql"
    sql.write_text(sql.read_text() + "\n{{ '-- edited' }}\n")  # code, not a comment
    before = p.tree_snapshot()
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert d[STG_CUSTOMERS]["decision"] == "build"
    assert d[STG_CUSTOMERS]["reason_code"] == "code_changed"
    old, new = d[STG_CUSTOMERS]["inputs"]["checksum"]["old"], d[STG_CUSTOMERS]["inputs"]["checksum"]["new"]
    assert old and new and old != new
    assert d[DIM_CUSTOMERS]["decision"] == "build"
    assert d[CUSTOMERS_BY_COUNTRY]["decision"] == "build"
    assert d[STG_ORDERS]["decision"] == "reuse"
    assert p.read_state()["state"][STG_CUSTOMERS]["checksum"] == new
    assert_ran_exactly(p, d)
    assert_tree_unchanged(p, before)


def test_seed_edit_with_seed_state_orchestration(exact_project: Project):
    p = exact_project
    run_ok(p, "build")
    run_ok(p, "build")
    assert decisions_by_id(p)[COUNTRIES]["decision"] == "reuse"
    seed = p.dir / "seeds" / "countries.csv"
    seed.write_text(seed.read_text().rstrip("\n") + "\nZZ,Zedland\n")
    before = p.tree_snapshot()
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert d[COUNTRIES]["reason_code"] == "code_changed"
    assert d[DIM_CUSTOMERS]["decision"] == "build"
    assert d[CUSTOMERS_BY_COUNTRY]["decision"] == "build"
    assert d[STG_CUSTOMERS]["decision"] == "reuse"
    assert_ran_exactly(p, d)
    assert_tree_unchanged(p, before)


def _age_entry(project: Project, uid: str, hours: float) -> None:
    """Moves a node's recorded build time `hours` into the past (as if built long ago)."""
    state = project.read_state()
    when = datetime.now(timezone.utc) - timedelta(hours=hours)
    state["state"][uid]["last_updated"] = when.isoformat()
    project.write_state(state)


@slow(90)
def test_build_after_window_and_updates_on_all(exact_project: Project):
    p = exact_project
    before = p.tree_snapshot()
    run_ok(p, "build")
    # New orders: fct_orders rebuilds; daily_revenue (build_after 1 hour, any) was built
    # moments ago, so it waits.
    p.add_source_rows("orders")
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert d[FCT_ORDERS]["decision"] == "build"
    assert d[DAILY_REVENUE]["decision"] == "reuse"
    assert (d[DAILY_REVENUE]["reason_code"], d[DAILY_REVENUE]["reason_subject"]) == \
        ("build_after_window", "1 hour"), d[DAILY_REVENUE]
    window = dict(d[DAILY_REVENUE]["inputs"]["build_after"])
    ends_at = window.pop("ends_at")
    assert window == {"count": 1, "period": "hour", "updates_on": "any", "inherited": False}
    # The window ends one hour after its last build (what `orc explain` reports).
    last = datetime.fromisoformat(d[DAILY_REVENUE]["inputs"]["last_updated"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(ends_at.replace("Z", "+00:00")) - last == timedelta(hours=1)
    # Outside the window: built.
    _age_entry(p, DAILY_REVENUE, 2)
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert d[DAILY_REVENUE]["decision"] == "build", d[DAILY_REVENUE]

    # customer_revenue (updates_on: all) needs new data in every parent.
    _age_entry(p, CUSTOMER_REVENUE, 2)
    p.add_source_rows("orders")
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert d[FCT_ORDERS]["decision"] == "build" and d[FCT_PAYMENTS]["decision"] == "reuse"
    assert d[CUSTOMER_REVENUE]["decision"] == "reuse"
    assert (d[CUSTOMER_REVENUE]["reason_code"], d[CUSTOMER_REVENUE]["reason_subject"]) == \
        ("build_after_waiting_for_all", FCT_PAYMENTS)
    p.add_source_rows("orders")
    p.add_source_rows("payments")
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert d[CUSTOMER_REVENUE]["decision"] == "build", d[CUSTOMER_REVENUE]
    assert_ran_exactly(p, d)
    assert_tree_unchanged(p, before)


def test_full_refresh_builds_all_and_records_state(project: Project):
    p = project
    before = p.tree_snapshot()
    run_ok(p, "build")
    first = p.read_state()["state"][STG_ORDERS]["last_updated"]
    run_ok(p, "build", "--full-refresh")
    d = decisions_by_id(p)
    assert reused(d) == set()
    assert d[STG_ORDERS]["reason_code"] == "full_refresh"
    assert p.decisions()["run_command"] == ["build", "--full-refresh"]
    assert p.run_results()[ORDERS_HISTORY] == "success"
    assert p.read_state()["state"][STG_ORDERS]["last_updated"] != first
    # The full refresh recorded what the sources held: nothing new, nothing built again.
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert d[STG_ORDERS]["decision"] == "reuse", d[STG_ORDERS]
    assert d[FCT_ORDERS]["decision"] == "reuse", d[FCT_ORDERS]
    assert_tree_unchanged(p, before)


def test_run_and_test_follow_the_same_rules(exact_project: Project):
    p = exact_project
    before = p.tree_snapshot()
    run_ok(p, "build")
    p.add_source_rows("page_views")
    run_ok(p, "run")
    d = decisions_by_id(p)
    assert d and all(u.startswith("model.") for u in d), sorted(d)
    assert d[STG_ORDERS]["decision"] == "reuse"
    assert SNAPSHOT not in d and COUNTRIES not in d
    assert d[STG_PAGE_VIEWS]["decision"] == "build"
    assert_ran_exactly(p, d)

    run_ok(p, "test")
    d = decisions_by_id(p)
    assert d and all(u.startswith(("test.", "unit_test.")) for u in d), sorted(d)
    assert d[UNIT_TEST]["decision"] == "reuse"
    assert all(d[t]["decision"] == "reuse" for t in data_tests_of(d, "stg_orders"))
    # Tests on a model rebuilt by `orc dbt run` just now run again.
    assert all(d[t]["decision"] == "build" for t in data_tests_of(d, "stg_page_views"))
    assert_ran_exactly(p, d)
    assert_tree_unchanged(p, before)


def test_reads_and_keeps_the_reference_state_shape(exact_project: Project):
    p = exact_project
    run_ok(p, "build")
    state = p.read_state()
    # Rewrite it as the reference writes it: no "parents", timestamps in three styles.
    styles = [lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), lambda t: t.isoformat(),
              lambda t: t.replace(tzinfo=None).isoformat()]
    for i, (uid, entry) in enumerate(sorted(state["state"].items())):
        entry.pop("parents", None)
        t = datetime.fromisoformat(entry["last_updated"].replace("Z", "+00:00"))
        entry["last_updated"] = styles[i % 3](t)
        entry["sources"] = {s: styles[(i + 1) % 3](datetime.fromisoformat(v.replace("Z", "+00:00")))
                            for s, v in entry["sources"].items()}
    p.write_state(state)
    before = p.tree_snapshot()
    run_ok(p, "build")
    d = decisions_by_id(p)
    for uid in (STG_ORDERS, FCT_ORDERS, ORDERS_HISTORY, FCT_PAYMENTS, DIM_CUSTOMERS):
        assert d[uid]["decision"] == "reuse", (uid, d[uid])
    saved = p.read_state()
    # The reference's shape plus orc's own top-level totals (orc_savings), which it ignores.
    assert set(saved) - {"orc_savings"} == {"state"}
    for uid, entry in saved["state"].items():
        assert {"checksum", "last_updated", "sources"} <= entry.keys(), uid
        assert isinstance(entry["sources"], dict)
    # Entries of reused nodes are kept exactly as they were written.
    assert saved["state"][STG_ORDERS] == state["state"][STG_ORDERS]
    assert_tree_unchanged(p, before)


@pytest.mark.parametrize("content, expected", [
    (None, "does not exist"),
    ('{"state": {"model.x": ', "not valid JSON, or truncated"),
    ('[{"state": {}}]', "at the top level: expected an object, found an array"),
    ('{"state": {"model.x": {"checksum": 5, "last_updated": "2024-01-01T00:00:00Z"}}}',
     'at state."model.x".checksum: expected a string, found a number'),
    ('{"state": {"model.x": {"checksum": "c", "sources": ["source.a.b"]}}}',
     'at state."model.x".sources: expected an object, found an array'),
    ('{"state": {}, "other": ' + "[" * (2 << 20) + "]" * (2 << 20) + "}", "nested too deeply"),
])
def test_bad_state_file_is_a_clear_error_and_left_alone(project: Project, content, expected):
    p = project
    if content is None:
        p.state_file.unlink()
    else:
        p.write_state(content)
    before = p.tree_snapshot()
    r = p.orc("build")
    assert r.returncode == 1, r.describe()
    assert expected in r.output and str(p.state_file) in r.output, r.describe()
    if content is None:
        assert "echo '{\"state\":{}}'" in r.output
        assert not p.state_file.exists()
    else:
        assert p.state_file.read_text() == content
    assert not (p.target_dir / "run_results.json").exists(), "dbt must not have run"
    assert_tree_unchanged(p, before)
