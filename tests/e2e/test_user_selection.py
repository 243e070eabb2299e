"""The user's selection is honoured exactly (issue "correctness", items 4-6): orc builds
dbt's own selection minus what it reuses, only selected nodes' state entries change, and
installed packages and runs from other directories behave like the project's own."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import Project, assert_tree_unchanged
from test_stateful_core import (CALENDAR, FCT_ORDERS, ORDERS_BY_STATUS, STG_ORDERS,
                                assert_ran_exactly, decisions_by_id, run_ok)

PKG_COUNTS = "model.orc_tutorial_extras.extras_order_counts"
DECIDED_TYPES = {"model", "seed", "snapshot", "test", "unit_test"}


def dbt_selection(p: Project, *args) -> set[str]:
    """What plain `dbt ls` selects for these arguments, restricted to what orc decides.
    (For build, -m/--models mean --select; ls gives them another meaning.)"""
    args = ["--select" if a in ("-m", "--models", "--model") else a for a in args]
    r = p.dbt("ls", *args, "--output", "json", "--output-keys", "unique_id resource_type config",
              "--quiet")
    assert r.returncode == 0, r.describe()
    out = set()
    for line in r.stdout.splitlines():
        if not line.startswith("{"):
            continue
        node = json.loads(line)
        if node["resource_type"] not in DECIDED_TYPES:
            continue
        if node.get("config", {}).get("materialized") == "ephemeral":
            continue
        out.add(node["unique_id"])
    return out


@pytest.fixture
def built_project(make_project) -> Project:
    p = make_project("duckdb")
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    run_ok(p, "build")
    return p


def assert_only_selected_entries_changed(before: dict, after: dict, selected: set[str]):
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed <= selected, f"entries changed outside the selection: {sorted(changed - selected)}"


@pytest.mark.parametrize("selection", [
    ["--select", "+fct_orders", "--exclude", "unique_fct_orders_order_id"],
    ["-s", "stg_orders+", "--exclude", "orders_history"],
    ["--models", "1+fct_orders"],
    ["-m", "@stg_orders", "--resource-type", "model"],
    ["--select", "stg_orders+,+daily_revenue"],
    ["--selector", "orders_pipeline"],
    ["--select", "+fct_orders", "--exclude-resource-type", "unit_test"],
    ["--select", "+fct_orders", "--threads", "2", "--fail-fast"],
])
def test_selection_matches_dbt_and_touches_only_selected_entries(built_project: Project,
                                                                 selection):
    p = built_project
    p.add_source_rows("orders")
    state_before = p.read_state()["state"]
    before = p.tree_snapshot()
    run_ok(p, "build", *selection)
    d = decisions_by_id(p)
    sel_only = [a for a in selection if a not in ("--threads", "2", "--fail-fast")]
    expected = dbt_selection(p, *sel_only)
    assert set(d) == expected, (sorted(set(d) - expected), sorted(expected - set(d)))
    assert_ran_exactly(p, d)
    if STG_ORDERS in d:
        assert d[STG_ORDERS]["decision"] == "build"  # new orders
    assert_only_selected_entries_changed(state_before, p.read_state()["state"], set(d))
    assert_tree_unchanged(p, before)


def test_excluded_tests_stay_excluded(built_project: Project):
    p = built_project
    p.add_source_rows("orders")
    run_ok(p, "build", "--select", "stg_orders+", "--exclude", "test_type:unit")
    d = decisions_by_id(p)
    assert d[FCT_ORDERS]["decision"] == "build"
    assert not any(u.startswith("unit_test.") for u in d)
    assert not any(u.startswith("unit_test.") for u in p.run_results())


def test_slim_ci_state_modified_with_defer(built_project: Project):
    p = built_project
    prod = p.workspace / "prod-artifacts"
    prod.mkdir()
    shutil.copy(p.target_dir / "manifest.json", prod / "manifest.json")
    sql = p.dir / "models" / "marts" / "fct_orders.sql"
    sql.write_text(sql.read_text() + "\n{{ '-- edited in a pull request' }}\n")
    state_before = p.read_state()["state"]
    before = p.tree_snapshot()
    run_ok(p, "build", "--select", "state:modified+", "--state", str(prod), "--defer")
    d = decisions_by_id(p)
    expected = dbt_selection(p, "--select", "state:modified+", "--state", str(prod))
    assert set(d) == expected
    assert STG_ORDERS not in d, "unmodified parents are not selected"
    assert d[FCT_ORDERS]["reason_code"] == "code_changed"
    assert d[ORDERS_BY_STATUS]["decision"] == "build"
    cmd = p.decisions()["run_command"]
    assert cmd[cmd.index("--defer-state") + 1] == str(prod), cmd
    assert "--defer" in cmd
    assert_ran_exactly(p, d)
    assert_only_selected_entries_changed(state_before, p.read_state()["state"], set(d))
    assert_tree_unchanged(p, before)


def test_package_models_reused_and_selected_by_package(built_project: Project):
    p = built_project
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert d[PKG_COUNTS]["decision"] == "reuse", d[PKG_COUNTS]
    assert d[CALENDAR]["decision"] == "build"
    state_before = p.read_state()["state"]
    p.add_source_rows("orders")
    run_ok(p, "build", "--select", "package:orc_tutorial_extras")
    d = decisions_by_id(p)
    assert set(d) == dbt_selection(p, "--select", "package:orc_tutorial_extras")
    assert all(u.split(".")[1] == "orc_tutorial_extras" for u in d if not u.startswith("test."))
    assert d[PKG_COUNTS]["decision"] == "build"
    assert (d[PKG_COUNTS]["reason_code"], d[PKG_COUNTS]["reason_subject"]) == \
        ("source_new_data", "source.orc_tutorial_extras.extras_shop.orders"), d[PKG_COUNTS]
    assert_only_selected_entries_changed(state_before, p.read_state()["state"], set(d))


def test_runs_from_anywhere(make_project):
    p = make_project("duckdb")
    elsewhere = p.workspace / "profiles-elsewhere"
    elsewhere.mkdir()
    shutil.copy(p.dir / "profiles.yml", elsewhere / "profiles.yml")
    before = p.tree_snapshot()
    args = ["--project-dir", "project", "--target-path", "custom_target",
            "--profiles-dir", str(elsewhere), "-t", "duckdb"]
    env = {"DBT_PROFILES_DIR": None}
    for _ in range(2):
        run_ok(p, "build", *args, cwd=p.workspace, env=env, target=False)
    decisions = json.loads((p.dir / "custom_target" / "orc_decisions.json").read_text())
    d = {n["unique_id"]: n for n in decisions["nodes"]}
    assert d[STG_ORDERS]["decision"] == "reuse", d[STG_ORDERS]
    assert not (p.dir / "target" / "orc_decisions.json").exists()
    assert not (p.workspace / "custom_target").exists()

    # DBT_TARGET_PATH and DBT_TARGET work the same way.
    env = {"DBT_TARGET_PATH": "env_target", "DBT_TARGET": "duckdb"}
    run_ok(p, "build", "--project-dir", "project", cwd=p.workspace, env=env, target=False)
    env_decisions = json.loads((p.dir / "env_target" / "orc_decisions.json").read_text())
    assert {n["unique_id"]: n["decision"] for n in env_decisions["nodes"]}[STG_ORDERS] == "reuse"
    assert_tree_unchanged(p, {k: v for k, v in before.items()} | {
        k: v for k, v in p.tree_snapshot().items()
        if k.startswith(("custom_target", "env_target"))})


def test_run_with_models_flag(built_project: Project):
    # `dbt run -m x` is the most common spelling; `dbt ls -m` would clash with the resource
    # type orc adds for `run`.
    p = built_project
    p.add_source_rows("orders")
    run_ok(p, "run", "-m", "stg_orders+")
    d = decisions_by_id(p)
    assert set(d) == dbt_selection(p, "--select", "stg_orders+", "--resource-type", "model")
    assert d[STG_ORDERS]["decision"] == "build"
    assert_ran_exactly(p, d)
