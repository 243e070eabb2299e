#!/usr/bin/env python3
"""End-to-end benchmark: plain `dbt build`, `orc dbt build` (ours) and the reference's
`orc dbt build` (dbt-orchestra 1.5.0 in .venv-orchestra15) on the tutorial project, stateful with a local state file, on DuckDB and on
PostgreSQL (E2E_TARGETS, default "duckdb,postgres"; PostgreSQL from scripts/pg.sh).
Writes bench/out/e2e.json (read by report.py).

Each tool gets its own scratch copy of tutorial/ (identical files), its own DuckDB file and
its own state file, both configured the same way in a pyproject.toml of the copy
([tool.orchestra_dbt] use_stateful = true, state_file = ".orchestra/state.json").

Scenarios, each timed E2E_RUNS times (default 3; min and median reported):
  first run          empty state, fresh raw tables (reset before each run, not timed)
  nothing changed    right after a successful run, again
  one source changed rows inserted into shop.orders before each run (not timed)

Counted per timed run:
  dbt processes      orc: from `dbt_processes` in its orc_decisions.json (orc runs dbt's own
                     Python with its driver, so a shell wrapper would force the fallback);
                     plain dbt: 1; reference: a `dbt` wrapper first on PATH logs every start
  dbt invocations    "Running with dbt=" lines added to the copy's logs/dbt.log: every dbt
                     invocation, including the reference's in-process dbtRunner calls
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
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
RUNS = int(os.environ.get("E2E_RUNS", "3"))
# The reference end to end: the latest dbt-orchestra (1.5.0), in the venv the compatibility
# tests use (requirements-orchestra15.txt); E2E_REF_VENV overrides.
REF_VENV = Path(os.environ.get("E2E_REF_VENV", ROOT / ".venv-orchestra15"))


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  bench-e2e: {msg}", file=sys.stderr, flush=True)


class Tool:
    def __init__(self, name: str, command: list[str], venv_bin: Path, work: Path, target: str,
                 wrapper: bool = True):
        """`command` + ["build", target args] is what is timed; `wrapper`: count dbt
        processes with a logging `dbt` wrapper on PATH (else from orc's record)."""
        self.name, self.command, self.venv_bin, self.target = name, command, venv_bin, target
        self.use_wrapper = wrapper
        base = work / f"{name}-{target}"
        self.dir = base / "tutorial"
        self.wrapper_dir = base / "wrapper"
        self.proc_log = base / "dbt_processes.log"
        self.db = base / "tutorial.duckdb"
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
        if self.dir.parent.exists():
            shutil.rmtree(self.dir.parent)
        shutil.copytree(ROOT / "tutorial", self.dir, ignore=shutil.ignore_patterns(
            "target", "logs", "dbt_packages", "*.duckdb", "*.duckdb.wal", ".user.yml"))
        (self.dir / "pyproject.toml").write_text(
            '[tool.orchestra_dbt]\nuse_stateful = true\nstate_file = ".orchestra/state.json"\n')
        self.wrapper_dir.mkdir(parents=True)
        w = self.wrapper_dir / "dbt"
        w.write_text('#!/bin/sh\n# counts dbt processes for the benchmark\n'
                     'printf "%s" "$*" | tr "\\n" " " >> "$BENCH_DBT_LOG"\n'
                     'echo >> "$BENCH_DBT_LOG"\nexec "$BENCH_REAL_DBT" "$@"\n')
        w.chmod(0o755)
        self.dbt(["deps", "-q"])

    def dbt(self, args: list[str]) -> None:
        """A dbt command for preparation (not timed, not counted)."""
        if args[0] != "deps":
            args = args + self.target_args
        r = subprocess.run([str(self.venv_bin / "dbt")] + args, cwd=self.dir, env=self.env(),
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{self.name}: dbt {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")

    def reset(self) -> None:
        """Fresh warehouse and empty state (scenario "first run")."""
        for p in (self.db, Path(str(self.db) + ".wal")):
            if p.exists():
                p.unlink()
        if self.target == "postgres":
            subprocess.run(["psql", "-q", "-c", f"drop schema if exists {self.pg_schema} cascade; "
                            f"drop schema if exists {self.pg_schema}_raw cascade"],
                           env=self.env(), check=True, capture_output=True)
        self.dbt(["run-operation", "setup_raw", "-q"])
        state = self.dir / ".orchestra" / "state.json"
        state.parent.mkdir(exist_ok=True)
        state.write_text('{"state": {}}\n')

    def dbt_log_count(self) -> int:
        f = self.dir / "logs" / "dbt.log"
        if not f.exists():
            return 0
        return f.read_text(errors="replace").count("Running with dbt=")

    def timed_build(self) -> dict:
        self.proc_log.write_text("")
        before_inv = self.dbt_log_count()
        rr = self.dir / "target" / "run_results.json"
        start_wall = time.time()
        t = time.perf_counter()
        r = subprocess.run(self.command + ["build"] + self.target_args, cwd=self.dir,
                           env=self.env(),
                           capture_output=True, text=True)
        wall = time.perf_counter() - t
        procs = [l for l in self.proc_log.read_text().splitlines() if l.strip()]
        record = self.dir / "target" / "orc_decisions.json"
        if not self.use_wrapper and record.exists() and record.stat().st_mtime >= start_wall - 1:
            procs = [f"[{p['mode']}] " + "; ".join(p["invocations"])
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
                "dbt_commands": procs, "dbt_invocations": self.dbt_log_count() - before_inv,
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
    runs = []
    for i in range(RUNS):
        if name == "first run":
            tool.reset()
        elif name == "nothing changed" and i == 0:
            tool.reset()
            tool.timed_build()  # the run that leaves everything up to date
        elif name == "one source changed":
            if i == 0:
                tool.reset()
                tool.timed_build()
            tool.dbt(["run-operation", "add_raw_rows", "--args", "{table: orders}", "-q"])
        r = tool.timed_build()
        log(f"{tool.name} / {name} / {tool.target} #{i + 1}: {r['wall_s']:.2f} s, rc {r['rc']}, "
            f"{r['dbt_processes']} dbt processes, {r['dbt_invocations']} dbt invocations, "
            f"built {r['built']} + {r['tests']} tests")
        runs.append(r)
    return runs


def main() -> int:
    orc_bin = os.environ.get("ORC_BIN", str(ROOT / "build" / "orc"))
    work = Path(os.environ.get("E2E_WORKDIR") or tempfile.mkdtemp(prefix="orc_bench_e2e_"))
    targets = os.environ.get("E2E_TARGETS", "duckdb,postgres").split(",")
    if "postgres" in targets:
        pg = subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "start"], capture_output=True,
                            text=True, check=True).stdout
        for assignment in pg.replace("export", "").split():
            k, _, v = assignment.partition("=")
            os.environ[k] = v
    tools = []
    for target in targets:
        tools += [Tool("dbt", [str(ROOT / ".venv" / "bin" / "dbt")], ROOT / ".venv" / "bin", work,
                       target, wrapper=False),
                  Tool("orc", [orc_bin, "dbt"], ROOT / ".venv" / "bin", work, target,
                       wrapper=False),
                  Tool("reference", [str(REF_VENV / "bin" / "orc"), "dbt"], REF_VENV / "bin",
                       work, target)]
    for t in tools:
        t.setup()
    names = ["first run", "nothing changed", "one source changed"]
    result = {"scenarios": [], "runs_per_scenario": RUNS, "workdir": str(work), "orc_bin": orc_bin,
              "date": time.strftime("%Y-%m-%d %H:%M"),
              "description": (
                  "Each tool works on its own copy of tutorial/ (same files), its own database "
                  "(DuckDB file, or PostgreSQL schema) "
                  "and its own local state file, configured by the same pyproject.toml "
                  "([tool.orchestra_dbt] use_stateful = true). *dbt* is plain `dbt build` (no "
                  "state: everything every time). Wall = the whole process, "
                  f"min / median of {RUNS} runs. *dbt processes*: orc's from `dbt_processes` in "
                  "its orc_decisions.json; the reference's from a `dbt` wrapper on PATH; the "
                  "reference also invokes dbt "
                  "in-process through dbtRunner (`dbt ls`, `dbt source freshness`), counted in "
                  "*dbt invocations* from the \"Running with dbt=\" lines of logs/dbt.log. "
                  "*Nodes built*: results in run_results.json that ran.")}
    for target in targets:
        for name in names:
            row = {"name": f"{name} ({target})"}
            for t in tools:
                if t.target != target:
                    continue
                try:
                    row[t.name] = summarize(scenario(t, name))
                except Exception as e:  # a tool that cannot run is reported, not fatal
                    log(f"{t.name} / {name}: {e}")
                    row[t.name] = {"error": str(e)[-1500:]}
            result["scenarios"].append(row)
            OUT.mkdir(exist_ok=True)
            (OUT / "e2e.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
