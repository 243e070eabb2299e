#!/usr/bin/env python3
"""End-to-end benchmark: plain `dbt build`, `orc dbt build` (ours) and the reference's
`orc dbt build` (dbt-orchestra 1.5.0 in .venv-orchestra15), side by side on several dbt
projects, stateful with a local state file. Writes bench/out/e2e.json (read by report.py).

Projects (one timing and counting code path for all):
  tutorial           tutorial/, on each target of E2E_TARGETS (default "duckdb,postgres";
                     PostgreSQL from scripts/pg.sh)
  generated M        runnable DuckDB projects of M models from gen_dbt_project.py, for each
                     M of E2E_SIZES (default "200,1000"; 3000 is opt-in; "" for none)

Each tool gets its own scratch copy of the project (identical files), its own database and
its own state file, configured the same way in a pyproject.toml of the copy
([tool.orchestra_dbt] use_stateful = true, state_file = ".orchestra/state.json").

Scenarios, run in this order by every tool, each timed E2E_RUNS times (default 3; min and
median reported); each starts from what the tool's previous timed run left:
  first run          empty state, fresh raw tables (reset before each run, not timed)
  nothing changed    right after a successful run, again
  one source changed a row appended to one raw table before each run (not timed): the
                     tutorial's shop.orders, the generated project's `change_source`
  one model edited   one staging model's SQL edited before each run (not timed): wrapped in
                     `select *, <run number> as orc_bench_edit from (...)`, a semantic edit,
                     so it and its descendants must rebuild (the tutorial's stg_orders, the
                     generated project's `edit_model`)

Counted per timed run:
  dbt processes      orc: from `dbt_processes` in its orc_decisions.json (orc runs dbt's own
                     Python with its driver, so a shell wrapper would force the fallback);
                     plain dbt: 1; reference: a `dbt` wrapper first on PATH logs every start
  dbt invocations    "Running with dbt=" lines in the copy's logs/dbt.log* (cleared before
                     each timed run): every dbt invocation, including the reference's
                     in-process dbtRunner calls
  nodes built        results in target/run_results.json that ran (status not "skipped"),
                     split into models/seeds/snapshots and tests
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
RUNS = int(os.environ.get("E2E_RUNS", "3"))
# The reference end to end: the latest dbt-orchestra (1.5.0), in the venv the compatibility
# tests use (requirements-orchestra15.txt); E2E_REF_VENV overrides.
REF_VENV = Path(os.environ.get("E2E_REF_VENV", ROOT / ".venv-orchestra15"))
SCENARIOS = ["first run", "nothing changed", "one source changed", "one model edited"]
sys.path.insert(0, str(BENCH))
import gen_dbt_project  # noqa: E402


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  bench-e2e: {msg}", file=sys.stderr, flush=True)


@dataclass
class Project:
    """A dbt project the benchmark runs: where its files are and what the scenarios change."""
    name: str                # "tutorial", "generated 1000"
    source: Path             # the project directory copied for each tool
    targets: list[str]       # dbt targets it runs on
    change_table: str        # raw table appended to in "one source changed"
    edit_model: str          # staging model file (relative) edited in "one model edited"
    meta: dict = field(default_factory=dict)  # gen_dbt_project's bench_project.json


def projects(work: Path) -> list[Project]:
    """The tutorial on E2E_TARGETS (if tutorial/ is there), then one generated DuckDB
    project per size of E2E_SIZES (generated under `work`)."""
    targets = [t for t in os.environ.get("E2E_TARGETS", "duckdb,postgres").split(",") if t]
    tutorial = ROOT / "tutorial"
    out = [Project("tutorial", tutorial, targets, "orders", "models/staging/stg_orders.sql")
           ] if targets and (tutorial / "dbt_project.yml").exists() else []
    for size in [int(x) for x in os.environ.get("E2E_SIZES", "200,1000").split(",") if x]:
        src = work / f"generated-{size}-src"
        meta = gen_dbt_project.generate(size, str(src))
        out.append(Project(f"generated {size}", src, ["duckdb"], meta["change_source"],
                           meta["edit_model"], meta))
    return out


def edited_sql(original: str, run: int) -> str:
    """A semantic edit of a model's SQL that differs for every `run`: the query wrapped so
    that it returns one more column."""
    return (f"select *, {run} as orc_bench_edit from (\n{original.rstrip()}\n"
            f") as orc_bench_edited\n")


class Tool:
    def __init__(self, name: str, command: list[str], venv_bin: Path, work: Path,
                 project: Project, target: str, wrapper: bool = True):
        """`command` + ["build", target args] is what is timed; `wrapper`: count dbt
        processes with a logging `dbt` wrapper on PATH (else from orc's record)."""
        self.name, self.command, self.venv_bin, self.target = name, command, venv_bin, target
        self.project = project
        self.use_wrapper = wrapper
        base = work / project.name.replace(" ", "-") / f"{name}-{target}"
        self.dir = base / "project"
        self.wrapper_dir = base / "wrapper"
        self.proc_log = base / "dbt_processes.log"
        self.db = base / "bench.duckdb"
        self.pg_schema = f"orc_bench_{name}"
        self.target_args = ["--target", target]

    def env(self) -> dict:
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("ORCHESTRA_") or k.startswith("DBT_"):
                del env[k]
        env.update({
            "PATH": (f"{self.wrapper_dir}:" if self.use_wrapper else "")
                    + f"{self.venv_bin}:{env.get('PATH', '')}",
            "DBT_PROFILES_DIR": str(self.dir), "ORC_DUCKDB_PATH": str(self.db),
            "BENCH_DBT_LOG": str(self.proc_log), "BENCH_REAL_DBT": str(self.venv_bin / "dbt"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "NO_COLOR": "1",
            "ORC_PG_SCHEMA": self.pg_schema,
        })
        return env

    def setup(self) -> None:
        """A fresh copy of the project with orc's configuration, the counting wrapper and
        its packages."""
        if self.dir.parent.exists():
            shutil.rmtree(self.dir.parent)
        shutil.copytree(self.project.source, self.dir, ignore=shutil.ignore_patterns(
            "target", "logs", "dbt_packages", "*.duckdb", "*.duckdb.wal", ".user.yml"))
        gen_dbt_project.write_orc_config(self.dir)
        self.original_edit_sql = (self.dir / self.project.edit_model).read_text()
        self.wrapper_dir.mkdir(parents=True)
        w = self.wrapper_dir / "dbt"
        w.write_text('#!/bin/sh\n# counts dbt processes for the benchmark\n'
                     'printf "%s" "$*" | tr "\\n" " " >> "$BENCH_DBT_LOG"\n'
                     'echo >> "$BENCH_DBT_LOG"\nexec "$BENCH_REAL_DBT" "$@"\n')
        w.chmod(0o755)
        if (self.dir / "packages.yml").exists():
            self.dbt(["deps", "-q"])

    def dbt(self, args: list[str]) -> None:
        """A dbt command for preparation (not timed, not counted)."""
        if args[0] != "deps":
            args = args + self.target_args
        r = subprocess.run(["nice", "-n", "10", str(self.venv_bin / "dbt")] + args, cwd=self.dir,
                           env=self.env(), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{self.name}: dbt {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")

    def reset(self) -> None:
        """Fresh warehouse, original SQL and empty state (scenario "first run")."""
        for p in (self.db, Path(str(self.db) + ".wal")):
            if p.exists():
                p.unlink()
        if self.target == "postgres":
            subprocess.run(["psql", "-q", "-c", f"drop schema if exists {self.pg_schema} cascade; "
                            f"drop schema if exists {self.pg_schema}_raw cascade"],
                           env=self.env(), check=True, capture_output=True)
        (self.dir / self.project.edit_model).write_text(self.original_edit_sql)
        self.dbt(["run-operation", "setup_raw", "-q"])
        gen_dbt_project.write_orc_config(self.dir)

    def change(self, scenario: str, run: int) -> None:
        """What `scenario` changes before its timed run number `run` (from 1), not timed."""
        if scenario == "one source changed":
            self.dbt(["run-operation", "add_raw_rows", "--args",
                      f"{{table: {self.project.change_table}}}", "-q"])
        elif scenario == "one model edited":
            (self.dir / self.project.edit_model).write_text(
                edited_sql(self.original_edit_sql, run))

    def dbt_log_invocations(self) -> int:
        """dbt invocations logged in logs/dbt.log* since clear_dbt_logs()."""
        return sum(f.read_text(errors="replace").count("Running with dbt=")
                   for f in (self.dir / "logs").glob("dbt.log*"))

    def clear_dbt_logs(self) -> None:
        """Removes logs/dbt.log* (dbt rotates it at 10 MB, so counts are taken from empty)."""
        for f in (self.dir / "logs").glob("dbt.log*"):
            f.unlink()

    def timed_build(self) -> dict:
        self.proc_log.write_text("")
        self.clear_dbt_logs()
        rr = self.dir / "target" / "run_results.json"
        start_wall = time.time()
        t = time.perf_counter()
        r = subprocess.run(["nice", "-n", "10"] + self.command + ["build"] + self.target_args,
                           cwd=self.dir, env=self.env(), capture_output=True, text=True)
        wall = time.perf_counter() - t
        procs = [l for l in self.proc_log.read_text().splitlines() if l.strip()]
        record = self.dir / "target" / "orc_decisions.json"
        if not self.use_wrapper and record.exists() and record.stat().st_mtime >= start_wall - 1:
            procs = [f"[{p['mode']}] " + "; ".join(i[:120] for i in p["invocations"])
                     for p in json.loads(record.read_text())["dbt_processes"]]
        elif not self.use_wrapper:
            procs = ["dbt build"]  # plain dbt: the one process timed
        built = tests = 0
        if rr.exists() and rr.stat().st_mtime >= start_wall - 1:
            for res in json.loads(rr.read_text())["results"]:
                if res["status"] == "skipped":
                    continue
                if res["unique_id"].split(".")[0] in ("test", "unit_test"):
                    tests += 1
                else:
                    built += 1
        return {"wall_s": wall, "rc": r.returncode, "dbt_processes": len(procs),
                "dbt_commands": procs, "dbt_invocations": self.dbt_log_invocations(),
                "built": built, "tests": tests,
                "output_tail": (r.stdout + r.stderr)[-1500:] if r.returncode else ""}


def summarize(runs: list[dict]) -> dict:
    walls = sorted(r["wall_s"] for r in runs)
    last = runs[-1]
    ok = all(r["rc"] == 0 for r in runs)
    return {"wall_s_min": walls[0], "wall_s_median": statistics.median(walls),
            "runs": len(runs), "all_ok": ok,
            "dbt_processes": last["dbt_processes"] if len({r["dbt_processes"] for r in runs}) == 1
            else "/".join(str(r["dbt_processes"]) for r in runs),
            "dbt_invocations": last["dbt_invocations"],
            "dbt_commands": last["dbt_commands"],
            "nodes_built": f"{last['built']} + {last['tests']} tests",
            "rc": [r["rc"] for r in runs],
            "failure": next((r["output_tail"] for r in runs if r["rc"]), "")}


def scenario(tool: Tool, name: str) -> list[dict]:
    """Times `name` RUNS times for `tool`; "first run" resets before each run, the others
    change what they change and build on from where the previous timed run left off."""
    runs = []
    for i in range(RUNS):
        if name == "first run":
            tool.reset()
        tool.change(name, i + 1)
        r = tool.timed_build()
        log(f"{tool.project.name} ({tool.target}) / {tool.name} / {name} #{i + 1}: "
            f"{r['wall_s']:.2f} s, rc {r['rc']}, {r['dbt_processes']} dbt processes, "
            f"{r['dbt_invocations']} dbt invocations, built {r['built']} + {r['tests']} tests")
        runs.append(r)
    return runs


def description() -> str:
    return ("Each tool works on its own copy of the project (same files), its own database "
            "(DuckDB file, or PostgreSQL schema) and its own local state file, configured by "
            "the same pyproject.toml ([tool.orchestra_dbt] use_stateful = true). *dbt* is "
            "plain `dbt build` (no state: everything every time). Scenarios run in order, "
            "each from what the previous one left: *first run* (empty state, fresh raw "
            "tables), *nothing changed*, *one source changed* (a row appended to one raw "
            "table), *one model edited* (one staging model's SQL wrapped in `select *, <n> as "
            "orc_bench_edit from (...)`). Wall = the whole process (under `nice -n 10`), "
            f"min / median of {RUNS} run{'s' if RUNS > 1 else ''}. *dbt processes*: orc's from `dbt_processes` in "
            "its orc_decisions.json; the reference's from a `dbt` wrapper on PATH; the "
            "reference also invokes dbt in-process through dbtRunner (`dbt ls`, `dbt source "
            "freshness`), counted in *dbt invocations* from the \"Running with dbt=\" lines "
            "of logs/dbt.log. *Nodes built*: results in run_results.json that ran "
            "(models/seeds/snapshots + tests).")


def main() -> int:
    orc_bin = os.environ.get("ORC_BIN", str(ROOT / "build" / "orc"))
    work = Path(os.environ.get("E2E_WORKDIR") or tempfile.mkdtemp(prefix="orc_bench_e2e_"))
    work.mkdir(parents=True, exist_ok=True)
    plist = projects(work)
    if any("postgres" in p.targets for p in plist):
        pg = subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "start"], capture_output=True,
                            text=True, check=True).stdout
        for assignment in pg.replace("export", "").split():
            k, _, v = assignment.partition("=")
            os.environ[k] = v
    result = {"projects": [], "runs_per_scenario": RUNS, "workdir": str(work),
              "orc_bin": orc_bin, "date": time.strftime("%Y-%m-%d %H:%M"),
              "description": description()}
    for project in plist:
        entry = {"name": project.name, "meta": project.meta, "change_table": project.change_table,
                 "edit_model": project.edit_model, "scenarios": []}
        result["projects"].append(entry)
        for target in project.targets:
            tools = [Tool("dbt", [str(ROOT / ".venv" / "bin" / "dbt")], ROOT / ".venv" / "bin",
                          work, project, target, wrapper=False),
                     Tool("orc", [orc_bin, "dbt"], ROOT / ".venv" / "bin", work, project, target,
                          wrapper=False),
                     Tool("reference", [str(REF_VENV / "bin" / "orc"), "dbt"], REF_VENV / "bin",
                          work, project, target)]
            for t in tools:
                t.setup()
            for name in SCENARIOS:
                row = {"name": name, "target": target}
                for t in tools:
                    try:
                        row[t.name] = summarize(scenario(t, name))
                    except Exception as e:  # a tool that cannot run is reported, not fatal
                        log(f"{project.name} / {t.name} / {name}: {e}")
                        row[t.name] = {"error": str(e)[-1500:]}
                entry["scenarios"].append(row)
                OUT.mkdir(exist_ok=True)
                (OUT / "e2e.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
