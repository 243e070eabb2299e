"""Artifacts downstream tools can trust (issue 32, item 5): after `orc dbt build`,
target/run_results.json holds one result per selected node, dbt's for what dbt ran and, for
each node orc reused, a result with the reused status (`reused` from dbt-core 1.12, `no-op`
before: older dbt cannot load `reused`) whose message carries orc's reason, with no timing and
execution_time 0. An exposure is recorded as dbt records it (a no-op). When dbt is not started
the file is orc's, with metadata like dbt's. `reused_in_run_results = false` (or
ORCHESTRA_REUSED_IN_RUN_RESULTS=false) keeps only what dbt ran.

Every test asserts on run_results.json against orc_decisions.json, checks that the installed
dbt loads the file (its own loader, as `dbt retry` and `--state` use it, and its JSON schema)
and that the project files are untouched."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

from helpers import (ORC_THREAD_ID, VENV_BIN, Project, assert_tree_unchanged, read_json,
                     run_process)
from test_stateful_core import (DAILY_REVENUE, FCT_ORDERS, FCT_PAYMENTS, P, STG_ORDERS,
                                decisions_by_id)

EXPOSURE = f"exposure.{P}.revenue_dashboard"
EXPOSURE_YML = """\
version: 2
exposures:
  - name: revenue_dashboard
    type: dashboard
    owner:
      name: Analytics
    depends_on:
      - ref('daily_revenue')
"""
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# dbt's own reading of a run_results.json: the loader `dbt retry` and `--state` use, and the
# JSON schema of the installed dbt-core.
LOAD_WITH_DBT = """\
import json, sys
import jsonschema
from dbt.artifacts.schemas.run import RunResultsArtifact
path = sys.argv[1]
RunResultsArtifact.read_and_check_versions(path)
jsonschema.validate(json.load(open(path)), RunResultsArtifact.json_schema())
print("loaded")
"""


# --- helpers ------------------------------------------------------------------------------

def add_exposure(p: Project) -> None:
    (p.dir / "models" / "marts" / "exposures.yml").write_text(EXPOSURE_YML)


def orc_build(p: Project, *args, env: dict | None = None):
    """`orc dbt build <args>`, which must succeed without touching a project file. Returns
    (decisions by unique_id, run_results.json's results by unique_id, the whole document)."""
    before = p.tree_snapshot()
    r = p.orc("build", *args, env=env)
    assert r.returncode == 0, r.describe()
    assert_tree_unchanged(p, before)
    doc = read_json(p.target_dir / "run_results.json")
    counts = Counter(res["unique_id"] for res in doc["results"])
    assert all(n == 1 for n in counts.values()), [u for u, n in counts.items() if n > 1]
    return decisions_by_id(p), {res["unique_id"]: res for res in doc["results"]}, doc


def reused_status(dbt_version: str) -> str:
    """`reused` where the dbt that reads the file knows it (dbt-core 1.12+), else `no-op`."""
    major, minor = (int(x) for x in re.findall(r"\d+", dbt_version)[:2])
    return "reused" if (major, minor) >= (1, 12) else "no-op"


def installed_dbt_version() -> str:
    r = run_process([VENV_BIN / "python", "-c",
                     "from dbt.version import __version__ as v; print(v)"], Path.cwd())
    assert r.returncode == 0, r.describe()
    return r.stdout.strip()


def assert_dbt_loads(p: Project, tmp: Path) -> Path:
    """The installed dbt reads the file; returns a state directory holding a copy of it."""
    r = run_process([VENV_BIN / "python", "-c", LOAD_WITH_DBT,
                     p.target_dir / "run_results.json"], p.dir)
    assert r.returncode == 0 and "loaded" in r.stdout, r.describe()
    state = tmp / "state"
    state.mkdir(exist_ok=True)
    for name in ("run_results.json", "manifest.json"):
        shutil.copyfile(p.target_dir / name, state / name)
    return state


def assert_reused_result(res: dict, node: dict, status: str) -> None:
    """orc's result for a node it reused: the reused status, orc's reason, no work done."""
    assert res["status"] == status, res
    assert res["message"] == "Reused: " + node["reason"], (res, node)
    assert res["thread_id"] == ORC_THREAD_ID, res
    assert res["timing"] == [] and res["execution_time"] == 0, res
    assert res["adapter_response"] == {} and res["failures"] is None, res
    assert res["compiled"] is None and res["compiled_code"] is None, res


# --- a second run that reuses most --------------------------------------------------------

def test_second_run_records_what_dbt_built_and_what_orc_reused(project: Project, tmp_path):
    p = project
    add_exposure(p)
    d, results, doc = orc_build(p)
    assert set(results) == set(d) | {EXPOSURE}, set(results) ^ (set(d) | {EXPOSURE})
    assert all(n["decision"] == "build" for n in d.values())
    assert all(r["thread_id"] != ORC_THREAD_ID for r in results.values()), "all dbt's"
    assert results[EXPOSURE]["status"] == "no-op", results[EXPOSURE]  # recorded by dbt
    first_invocation = doc["metadata"]["invocation_id"]
    dbt_version = doc["metadata"]["dbt_version"]
    status = reused_status(dbt_version)

    # New payments only: fct_payments and what reads it are built, most of the rest reused.
    p.add_source_rows("payments")
    d, results, doc = orc_build(p)
    built = {u for u, n in d.items() if n["decision"] == "build"}
    reused = {u for u, n in d.items() if n["decision"] == "reuse"}
    assert FCT_PAYMENTS in built and {STG_ORDERS, FCT_ORDERS, DAILY_REVENUE} <= reused, d
    assert len(reused) > len(built), (len(reused), len(built))

    # One result per selected node: dbt's for what it built, orc's for what orc reused.
    assert set(results) == set(d) | {EXPOSURE}, set(results) ^ (set(d) | {EXPOSURE})
    for u in built:
        assert results[u]["thread_id"] != ORC_THREAD_ID, results[u]
        assert results[u]["status"] in ("success", "pass"), results[u]
    for u in reused:
        assert_reused_result(results[u], d[u], status)
    assert results[FCT_ORDERS]["relation_name"] == '"warehouse"."main"."fct_orders"'
    assert results[EXPOSURE]["status"] == "no-op" and \
        results[EXPOSURE]["thread_id"] != ORC_THREAD_ID, results[EXPOSURE]

    # dbt's metadata and args stay dbt's; the first run's results are gone.
    meta = doc["metadata"]
    assert meta["dbt_version"] == dbt_version and UUID.match(meta["invocation_id"]), meta
    assert meta["invocation_id"] != first_invocation
    assert doc["args"]["which"] == "build" and doc["elapsed_time"] > 0, doc["args"]

    # dbt reads the file: its loader, its schema, and result: selectors on it.
    state = assert_dbt_loads(p, tmp_path)
    r = p.dbt("ls", "--select", f"result:{status}", "--state", state, "--resource-type",
              "model", "--output", "name", "--quiet")
    assert r.returncode == 0, r.describe()
    assert set(r.stdout.split()) == {u.split(".")[-1] for u in reused if u.startswith("model.")}
    # The truth rules of is_warn are unchanged: no warning, none reported.
    assert p.orc("orchestra", "is_warn", target=False).stdout.strip() == "SUCCEEDED"


# --- a run with nothing to build ----------------------------------------------------------

def test_nothing_to_build_writes_reused_results_with_dbt_like_metadata(project: Project,
                                                                        tmp_path):
    p = project
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    add_exposure(p)
    sel = ["--select", "+exposure:revenue_dashboard", "--indirect-selection", "cautious"]
    d, results, first = orc_build(p, *sel)
    assert DAILY_REVENUE in d and EXPOSURE in results
    status = reused_status(first["metadata"]["dbt_version"])

    d, results, doc = orc_build(p, *sel)
    assert d and all(n["decision"] == "reuse" for n in d.values()), d
    assert p.decisions()["run_command"] is None, "dbt was not started"
    assert set(results) == set(d) | {EXPOSURE}, set(results) ^ (set(d) | {EXPOSURE})
    for u in d:
        assert_reused_result(results[u], d[u], status)
    assert d[DAILY_REVENUE]["reason_code"] == "no_new_data"
    assert results[DAILY_REVENUE]["message"] == \
        "Reused: no new upstream data since the last build"
    # The exposure as dbt's exposure runner records it.
    assert {k: results[EXPOSURE][k] for k in ("status", "message", "failures")} == \
        {"status": "no-op", "message": "NO-OP", "failures": 0}, results[EXPOSURE]

    meta = doc["metadata"]
    assert meta["dbt_schema_version"] == "https://schemas.getdbt.com/dbt/run-results/v6.json"
    assert meta["dbt_version"] == installed_dbt_version() == first["metadata"]["dbt_version"]
    assert UUID.match(meta["invocation_id"]), meta
    assert meta["invocation_id"] != first["metadata"]["invocation_id"]
    assert meta["generated_at"] and meta["invocation_started_at"], meta
    assert doc["args"]["which"] == "build", doc["args"]
    assert doc["args"]["invocation_command"].startswith("orc dbt build --select"), doc["args"]

    state = assert_dbt_loads(p, tmp_path)
    r = p.dbt("ls", "--select", f"result:{status}", "--state", state, "--output", "name",
              "--quiet", "--resource-type", "model")
    assert r.returncode == 0, r.describe()
    assert set(r.stdout.split()) == {u.split(".")[-1] for u in d if u.startswith("model.")}
    assert p.orc("orchestra", "is_warn", target=False).stdout.strip() == "SUCCEEDED"


# --- the opt-out --------------------------------------------------------------------------

def test_opt_out_keeps_only_what_dbt_ran(project: Project):
    p = project
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True,
                   reused_in_run_results=False)
    add_exposure(p)
    orc_build(p)
    p.add_source_rows("payments")
    d, results, _ = orc_build(p)
    built = {u for u, n in d.items() if n["decision"] == "build"}
    assert built and len(built) < len(d)
    assert set(results) == built, set(results) ^ built
    assert all(r["thread_id"] != ORC_THREAD_ID for r in results.values())

    # Nothing to build, the variable turning it off over a pyproject that turns it on.
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    d, results, doc = orc_build(p, "--select", "+daily_revenue",
                                env={"ORCHESTRA_REUSED_IN_RUN_RESULTS": "false"})
    assert d and all(n["decision"] == "reuse" for n in d.values()), d
    assert p.decisions()["run_command"] is None
    assert doc["results"] == [], doc["results"]
