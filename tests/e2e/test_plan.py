"""`orc plan` (issue "see before you run"): the real decision against the real warehouse and
state, without building anything; it must predict exactly what the next `orc dbt build` builds
and leave the state, the project and the warehouse untouched."""

from __future__ import annotations

import hashlib
import json

from helpers import Project, assert_tree_unchanged
from test_fingerprint import warehouse
from test_stateful_core import (FCT_ORDERS, STG_ORDERS, built, decisions_by_id,  # noqa: F401
                                exact_project, reused, run_ok)


def warehouse_digest(p: Project) -> str:
    """A digest of every relation in the warehouse: names, kinds and rows (sorted)."""
    h = hashlib.sha256()
    rels = warehouse(p, "select table_schema, table_name, table_type from "
                        "information_schema.tables order by 1, 2")
    for schema, name, kind in rels:
        h.update(f"{schema}.{name}:{kind}\n".encode())
        rows = warehouse(p, f'select * from "{schema}"."{name}"')
        for row in sorted(map(repr, rows)):
            h.update(row.encode())
    return h.hexdigest()


def test_plan_predicts_the_next_build_and_changes_nothing(exact_project: Project):
    p = exact_project
    run_ok(p, "build")
    p.add_source_rows("orders", 2)
    before_tree, before_state = p.tree_snapshot(), p.state_file.read_bytes()
    before_results = (p.target_dir / "run_results.json").read_bytes()
    before_wh = warehouse_digest(p)

    r = p.orc_raw("plan")
    assert r.returncode == 0, r.describe()
    plan = p.decisions()
    assert plan["plan_only"] is True
    assert plan["run_command"] is None
    planned = decisions_by_id(p)
    assert planned[STG_ORDERS]["reason_code"] == "source_new_data"
    assert FCT_ORDERS in built(planned)
    # The table names every decided node with its decision and reason code.
    for uid, d in planned.items():
        line = next(l for l in r.stdout.splitlines() if l.startswith(uid + " "))
        assert d["decision"] in line and d["reason_code"] in line, line
    # Nothing was touched: state, project, warehouse, dbt's run results.
    assert p.state_file.read_bytes() == before_state
    assert_tree_unchanged(p, before_tree)
    assert warehouse_digest(p) == before_wh
    assert (p.target_dir / "run_results.json").read_bytes() == before_results
    assert "build" not in [c.split()[1] for pr in plan["dbt_processes"]
                           for c in pr["invocations"]]

    # The next build builds exactly what the plan said, for the same reasons.
    run_ok(p, "build")
    after = decisions_by_id(p)
    assert built(after) == built(planned)
    assert {u: d["reason_code"] for u, d in after.items()} == \
        {u: d["reason_code"] for u, d in planned.items()}
    assert set(p.run_results()) == built(planned)


def test_plan_prints_each_node_once(exact_project: Project):
    """Issue 32 (4.1): the table is the output; no dbt-style "Reusing ..." line per node before
    it (debug output may still list them)."""
    p = exact_project
    run_ok(p, "build")
    p.add_source_rows("orders", 1)
    r = p.orc_raw("plan")
    assert r.returncode == 0, r.describe()
    planned = decisions_by_id(p)
    assert reused(planned) and built(planned), "both kinds of line are in the table"
    lines = r.stdout.splitlines()
    for uid, d in planned.items():
        naming = [l for l in lines if l.split()[:1] == [uid]]
        assert len(naming) == 1 and d["reason_code"] in naming[0], (uid, naming)
    assert "Reusing" not in r.output and "Building" not in r.output, r.describe()
    summary = [l for l in lines if l.startswith(f"{len(planned)} nodes: ")]
    assert summary == [f"{len(planned)} nodes: {len(built(planned))} to build, "
                       f"{len(reused(planned))} to reuse (nothing was run)"], lines[-3:]
    assert "would be built" not in r.output, "the summary is said once"
    # Debug output still lists every decision.
    r = p.orc_raw("plan", env={"ORCHESTRA_DBT_DEBUG": "true"})
    assert r.returncode == 0, r.describe()
    assert any(l.split("  ", 1)[-1].startswith("Reusing ") for l in r.stdout.splitlines())


def test_plan_json_prints_the_record_and_takes_a_selection(exact_project: Project):
    p = exact_project
    run_ok(p, "build")
    r = p.orc_raw("plan", "build", "--select", "stg_orders+", "--output", "json")
    assert r.returncode == 0, r.describe()
    record = json.loads(r.stdout)
    assert record["plan_only"] is True
    ids = {n["unique_id"] for n in record["nodes"]}
    assert STG_ORDERS in ids and "model.orc_tutorial.stg_customers" not in ids
    assert record == p.decisions()


def test_plan_bad_output_format_is_a_clear_error(exact_project: Project):
    p = exact_project
    state = p.state_file.read_bytes()
    r = p.orc_raw("plan", "--output", "yaml")
    assert r.returncode != 0
    assert "--output yaml" in r.stderr and "json" in r.stderr, r.describe()
    assert p.state_file.read_bytes() == state
