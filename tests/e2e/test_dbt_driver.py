"""One dbt process per run (issue "never slower than plain dbt"): orc runs every dbt
invocation of a run (selection, warehouse query, build) inside one Python process of dbt's own
interpreter, and falls back to one process per invocation when that cannot be used.

Asserts on `dbt_processes` in orc_decisions.json (every process orc started, with the
invocations made inside it), dbt's run_results.json and the warehouse."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from helpers import slow, Project, assert_tree_unchanged, dbt_invocations
from test_fingerprint import warehouse
from test_stateful_core import (FCT_ORDERS, FCT_PAYMENTS, STG_ORDERS, assert_ran_exactly,
                                decisions_by_id, reused, run_ok)


def modes(p: Project) -> list[str]:
    return [pr["mode"] for pr in p.decisions()["dbt_processes"]]


def write_script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.real_dbt  # the real interpreter and process, as users get them
def test_a_run_is_one_dbt_process_the_build_included(project: Project):
    before = project.tree_snapshot()
    r = run_ok(project, "build")
    assert modes(project) == ["driver"], project.decisions()["dbt_processes"]
    driver = project.decisions()["dbt_processes"][0]
    assert driver["invocations"][0].split()[1] == "parse", "the project is parsed once"
    assert dbt_invocations(project.decisions())[-1] == "build"
    assert_ran_exactly(project, decisions_by_id(project))
    # dbt's own output reaches the terminal, as when dbt runs by itself.
    assert "Done. PASS=" in r.stdout, r.describe()
    # Nothing changed: still one process; the query also gives the fresh manifest (no ls),
    # then the build of the always-built nodes (snapshot, seeds).
    run_ok(project, "build")
    assert modes(project) == ["driver"]
    assert dbt_invocations(project.decisions()) == ["show", "build"]
    # A selection: ls and the query in the same process.
    run_ok(project, "build", "--select", "stg_orders+")
    assert modes(project) == ["driver"]
    assert dbt_invocations(project.decisions())[:2] == ["ls", "show"]
    assert_tree_unchanged(project, before)


@slow(80)
def test_process_mode_gives_the_same_decisions(make_project):
    a, b = make_project("duckdb", "a"), make_project("duckdb", "b")
    for p in (a, b):
        p.write_config(use_stateful=True, state_file="state.json")
    env = {"ORC_DBT_MODE": "process"}
    run_ok(a, "build")
    run_ok(b, "build", env=env)
    assert set(modes(b)) == {"process"} and len(modes(b)) >= 2, modes(b)
    assert all(len(pr["invocations"]) == 1 for pr in b.decisions()["dbt_processes"])
    run_ok(a, "build")
    run_ok(b, "build", env=env)
    da, db = decisions_by_id(a), decisions_by_id(b)
    assert {u: d["reason_code"] for u, d in da.items()} == \
        {u: d["reason_code"] for u, d in db.items()}
    assert reused(da), "the second run reuses"


def test_a_dbt_that_is_not_a_python_script_runs_as_processes(project: Project, dbt_bin,
                                                             tmp_path):
    wrapper = write_script(tmp_path / "dbt-wrapper", f'#!/bin/sh\nexec "{dbt_bin}" "$@"\n')
    run_ok(project, "build", env={"ORC_DBT": str(wrapper)})
    assert set(modes(project)) == {"process"}, project.decisions()["dbt_processes"]
    assert_ran_exactly(project, decisions_by_id(project))


def test_a_python_without_dbt_falls_back_with_the_reason(project: Project, dbt_bin, tmp_path):
    # A console script whose interpreter (the system Python) cannot import dbt-core; it
    # execs the real dbt, so separate processes work.
    script = write_script(tmp_path / "dbt-sys",
                          f"#!/usr/bin/python3 -S\nimport os, sys\n"
                          f"os.execv({str(dbt_bin)!r}, [{str(dbt_bin)!r}] + sys.argv[1:])\n")
    r = run_ok(project, "build", env={"ORC_DBT": str(script), "ORCHESTRA_DBT_DEBUG": "true"})
    procs = project.decisions()["dbt_processes"]
    assert procs[0]["mode"] == "driver" and procs[0]["invocations"] == [], procs
    assert "cannot import dbt-core" in procs[0]["note"], procs[0]
    assert {pr["mode"] for pr in procs[1:]} == {"process"}
    assert "running dbt as separate processes" in r.stderr + r.stdout
    assert_ran_exactly(project, decisions_by_id(project))


def test_a_bad_dbt_mode_is_a_clear_error(project: Project):
    before, state = project.tree_snapshot(), project.state_file.read_bytes()
    r = project.orc("build", env={"ORC_DBT_MODE": "thread"})
    assert r.returncode != 0
    assert "ORC_DBT_MODE=thread" in r.stderr and "process" in r.stderr, r.describe()
    assert project.state_file.read_bytes() == state
    assert not (project.target_dir / "run_results.json").exists(), "dbt never ran"
    assert_tree_unchanged(project, before)


def test_the_driver_holds_no_duckdb_lock_after_the_run(project: Project):
    run_ok(project, "build")
    # The warehouse is free for another writer as soon as orc exits.
    warehouse(project, "create table orc_lock_probe as select 1 as x", fetch=False)
    assert warehouse(project, "select x from orc_lock_probe") == [(1,)]


def test_a_failed_show_leaves_the_driver_usable_for_the_next_one(make_project):
    # dbt's `show --inline` adds its node to the (shared, parsed-once) manifest and removes it
    # only after a successful run; a failing query used to leave it behind, so every later
    # `show --inline` in the same process failed ("two sql_operations with the name
    # inline_query") and the split of a failing warehouse query lost every other source.
    p = make_project("duckdb")
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    sources_yml = p.dir / "models" / "staging" / "sources.yml"
    marker = "      - name: customers\n        config:\n          loaded_at_field: loaded_at"
    assert marker in sources_yml.read_text()
    sources_yml.write_text(sources_yml.read_text().replace(
        marker, "      - name: customers\n        config:\n          loaded_at_field: no_such_column"))
    run_ok(p, "build")
    # The manifest is unchanged now: one combined query, which fails and is split in place.
    r = run_ok(p, "build")
    d = decisions_by_id(p)
    shows = dbt_invocations(p.decisions()).count("show")
    assert shows > 2, p.decisions()["dbt_processes"]
    assert modes(p) == ["driver"], p.decisions()["dbt_processes"]
    assert "two sql_operations" not in r.stdout + r.stderr, r.describe()
    assert d["model.orc_tutorial.stg_customers"]["reason_code"] == "source_freshness_unknown"
    assert d[STG_ORDERS]["decision"] == "reuse", ("the other parts were read", d[STG_ORDERS])
    assert d[FCT_PAYMENTS]["decision"] == "reuse", d[FCT_PAYMENTS]


# Python's own report of a thread pool left running (dbt leaves its pool open when an error
# ends an invocation by an exception); collected at the driver's exit, such pools printed
# "Exception ignored in: <function Pool.__del__ ...> OSError: [Errno 9] Bad file descriptor".
SHOW_LEAKS = {"PYTHONWARNINGS": "always::ResourceWarning"}


def assert_no_python_noise(r) -> None:
    for noise in ("Traceback", "Exception ignored", "unclosed running multiprocessing pool"):
        assert noise not in r.output, (noise, r.describe(200))
    frame = re.search(r'^\s*File ".*", line \d+', r.output, re.M)  # a traceback's tail
    assert frame is None, (frame.group(0), r.describe(200))


@pytest.mark.real_dbt  # the real interpreter and process, as users get them
@slow(70)
def test_no_python_traceback_reaches_the_user_on_failing_queries_and_nodes(make_project):
    """Issue 32 (4.2): what orc prints of its own (captured) dbt invocations, and what the
    driver prints when it ends, holds no Python traceback, whatever failed."""
    p = make_project("duckdb")
    run_ok(p, "build")

    # A warehouse that cannot be opened (its directory does not exist): every part of orc's
    # query fails, and dbt answers each with tracebacks; orc shows dbt's message only.
    gone = SHOW_LEAKS | {"ORC_DUCKDB_PATH": str(p.workspace / "no_such_dir" / "wh.duckdb")}
    r = p.orc_raw("plan", env=gone)
    assert r.returncode == 0, r.describe()
    assert "could not be read" in r.stderr and "Cannot open file" in r.stderr, r.describe()
    assert_no_python_noise(r)
    d = decisions_by_id(p)
    assert d[STG_ORDERS]["reason_code"] == "relation_changed", d[STG_ORDERS]
    assert all(n["decision"] == "build" for n in d.values())

    # One failing part (a loaded_at_field that names no column) in a working warehouse.
    sources_yml = p.dir / "models" / "staging" / "sources.yml"
    marker = "      - name: orders\n        config:\n          loaded_at_field: loaded_at"
    assert marker in sources_yml.read_text()
    sources_yml.write_text(sources_yml.read_text().replace(
        marker, "      - name: orders\n        config:\n          loaded_at_field: no_such_column"))
    r = p.orc("build", env=SHOW_LEAKS)
    assert r.returncode == 0, r.describe()
    assert "Binder Error" in r.stderr, r.describe()
    assert_no_python_noise(r)
    assert decisions_by_id(p)[STG_ORDERS]["reason_code"] == "source_freshness_unknown"
    assert p.run_results()[STG_ORDERS] == "success"

    # A model that fails in the build, after the failing query part.
    recorded = p.read_state()["state"][FCT_ORDERS]
    r = p.orc("build", "--vars", "{orc_fail: [fct_orders]}", env=SHOW_LEAKS)
    assert r.returncode == 1, r.describe()
    assert_no_python_noise(r)
    results = p.run_results()
    assert results[FCT_ORDERS] == "error" and results[STG_ORDERS] == "success", results
    assert p.read_state()["state"][FCT_ORDERS] == recorded, "a failed node keeps its entry"
    assert warehouse(p, "select count(*) from main.fct_orders")[0][0] > 0
