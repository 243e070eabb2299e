#!/usr/bin/env python3
"""`make bench`, CI part (issue 34): a CI run after one model edit on the generated 1,000-model
project, three ways, side by side in one run.

Production (target `duckdb`, schema main) is built first with orc, and its artifacts kept. A
branch edits one staging model (about 5 % of the models downstream). Then, each from the same
warehouse file and state (copied fresh for each), a CI run for target `ci` (schema ci, same
DuckDB file, same raw tables):

  plain        dbt build --target ci                                  (everything)
  slim CI      dbt build --target ci --select state:modified+ --defer --state <prod artifacts>
  orc          orc dbt build --target ci --reuse-from duckdb

then, for slim CI and orc, the branch's next push (the same model edited again) on what
their first run left.

Measured: wall time, nodes dbt built (models, seeds, snapshots with status success), nodes
orc cloned, tests run, and whether the CI schema holds every model afterwards (slim CI's does
not: it builds only the modified models and defers the rest to production). Results go to
stdout and bench/results_ci.md.

Knobs: CI_MODELS (default 1000), CI_RUNS (default 1: every variant once), CI_LOGS (a
directory: each CI run's output is kept there).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import gen_dbt_project  # noqa: E402
from bench_e2e import edited_sql  # noqa: E402

VENV_BIN = Path(os.environ.get("VENV", ROOT / ".venv")).resolve() / "bin"
ORC = os.environ.get("ORC_BIN", str(ROOT / "build" / "orc"))


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  bench-ci: {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], cwd: Path, env: dict, name: str = "") -> float:
    """Runs `cmd`; returns its wall time. A failure stops the benchmark with its output. With
    CI_LOGS set, the output goes to `$CI_LOGS/<name>.log` too (orc's lines are timestamped:
    where a run's time goes)."""
    start = time.monotonic()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.monotonic() - start
    if os.environ.get("CI_LOGS") and name:
        logs = Path(os.environ["CI_LOGS"])
        logs.mkdir(parents=True, exist_ok=True)
        slug = "".join(c if c.isalnum() else "_" for c in name)
        (logs / f"{slug}.log").write_text(f"$ {' '.join(cmd)}\n{r.stdout}{r.stderr}"
                                          f"\nwall {took:.1f} s\n")
    if r.returncode != 0:
        sys.exit(f"bench-ci: {' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-3000:]}"
                 f"\n{r.stderr[-2000:]}")
    return took


def prepare(work: Path, models: int) -> tuple[Path, dict]:
    """The generated project with a `ci` output and sources that read the production raw
    schema from any target."""
    project = work / "project"
    meta = gen_dbt_project.generate(models, str(project))
    profiles = project / "profiles.yml"
    profiles.write_text(profiles.read_text() + (
        "    ci:\n      type: duckdb\n"
        "      path: \"{{ env_var('ORC_DUCKDB_PATH', 'orc_bench.duckdb') }}\"\n"
        "      schema: ci\n      threads: 4\n"))
    sources = project / "models" / "staging" / "sources.yml"
    sources.write_text(sources.read_text().replace('"{{ target.schema }}_raw"', "main_raw"))
    return project, meta


def ci_schema(warehouse: Path) -> set[str]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {n for (n,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'ci'"
        ).fetchall()}
    finally:
        con.close()


def counts(project: Path) -> dict:
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    built = sum(1 for r in results if r["unique_id"].split(".")[0] in ("model", "seed", "snapshot")
                and r["status"] == "success" and not (r.get("message") or "").startswith(
                    ("Reused", "Cloned")))
    tests = sum(1 for r in results if r["unique_id"].startswith("test.")
                and r["status"] in ("pass", "fail", "error", "warn")
                and not (r.get("message") or "").startswith(("Reused", "Cloned")))
    out = {"built": built, "tests_run": tests, "cloned": 0}
    decisions = project / "target" / "orc_decisions.json"  # target/ is fresh for each run
    if decisions.exists():
        d = json.loads(decisions.read_text())
        out["cloned"] = sum(1 for n in d["nodes"] if n["decision"] == "clone"
                            and n["resource_type"] in ("model", "seed"))
    return out


def measure(project: Path, ci_warehouse: Path, models_total: int) -> dict:
    """What a CI run left: counts() of its results, the CI schema's relations and whether
    they are every model."""
    relations = len(ci_schema(ci_warehouse))
    return {**counts(project), "relations": relations, "complete": relations >= models_total}


def main() -> int:
    models = int(os.environ.get("CI_MODELS", "1000"))
    runs = int(os.environ.get("CI_RUNS", "1"))
    with tempfile.TemporaryDirectory(prefix="orc-bench-ci-") as tmp:
        work = Path(tmp)
        project, meta = prepare(work, models)
        warehouse = work / "prod.duckdb"
        env = dict(os.environ, PATH=f"{VENV_BIN}:{os.environ['PATH']}",
                   DBT_PROFILES_DIR=str(project), ORC_DUCKDB_PATH=str(warehouse),
                   DBT_SEND_ANONYMOUS_USAGE_STATS="false")
        log(f"{meta['models']} models; production build with orc")
        run([str(VENV_BIN / "dbt"), "run-operation", "setup_raw"], project, env)
        prod_seconds = run([ORC, "dbt", "build"], project, env)
        artifacts = work / "prod-artifacts"
        artifacts.mkdir()
        shutil.copy(project / "target" / "manifest.json", artifacts / "manifest.json")
        state = project / ".orchestra" / "state.json"
        saved_state = work / "prod-state.json"
        shutil.copy(state, saved_state)
        edit = project / meta["edit_model"]
        original_sql = edit.read_text()
        edit.write_text(edited_sql(original_sql, 1))
        models_total = meta["models"]

        variants = {
            "plain dbt build": [str(VENV_BIN / "dbt"), "build", "--target", "ci"],
            "slim CI (state:modified+ --defer)": [
                str(VENV_BIN / "dbt"), "build", "--target", "ci", "--select", "state:modified+",
                "--defer", "--state", str(artifacts)],
            "orc --reuse-from": [ORC, "dbt", "build", "--target", "ci", "--reuse-from", "duckdb"],
        }
        rows = []
        for name, cmd in variants.items():
            walls = []
            for i in range(runs):
                # Same file name in a directory of its own: DuckDB names the database after
                # the file, and production's relations are `prod.main.*` in every copy.
                ci_warehouse = work / f"ci-{len(rows)}-{i}" / warehouse.name
                ci_warehouse.parent.mkdir()
                shutil.copy(warehouse, ci_warehouse)
                shutil.copy(saved_state, state)
                shutil.rmtree(project / "target", ignore_errors=True)
                log(f"{name} (run {i + 1})")
                walls.append(run(cmd, project, env | {"ORC_DUCKDB_PATH": str(ci_warehouse)},
                                 f"{name} {i + 1}"))
                c = measure(project, ci_warehouse, models_total)
            rows.append({"variant": name, "wall_s": min(walls), **c})
            if name == "plain dbt build":
                continue
            # The branch's next push: the same model edited again, run on what the first run
            # left (slim CI selects and builds state:modified+ again; orc reuses its clones).
            edit.write_text(edited_sql(original_sql, 2))
            shutil.rmtree(project / "target", ignore_errors=True)
            log(f"{name}, next push")
            wall = run(cmd, project, env | {"ORC_DUCKDB_PATH": str(ci_warehouse)},
                       f"{name} next push")
            c = measure(project, ci_warehouse, models_total)
            rows.append({"variant": f"{name}, next push", "wall_s": wall, **c})
            edit.write_text(edited_sql(original_sql, 1))

    plain = rows[0]["wall_s"]
    slim = rows[1]["wall_s"]  # rows: plain, slim, slim next push, orc, orc next push
    lines = [
        "# CI run after one model edit (bench/bench_ci.py)",
        "",
        f"Generated project: {models_total} models ({meta['edit_model']} edited, "
        f"{meta['edit_model_downstream']} models downstream); production built with orc in "
        f"{prod_seconds:.1f} s. DuckDB, 4 threads, one run per variant, measured in one run. "
        "*next push*: the same model edited again, run on the CI schema and state the "
        "variant's first run left.",
        "",
        "| variant | wall (s) | × plain | × slim CI | models built | cloned | tests run | "
        "CI schema complete |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['wall_s']:.1f} | {r['wall_s'] / plain:.2f} | "
                     f"{r['wall_s'] / slim:.2f} | {r['built']} | {r['cloned']} | "
                     f"{r['tests_run']} | {'yes' if r['complete'] else 'no'} "
                     f"({r['relations']} relations) |")
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "bench" / "results_ci.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
